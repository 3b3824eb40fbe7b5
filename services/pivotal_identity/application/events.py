"""Domain objects → identity's event messages (never a secret in any of them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from pivotal.identity.v1 import events_pb2 as ev
from pivotal.identity.v1 import session_pb2, user_pb2

from pivotal_identity.domain.model import Invitation, Organization, Session, User


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def user_state(user: User) -> int:
    return user_pb2.UserState.Value(f"USER_STATE_{user.state.value}")


def publish(uow, message, *, aggregate_id: str, organization_id: str) -> None:
    uow.add_event(message, aggregate_id=aggregate_id, organization_id=organization_id)


def organization_created(org: Organization, owner: User, plan_code: str):
    return ev.OrganizationCreated(
        organization_id=org.id, display_name=org.display_name, owner_user_id=owner.id,
        owner_email=owner.email, plan_code=plan_code, currency_code=org.currency_code,
        time_zone=org.time_zone, locale=org.locale, region_code=org.region_code,
        create_time=ts(org.create_time), version=org.version)


def organization_updated(org: Organization, changed: Iterable[str], actor: str):
    return ev.OrganizationUpdated(
        organization_id=org.id, display_name=org.display_name, currency_code=org.currency_code,
        time_zone=org.time_zone, locale=org.locale, region_code=org.region_code,
        changed_fields=list(changed), actor_id=actor, update_time=ts(org.update_time),
        version=org.version)


def organization_deleted(org: Organization, actor: str):
    return ev.OrganizationDeleted(organization_id=org.id, actor_id=actor,
                                  delete_time=ts(org.delete_time), purge_time=ts(org.purge_time))


def user_registered(user: User, actor: str = "", invitation_id: str = ""):
    return ev.UserRegistered(
        organization_id=user.organization_id, user_id=user.id, email=user.email,
        given_name=user.given_name, family_name=user.family_name,
        display_name=user.display_name, role_ids=user.role_ids, state=user_state(user),
        origin=user_pb2.UserOrigin.Value(f"USER_ORIGIN_{user.origin.value}"),
        invitation_id=invitation_id, locale=user.locale, time_zone=user.time_zone,
        actor_id=actor, create_time=ts(user.create_time), version=user.version)


def user_updated(user: User, changed: Iterable[str], actor: str):
    return ev.UserUpdated(
        organization_id=user.organization_id, user_id=user.id, email=user.email,
        given_name=user.given_name, family_name=user.family_name,
        display_name=user.display_name, locale=user.locale, time_zone=user.time_zone,
        changed_fields=list(changed), actor_id=actor, update_time=ts(user.update_time),
        version=user.version)


def user_deactivated(user: User, actor: str, reason: str):
    return ev.UserDeactivated(organization_id=user.organization_id, user_id=user.id,
                              actor_id=actor, reason=reason,
                              deactivate_time=ts(user.update_time))


def user_reactivated(user: User, actor: str):
    return ev.UserReactivated(organization_id=user.organization_id, user_id=user.id,
                              actor_id=actor, state=user_state(user),
                              reactivate_time=ts(user.update_time))


def user_deleted(user: User, actor: str):
    return ev.UserDeleted(organization_id=user.organization_id, user_id=user.id,
                          actor_id=actor, delete_time=ts(user.delete_time))


def user_locked(user: User, failed_attempts: int, now: datetime, until: datetime):
    return ev.UserLocked(organization_id=user.organization_id, user_id=user.id,
                         failed_attempts=failed_attempts, lock_time=ts(now),
                         lock_expire_time=ts(until))


def role_assigned(user: User, role_id: str, role_name: str, actor: str, now: datetime):
    return ev.RoleAssigned(organization_id=user.organization_id, user_id=user.id,
                           role_id=role_id, role_display_name=role_name,
                           role_ids=user.role_ids, actor_id=actor, assign_time=ts(now))


def role_revoked(user: User, role_id: str, role_name: str, actor: str, now: datetime):
    return ev.RoleRevoked(organization_id=user.organization_id, user_id=user.id,
                          role_id=role_id, role_display_name=role_name,
                          role_ids=user.role_ids, actor_id=actor, revoke_time=ts(now))


def session_revoked(session: Session, actor: str):
    return ev.SessionRevoked(
        organization_id=session.organization_id, session_id=session.id,
        user_id=session.user_id,
        reason=session_pb2.SessionRevokeReason.Value(
            f"SESSION_REVOKE_REASON_{session.revoke_reason.value}"),
        actor_id=actor, revoke_time=ts(session.revoke_time))


def invitation_sent(invitation: Invitation, actor: str):
    return ev.InvitationSent(
        organization_id=invitation.organization_id, invitation_id=invitation.id,
        email=invitation.email, role_id=invitation.role_id,
        inviter_user_id=invitation.inviter_user_id, actor_id=actor,
        send_count=invitation.send_count, expire_time=ts(invitation.expire_time),
        send_time=ts(invitation.last_send_time))


def invitation_accepted(invitation: Invitation, user: User):
    return ev.InvitationAccepted(
        organization_id=invitation.organization_id, invitation_id=invitation.id,
        user_id=user.id, email=user.email, role_id=invitation.role_id,
        inviter_user_id=invitation.inviter_user_id, accept_time=ts(invitation.respond_time))
