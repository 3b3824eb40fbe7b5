"""Domain objects ↔ identity's proto messages."""

from __future__ import annotations

from pivotal.identity.v1 import (
    invitation_pb2,
    mfa_pb2,
    organization_pb2,
    role_pb2,
    service_account_pb2,
    session_pb2,
    signing_key_pb2,
    user_pb2,
)

from pivotal_runtime.errors import FieldReason, FieldViolation, InvalidArgument

from pivotal_identity.application.events import ts
from pivotal_identity.application.invitations import InvitationInput
from pivotal_identity.application.organizations import OrganizationInput
from pivotal_identity.application.roles import RoleInput
from pivotal_identity.application.service_accounts import AccountInput
from pivotal_identity.application.users import ProfileInput
from pivotal_identity.domain import model
from pivotal_identity.domain.rbac import PermissionEntry


def _enum(enum_type, prefix: str, value) -> int:
    return enum_type.Value(f"{prefix}_{value.value}") if value is not None else 0


def enum_name(enum_type, number: int, prefix: str) -> str | None:
    """A proto enum number as the domain's value name, None for UNSPECIFIED."""
    if not number:
        return None
    return enum_type.Name(number).removeprefix(prefix + "_")


def one_state(enum_type, numbers, prefix: str) -> str | None:
    """The `states` filter of a List request as one domain value name (None: no filter).
    Identity's listings filter by one state at a time: several are INVALID_ARGUMENT."""
    names = sorted({enum_name(enum_type, n, prefix) for n in numbers} - {None})
    if len(names) > 1:
        raise InvalidArgument([FieldViolation(
            "states", "name at most one state", FieldReason.OUT_OF_RANGE)])
    return names[0] if names else None


def organization(o: model.Organization) -> organization_pb2.Organization:
    return organization_pb2.Organization(
        organization_id=o.id, display_name=o.display_name,
        state=_enum(organization_pb2.OrganizationState, "ORGANIZATION_STATE", o.state),
        currency_code=o.currency_code, time_zone=o.time_zone, locale=o.locale,
        region_code=o.region_code, create_time=ts(o.create_time), update_time=ts(o.update_time),
        delete_time=ts(o.delete_time), purge_time=ts(o.purge_time), etag=o.etag)


def organization_input(message: organization_pb2.Organization) -> OrganizationInput:
    return OrganizationInput(display_name=message.display_name,
                             currency_code=message.currency_code, time_zone=message.time_zone,
                             locale=message.locale, region_code=message.region_code)


def user(u: model.User) -> user_pb2.User:
    return user_pb2.User(
        user_id=u.id, organization_id=u.organization_id, email=u.email,
        given_name=u.given_name, family_name=u.family_name, display_name=u.display_name,
        locale=u.locale, time_zone=u.time_zone,
        state=_enum(user_pb2.UserState, "USER_STATE", u.state), role_ids=u.role_ids,
        mfa_enabled=u.mfa_enabled, origin=_enum(user_pb2.UserOrigin, "USER_ORIGIN", u.origin),
        last_login_time=ts(u.last_login_time), lock_expire_time=ts(u.lock_expire_time),
        password_update_time=ts(u.password_update_time), create_time=ts(u.create_time),
        update_time=ts(u.update_time), delete_time=ts(u.delete_time), etag=u.etag)


def profile_input(message: user_pb2.User) -> ProfileInput:
    return ProfileInput(email=message.email, given_name=message.given_name,
                        family_name=message.family_name, display_name=message.display_name,
                        locale=message.locale, time_zone=message.time_zone,
                        role_ids=list(message.role_ids))


def invitation(i: model.Invitation, now) -> invitation_pb2.Invitation:
    return invitation_pb2.Invitation(
        invitation_id=i.id, organization_id=i.organization_id, email=i.email,
        role_id=i.role_id, message=i.message,
        state=_enum(invitation_pb2.InvitationState, "INVITATION_STATE", i.state_at(now)),
        inviter_user_id=i.inviter_user_id, expire_time=ts(i.expire_time),
        send_count=i.send_count, last_send_time=ts(i.last_send_time),
        accepted_user_id=i.accepted_user_id, respond_time=ts(i.respond_time),
        create_time=ts(i.create_time), update_time=ts(i.update_time), etag=i.etag)


