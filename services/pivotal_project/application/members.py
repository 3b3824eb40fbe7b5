"""Members of a project's team: add, get, list, update, remove; the allocation rule holds
across the person's open projects."""

from __future__ import annotations

from collections.abc import Callable

from pivotal_runtime.errors import AlreadyExists, NotFound
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.resources import check_etag
from pivotal_runtime.kit.updates import with_fields

from pivotal_project.application import events
from pivotal_project.application.common import Deps, page_in_memory, project_of
from pivotal_project.domain import reasons
from pivotal_project.domain.members import (
    UPDATABLE,
    Member,
    MemberFields,
    check_allocation,
    check_member,
)
from pivotal_project.domain.projects import Project

Parse = Callable[[str], MemberFields]


def _member(uow, project: Project, member_id: str, etag: str = "") -> Member:
    member = uow.members.get(project.organization_id, project.id, member_id)
    if member is None:
        raise NotFound("member", member_id)
    check_etag(etag, member.etag, member.resource)
    return member


class MembersService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def add(self, caller: Caller, project_id: str, parse: Parse, request_id: str = "",
            validate_only: bool = False) -> tuple[Project, Member]:
        """`parse(currency)` reads the member from the request, its rate in the project's
        currency."""
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            fields = parse(project.fields.currency_code).normalized()
            key = RequestKey(f"member:{caller.organization_id}:{project_id}", request_id,
                             fingerprint(fields))
            earlier = uow.requests.find(key)
            if earlier:
                return project, _member(uow, project, earlier)
            project.check_open()
            check_member(fields, project.fields)
            existing = uow.members.of_user(project.id, fields.user_id)
            if existing is not None:
                raise AlreadyExists(f"{fields.user_id} is already a member of the project",
                                    reason=reasons.MEMBER_ALREADY_EXISTS,
                                    metadata={"member_id": existing.id})
            check_allocation(fields.user_id, fields.allocation, uow.members.other_allocations(
                caller.organization_id, fields.user_id, ""))
            member = Member(self._deps.new_id(), caller.organization_id, project.id, fields,
                            now, now)
            if validate_only:
                return project, member
            uow.requests.reserve(key, now)
            member.revision = uow.projects.next_revision(project)
            uow.members.add(member)
            events.member_added(uow, project, member, caller.subject)
            uow.requests.complete(key, member.id)
            uow.commit()
        return project, member

    def get(self, caller: Caller, project_id: str, member_id: str) -> tuple[Project, Member]:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            return project, _member(uow, project, member_id)

    def list(self, caller: Caller, project_id: str, page_size: int, page_token: str,
             user_id: str, project_role: str) -> tuple[Project, list[Member], str, int]:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            members = [m for m in uow.members.of_project(project.id)
                       if (not user_id or m.fields.user_id == user_id)
                       and (not project_role
                            or m.fields.project_role.lower() == project_role.strip().lower())]
        return (project, *page_in_memory(members, page_size, page_token, project_id, user_id,
                                         project_role))

    def update(self, caller: Caller, project_id: str, member_id: str, parse: Parse,
               mask: UpdateMask, etag: str, validate_only: bool = False
               ) -> tuple[Project, Member]:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            fields = parse(project.fields.currency_code)
            member = _member(uow, project, member_id, etag)
            project.check_open()
            merged = with_fields(member.fields, fields, names).normalized()
            check_member(merged, project.fields)
            if "allocation" in names:
                check_allocation(merged.user_id, merged.allocation,
                                 uow.members.other_allocations(caller.organization_id,
                                                               merged.user_id, member.id))
            changed = member.change(merged, names, now)
            if changed and not validate_only:
                member.revision = uow.projects.next_revision(project)
                uow.members.update(member)
                events.member_updated(uow, project, member, changed, caller.subject)
                uow.commit()
        return project, member

    def remove(self, caller: Caller, project_id: str, member_id: str, etag: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            member = _member(uow, project, member_id, etag)
            project.check_open()
            uow.projects.next_revision(project)
            uow.members.delete(member)
            events.member_removed(uow, project, member, caller.subject)
            for task in uow.tasks.unassign_all(project.id, member.fields.user_id):
                previous = task.assign("", now)
                task.revision = project.revision
                uow.tasks.update(task)
                events.task_assigned(uow, project, task, previous or "", caller.subject)
            uow.commit()
