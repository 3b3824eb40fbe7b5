"""Organizations (tenants): registration with the first owner, read, update, soft delete."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from pivotal_runtime.errors import NotFound, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.resources import check_etag

from pivotal_identity.application import events, revocations
from pivotal_identity.application.auth import revoke_sessions
from pivotal_identity.application.common import (
    Deps,
    is_owner,
    locale,
    organization_of,
    password_rule,
    raise_violations,
    text,
    time_zone,
)
from pivotal_identity.application.users import ProfileInput, validate_profile
from pivotal_identity.domain import errors
from pivotal_identity.domain.model import (
    Organization,
    RevokeReason,
    User,
    UserOrigin,
    new_id,
)

ORGANIZATION_FIELDS = ("display_name", "currency_code", "time_zone", "locale", "region_code")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_REGION = re.compile(r"^[A-Z]{2}$")


@dataclass
class OrganizationInput:
    display_name: str = ""
    currency_code: str = ""
    time_zone: str = ""
    locale: str = ""
    region_code: str = ""


@dataclass
class Registration:
    organization: OrganizationInput
    owner: ProfileInput
    password: str = field(repr=False, default="")
    plan_code: str = ""
    request_id: str = ""


def validate_organization(v: ViolationCollector, data: OrganizationInput, prefix: str,
                          fields=ORGANIZATION_FIELDS) -> dict:
    values = {}
    if "display_name" in fields:
        values["display_name"] = text(v, f"{prefix}display_name", data.display_name,
                                      required=True, max_length=200)
    if "currency_code" in fields:
        currency = data.currency_code.strip() or "EUR"
        if not _CURRENCY.match(currency):
            v.add(f"{prefix}currency_code", "must be an ISO 4217 code such as EUR")
        values["currency_code"] = currency
    if "time_zone" in fields:
        values["time_zone"] = time_zone(v, f"{prefix}time_zone", data.time_zone) or "UTC"
    if "locale" in fields:
        values["locale"] = locale(v, f"{prefix}locale", data.locale) or "en"
    if "region_code" in fields:
        region = data.region_code.strip()
        if region and not _REGION.match(region):
            v.add(f"{prefix}region_code", "must be an ISO 3166-1 alpha-2 code such as DE")
        values["region_code"] = region
    return values


class OrganizationsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self, command: Registration) -> tuple[Organization, User]:
        deps = self._deps
        v = ViolationCollector()
        org_values = validate_organization(v, command.organization, "organization.")
        profile = validate_profile(v, command.owner, "owner.", require_email=True)
        rule = password_rule(v, deps, "password", command.password, profile["email"])
        if len(command.plan_code) > 64:
            v.add("plan_code", "must be at most 64 characters")
        raise_violations(v, rule)
        key = RequestKey("register", command.request_id,
                         fingerprint(org_values, profile, command.plan_code))
        def checks(uow) -> None:
            if uow.users.email_taken(profile["email"]):
                raise errors.email_taken()

        with deps.uow() as uow:
            existing = uow.requests.find_after(key, lambda: checks(uow))
            if existing:
                return self._registered(uow, existing)
        password_hash = deps.hasher.hash(command.password)
        now = deps.clock()
        with deps.uow() as uow:
            existing = uow.requests.reserve(key, now)
            if existing:
                return self._registered(uow, existing)
            organization = Organization(id=new_id(), create_time=now, update_time=now,
                                        **org_values)
            owner = User(id=new_id(), organization_id=organization.id,
                         origin=UserOrigin.ORGANIZATION_REGISTRATION, create_time=now,
                         update_time=now, role_ids=["owner"], password_hash=password_hash,
                         password_update_time=now, **profile)
            uow.organizations.add(organization)
            uow.users.add(owner)
            uow.requests.complete(key, organization.id)
            events.publish(uow, events.organization_created(organization, owner,
                                                            command.plan_code),
                           aggregate_id=organization.id, organization_id=organization.id)
            events.publish(uow, events.user_registered(owner), aggregate_id=owner.id,
                           organization_id=organization.id)
            events.publish(uow, events.role_assigned(owner, "owner", "Owner", "", now),
                           aggregate_id=owner.id, organization_id=organization.id)
            uow.commit()
        return organization, owner

    @staticmethod
    def _registered(uow, organization_id: str) -> tuple[Organization, User]:
        organization = uow.organizations.get(organization_id)
        users, _ = uow.users.list(organization_id, after=None, limit=200, state=None)
        owner = next(u for u in users if u.origin is UserOrigin.ORGANIZATION_REGISTRATION)
        return organization, owner

    def get(self, caller: Caller, organization_id: str) -> Organization:
        with self._deps.uow(read_only=True) as uow:
            if organization_id != caller.organization_id:
                raise NotFound("organization", organization_id)
            return organization_of(uow, caller)

    def update(self, caller: Caller, organization_id: str, data: OrganizationInput,
               paths: list[str], etag: str) -> Organization:
        deps = self._deps
        v = ViolationCollector()
        fields = paths.fields(ORGANIZATION_FIELDS)
        values = validate_organization(v, data, "organization.", fields)
        v.raise_if_any()
        now = deps.clock()
        with deps.uow() as uow:
            if organization_id != caller.organization_id:
                raise NotFound("organization", organization_id)
            organization = organization_of(uow, caller)
            check_etag(etag, organization.etag, f"organizations/{organization.id}")
            changed = [name for name, value in values.items()
                       if getattr(organization, name) != value]
            if changed:
                for name in changed:
                    setattr(organization, name, values[name])
                organization.touch(now)
                uow.organizations.update(organization)
                events.publish(uow, events.organization_updated(organization, changed,
                                                                caller.subject),
                               aggregate_id=organization.id, organization_id=organization.id)
                uow.after_commit(deps.organizations.invalidator(organization.id))
                uow.commit()
            return organization

    def delete(self, caller: Caller, organization_id: str, etag: str) -> None:
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            if organization_id != caller.organization_id:
                raise NotFound("organization", organization_id)
            if not is_owner(caller):
                raise errors.privilege_escalation(role_id="owner")
            organization = organization_of(uow, caller)
            check_etag(etag, organization.etag, f"organizations/{organization.id}")
            organization.delete(now, timedelta(days=deps.settings.organization_retention_days))
            uow.organizations.update(organization)
            sessions = uow.sessions.active_of_users(uow.users.ids_of_organization(organization.id))
            revoke_sessions(uow, sessions, RevokeReason.ORGANIZATION_DELETED, caller.subject, now)
            revocations.revoke_organization(uow, organization.id, "ORGANIZATION_DELETED", now)
            events.publish(uow, events.organization_deleted(organization, caller.subject),
                           aggregate_id=organization.id, organization_id=organization.id)
            uow.after_commit(deps.organizations.invalidator(organization.id))
            uow.commit()