def invitation_input(message: invitation_pb2.Invitation) -> InvitationInput:
    return InvitationInput(email=message.email, role_id=message.role_id,
                           message=message.message)


def session(s: model.Session, current_session_id: str | None, now) -> session_pb2.Session:
    return session_pb2.Session(
        session_id=s.id, organization_id=s.organization_id, user_id=s.user_id,
        state=_enum(session_pb2.SessionState, "SESSION_STATE", s.state_at(now)),
        authentication_method=_enum(session_pb2.AuthenticationMethod, "AUTHENTICATION_METHOD",
                                    s.authentication_method),
        user_agent=s.user_agent, ip_address=s.ip_address, current=s.id == current_session_id,
        refresh_count=s.refresh_count, last_refresh_time=ts(s.last_refresh_time),
        expire_time=ts(s.expire_time), revoke_time=ts(s.revoke_time),
        revoke_reason=_enum(session_pb2.SessionRevokeReason, "SESSION_REVOKE_REASON",
                            s.revoke_reason),
        create_time=ts(s.create_time), update_time=ts(s.update_time), etag=s.etag)


def role(r: model.Role) -> role_pb2.Role:
    return role_pb2.Role(
        role_id=r.id, organization_id=r.organization_id, display_name=r.display_name,
        description=r.description, permissions=r.permissions, built_in=r.built_in,
        user_count=r.user_count, create_time=ts(r.create_time), update_time=ts(r.update_time),
        etag=r.etag if not r.built_in else "")


def role_input(message: role_pb2.Role) -> RoleInput:
    return RoleInput(display_name=message.display_name, description=message.description,
                     permissions=list(message.permissions))


def permission(entry: PermissionEntry) -> role_pb2.Permission:
    return role_pb2.Permission(name=entry.name, resource=entry.resource, action=entry.action,
                               description=entry.description, workload=entry.workload,
                               grantable=entry.grantable)


def service_account(a: model.ServiceAccount) -> service_account_pb2.ServiceAccount:
    return service_account_pb2.ServiceAccount(
        service_account_id=a.id, organization_id=a.organization_id,
        display_name=a.display_name, description=a.description, client_id=a.client_id,
        permissions=a.permissions,
        state=_enum(service_account_pb2.ServiceAccountState, "SERVICE_ACCOUNT_STATE", a.state),
        secret_create_time=ts(a.secret_create_time), last_use_time=ts(a.last_use_time),
        create_time=ts(a.create_time), update_time=ts(a.update_time),
        delete_time=ts(a.delete_time), etag=a.etag)


def account_input(message: service_account_pb2.ServiceAccount) -> AccountInput:
    return AccountInput(display_name=message.display_name, description=message.description,
                        permissions=list(message.permissions))


JWK_FIELDS = ("kty", "kid", "use", "alg", "n", "e", "crv", "x", "y")


def json_web_key(jwk: dict) -> signing_key_pb2.JsonWebKey:
    return signing_key_pb2.JsonWebKey(**{k: jwk[k] for k in JWK_FIELDS if k in jwk})


def signing_key(k: model.SigningKey | None, now) -> signing_key_pb2.SigningKey | None:
    if k is None:
        return None
    return signing_key_pb2.SigningKey(
        signing_key_id=k.id,
        algorithm=signing_key_pb2.SigningAlgorithm.Value(
            f"SIGNING_ALGORITHM_{k.algorithm.upper()}"),
        state=_enum(signing_key_pb2.SigningKeyState, "SIGNING_KEY_STATE", k.state_at(now)),
        public_key=json_web_key(k.public_jwk), activate_time=ts(k.activate_time),
        retire_time=ts(k.retire_time), expire_time=ts(k.expire_time),
        create_time=ts(k.create_time), update_time=ts(k.update_time), etag=k.etag)


def mfa_status(s: model.MfaSetup, now) -> mfa_pb2.MfaStatus:
    return mfa_pb2.MfaStatus(
        user_id=s.user_id, organization_id=s.organization_id, totp_enabled=s.enabled,
        totp_enrollment_pending=s.pending_at(now), enable_time=ts(s.enable_time),
        recovery_codes_remaining=s.recovery_codes_remaining, update_time=ts(s.update_time))
