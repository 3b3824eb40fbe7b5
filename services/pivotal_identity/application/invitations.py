"""Invitations: a one-time token (only its hash stored, expiring) mailed to the invitee, who
accepts it with a password or declines it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pivotal_runtime.errors import AlreadyExists, NotFound, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.paging import page_request
from pivotal_runtime.kit.resources import load_for_change

from pivotal_identity.application import events, mails
from pivotal_identity.application.common import (
    Deps,
    organization_of,
    password_rule,
    raise_violations,
    text,
)
from pivotal_identity.application.roles import check_can_grant, find_role
from pivotal_identity.application.users import ProfileInput, check_user_limit, validate_profile
from pivotal_identity.domain import errors
from pivotal_identity.domain.model import Invitation, InvitationState, User, UserOrigin, new_id
from pivotal_identity.domain.passwords import email_problem, normalize_email
from pivotal_identity.domain.tokens import hash_secret, new_secret


@dataclass
class InvitationInput:
    email: str = ""
    role_id: str = ""
    message: str = ""


@dataclass
class Lookup:
    invitation: Invitation
    organization_display_name: str
    role_display_name: str
    inviter_display_name: str


@dataclass
class Acceptance:
    token: str = field(repr=False, default="")
    password: str = field(repr=False, default="")
    profile: ProfileInput = field(default_factory=ProfileInput)


class InvitationsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _send(self, uow, invitation: Invitation, organization, inviter_name: str,
              role_name: str, actor: str, now: datetime) -> None:
        token = new_secret("pfi_")
        invitation.send(hash_secret(token), now,
                        timedelta(seconds=self._deps.settings.invitation_ttl_seconds))
        events.publish(uow, events.invitation_sent(invitation, actor),
                       aggregate_id=invitation.id, organization_id=invitation.organization_id)
        message = mails.invitation(self._deps.settings, organization, inviter_name, role_name,
                                   invitation.message, token)
        uow.after_commit(lambda: self._deps.mail.send(invitation.email, *message))

    def create(self, caller: Caller, data: InvitationInput, request_id: str) -> Invitation:
        deps = self._deps
        v = ViolationCollector()
        email = normalize_email(data.email)
        problem = email_problem(email)
        if problem:
            v.add("invitation.email", problem)
        v.require(bool(data.role_id.strip()), "invitation.role_id", "is required")
        note = text(v, "invitation.message", data.message, max_length=1000)
        v.raise_if_any()
        key = RequestKey(f"invitation:{caller.organization_id}", request_id,
                         fingerprint(email, data.role_id.strip(), note))
        now = deps.clock()
        with deps.uow() as uow:
            role = find_role(uow, caller.organization_id, data.role_id.strip())

            def checks() -> None:
                if role is None:
                    raise NotFound("role", data.role_id)
                check_can_grant(caller, role)
                if uow.users.email_taken(email):
                    raise errors.email_taken()
                if uow.invitations.pending_for(caller.organization_id, email, now):
                    raise AlreadyExists("a pending invitation for this email exists; resend "
                                        "it")

            existing = uow.requests.find_after(key, checks)
            if existing:
                return uow.invitations.get(caller.organization_id, existing)
        check_user_limit(deps, caller.organization_id, with_invitations=True)
        now = deps.clock()
        with deps.uow() as uow:
            existing = uow.requests.reserve(key, now)
            if existing:
                return uow.invitations.get(caller.organization_id, existing)
            organization = organization_of(uow, caller)
            inviter = uow.users.get(caller.organization_id, caller.subject)
            invitation = Invitation(
                id=new_id(), organization_id=caller.organization_id, email=email,
                role_id=role.id, inviter_user_id=caller.subject, expire_time=now,
                create_time=now, update_time=now, message=note)
            self._send(uow, invitation, organization,
                       inviter.display_name if inviter else organization.display_name,
                       role.display_name, caller.subject, now)
            invitation.version = 1
            uow.invitations.add(invitation)
            uow.requests.complete(key, invitation.id)
            uow.commit()
        return invitation

    def get(self, caller: Caller, invitation_id: str) -> Invitation:
        with self._deps.uow(read_only=True) as uow:
            return _invitation_of(uow, caller, invitation_id)

    def list(self, caller: Caller, page_size: int, page_token: str, state: InvitationState | None,
             email: str):
        page = page_request(page_size, page_token, state, email)
        with self._deps.uow(read_only=True) as uow:
            found, total = uow.invitations.list(
                caller.organization_id, state=state, email=normalize_email(email),
                after=page.after, limit=page.size + 1, now=self._deps.clock())
        found, token = page.slice(found, key=lambda item: (item.create_time, item.id))
        return found, token, total

    def resend(self, caller: Caller, invitation_id: str, etag: str) -> Invitation:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invitation = _invitation_of(uow, caller, invitation_id, etag)
            role = find_role(uow, caller.organization_id, invitation.role_id)
            inviter = uow.users.get(caller.organization_id, invitation.inviter_user_id)
            organization = organization_of(uow, caller)
            self._send(uow, invitation, organization,
                       inviter.display_name if inviter else organization.display_name,
                       role.display_name if role else invitation.role_id, caller.subject, now)
            uow.invitations.update(invitation)
            uow.commit()
            return invitation

    def revoke(self, caller: Caller, invitation_id: str, etag: str) -> Invitation:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invitation = _invitation_of(uow, caller, invitation_id, etag)
            if invitation.revoke(now):
                uow.invitations.update(invitation)
                uow.commit()
            return invitation

    def _by_token(self, uow, token: str, now: datetime) -> Invitation:
        invitation = uow.invitations.by_token_hash(hash_secret(token.strip())) \
            if token.strip() else None
        if invitation is None or not invitation.usable(now):
            raise errors.invitation_token_invalid()
        organization = uow.organizations.get(invitation.organization_id)
        if organization is None or not organization.active:
            raise errors.invitation_token_invalid()
        return invitation

    def lookup(self, token: str) -> Lookup:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invitation = self._by_token(uow, token, now)
            organization = uow.organizations.get(invitation.organization_id)
            role = find_role(uow, invitation.organization_id, invitation.role_id)
            inviter = uow.users.get(invitation.organization_id, invitation.inviter_user_id)
            return Lookup(invitation, organization.display_name,
                          role.display_name if role else invitation.role_id,
                          inviter.display_name if inviter else "")

    def accept(self, command: Acceptance) -> User:
        deps = self._deps
        v = ViolationCollector()
        v.require(bool(command.token.strip()), "token", "is required")
        profile = validate_profile(v, command.profile, "", require_email=False,
                                   fields=("given_name", "family_name", "display_name",
                                           "locale", "time_zone"))
        now = deps.clock()
        with deps.uow() as uow:
            invitation = self._by_token(uow, command.token, now) if command.token.strip() \
                else None
            email = invitation.email if invitation else ""
        rule = password_rule(v, deps, "password", command.password, email)
        raise_violations(v, rule)
        check_user_limit(deps, invitation.organization_id, with_invitations=False)
        password_hash = deps.hasher.hash(command.password)
        now = deps.clock()
        with deps.uow() as uow:
            invitation = self._by_token(uow, command.token, now)
            if uow.users.email_taken(invitation.email):
                raise errors.email_taken()
            # A custom role deleted since the invitation falls back to `member`.
            role = find_role(uow, invitation.organization_id, invitation.role_id)
            user = User(id=new_id(), organization_id=invitation.organization_id,
                        email=invitation.email, origin=UserOrigin.INVITATION, create_time=now,
                        update_time=now, role_ids=[role.id if role else "member"],
                        password_hash=password_hash, password_update_time=now, **profile)
            uow.users.add(user)
            invitation.accept(user.id, now)
            uow.invitations.update(invitation)
            events.publish(uow, events.invitation_accepted(invitation, user),
                           aggregate_id=invitation.id, organization_id=user.organization_id)
            events.publish(uow, events.user_registered(user, invitation_id=invitation.id),
                           aggregate_id=user.id, organization_id=user.organization_id)
            uow.commit()
            return user

    def decline(self, token: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invitation = self._by_token(uow, token, now)
            invitation.decline(now)
            uow.invitations.update(invitation)
            uow.commit()


def _invitation_of(uow, caller: Caller, invitation_id: str, etag: str | None = None) -> Invitation:
    """The caller's organization's invitation (NOT_FOUND otherwise); with `etag`, it must
    still be the current one."""
    return load_for_change(lambda found: uow.invitations.get(caller.organization_id, found),
                           caller.organization_id, "invitation", invitation_id, etag or "")
