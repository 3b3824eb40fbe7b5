"""Projects: create (by hand or from an accepted quote, within the plan's limit), get, list,
update, lifecycle, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.errors import ResourceExhausted
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.paging import page_request
from pivotal_runtime.kit.updates import with_fields

from pivotal_project.application import events
from pivotal_project.application.common import MAX_PROJECTS, Deps, project_of
from pivotal_project.domain import metrics as metrics_rules
from pivotal_project.domain.from_quote import AcceptedQuote, plan_from_quote
from pivotal_project.domain.members import (
    Member,
    MemberFields,
    check_allocation,
    check_member,
)
from pivotal_project.domain.projects import (
    UPDATABLE,
    Project,
    ProjectFields,
    ProjectState,
    check_project,
)
from pivotal_project.domain.tasks import Milestone, Task


@dataclass(frozen=True)
class QuoteCheck:
    """What the QuoteAccepted consumer learned before its transaction: the project exists
    already, or the plan refused one more (`refusal`), or it may be created."""

    exists: bool = False
    refusal: ResourceExhausted | None = None


class ProjectsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    # --- creation ---------------------------------------------------------------------------
    def _open_projects(self, organization_id: str) -> int:
        with self._deps.uow(read_only=True) as uow:
            _, total = uow.projects.list(
                organization_id, states=[s for s in ProjectState if s.open], customer_id="",
                source_quote_id="", member_user_id="", after=None, limit=0)
        return total

    def _check_limit(self, organization_id: str) -> None:
        """Billing's CheckEntitlement, before any transaction opens (RESOURCE_EXHAUSTED over
        the limit, UNAVAILABLE when billing does not answer in time)."""
        self._deps.entitlements.check(organization_id, MAX_PROJECTS,
                                      self._open_projects(organization_id))

    def create(self, caller: Caller, fields: ProjectFields, members: list[MemberFields],
               request_id: str = "") -> tuple[Project, list[Member]]:
        fields = fields.normalized()
        check_project(fields)
        members = [m.normalized() for m in members]
        for index, member in enumerate(members):
            check_member(member, fields, f"members[{index}]")
        key = RequestKey(f"project:{caller.organization_id}", request_id,
                         fingerprint(fields, members))
        with self._deps.uow(read_only=True) as uow:
            earlier = uow.requests.find(key)
            if earlier:
                project = uow.projects.get(caller.organization_id, earlier)
                return project, uow.members.of_project(project.id)
        self._check_limit(caller.organization_id)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                project = uow.projects.get(caller.organization_id, earlier)
                return project, uow.members.of_project(project.id)
            project = Project(self._deps.new_id(), caller.organization_id, fields, now, now,
                              creator_id=caller.subject)
            uow.projects.add(project)
            team = []
            for member_fields in members:
                check_allocation(member_fields.user_id, member_fields.allocation,
                                 uow.members.other_allocations(
                                     caller.organization_id, member_fields.user_id, ""))
                member = Member(self._deps.new_id(), caller.organization_id, project.id,
                                member_fields, now, now)
                uow.members.add(member)
                team.append(member)
            events.created(uow, project, team, [], caller.subject)
            uow.requests.complete(key, project.id)
            uow.commit()
        return project, team

    def check_quote(self, quote: AcceptedQuote) -> QuoteCheck:
        """The QuoteAccepted consumer's step outside the transaction: the plan's limit."""
        with self._deps.uow(read_only=True) as uow:
            if uow.projects.by_quote(quote.organization_id, quote.quote_id) is not None:
                return QuoteCheck(exists=True)
        try:
            self._check_limit(quote.organization_id)
        except ResourceExhausted as refusal:
            return QuoteCheck(refusal=refusal)
        return QuoteCheck()

    def create_from_quote(self, uow, quote: AcceptedQuote, check: QuoteCheck) -> None:
        """In the consumer's unit of work: one project per accepted quote, however often the
        event arrives (a unique index on the quote decides between concurrent copies)."""
        now = self._deps.clock()
        if check.exists:
            return
        if check.refusal is not None:
            events.creation_rejected(uow, quote.organization_id, quote.quote_id,
                                     quote.quote_number, check.refusal.reason,
                                     check.refusal.metadata.get("limit", ""),
                                     check.refusal.message, now)
            return
        plan = plan_from_quote(quote)
        project = Project(self._deps.new_id(), quote.organization_id, plan.fields, now, now,
                          source_quote_id=quote.quote_id,
                          source_quote_number=quote.quote_number)
        if not uow.projects.add_from_quote(project):
            return  # another copy of the event created it first
        tasks = [Task(self._deps.new_id(), project.organization_id, project.id, fields, now, now)
                 for fields in plan.tasks]
        for task in tasks:
            uow.tasks.add(task)
        for fields in plan.milestones:
            uow.milestones.add(Milestone(self._deps.new_id(), project.organization_id,
                                         project.id, fields, now, now))
        events.created(uow, project, [], tasks, "")

    # --- reads ------------------------------------------------------------------------------
    def get(self, caller: Caller, project_id: str) -> Project:
        with self._deps.uow(read_only=True) as uow:
            return project_of(uow, caller.organization_id, project_id)

    def list(self, caller: Caller, page_size: int, page_token: str, states: list[ProjectState],
             customer_id: str, source_quote_id: str, member_user_id: str
             ) -> tuple[list[Project], str, int]:
        page = page_request(page_size, page_token, sorted(s.value for s in states), customer_id,
                            source_quote_id, member_user_id)
        with self._deps.uow(read_only=True) as uow:
            found, total = uow.projects.list(
                caller.organization_id, states=states, customer_id=customer_id,
                source_quote_id=source_quote_id, member_user_id=member_user_id,
                after=page.after, limit=page.size + 1)
        found, token = page.slice(found, key=lambda p: (p.create_time, p.id))
        return found, token, total

    def metrics(self, caller: Caller, project_id: str) -> metrics_rules.Metrics:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            return metrics_rules.compute(project, uow.tasks.of_project(project.id),
                                         uow.milestones.of_project(project.id),
                                         uow.members.of_project(project.id),
                                         uow.actuals.of_project(project.id))

    # --- changes ----------------------------------------------------------------------------
    def update(self, caller: Caller, project_id: str, fields: ProjectFields, mask: UpdateMask,
               etag: str) -> Project:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, etag)
            mask.check_unchanged(project.fields, {"customer_id": fields.customer_id,
                                                  "currency_code": fields.currency_code},
                                 "project.")
            merged = with_fields(project.fields, fields, names).normalized()
            check_project(merged)
            changed = project.change(merged, names, now)
            if changed:
                uow.projects.update(project)
                events.updated(uow, project, changed, caller.subject)
                uow.commit()
        return project

    def move(self, caller: Caller, project_id: str, action: str, etag: str, reason: str
             ) -> Project:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, etag)
            transition = project.move(action, caller.subject, reason.strip(), now)
            uow.projects.update(project)
            events.state_changed(uow, project, transition)
            uow.commit()
        return project

    def record_actual(self, uow, organization_id: str, actual: metrics_rules.Actual) -> None:
        if uow.projects.get(organization_id, actual.project_id) is not None:
            uow.actuals.record(organization_id, actual)

