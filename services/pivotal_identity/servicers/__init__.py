"""gRPC servicers: proto in → application call → proto out. Authentication, authorization,
error mapping and logging happen once, in the runtime's interceptors."""

from __future__ import annotations

from datetime import UTC

from pivotal.identity.v1 import (
    auth_service_pb2 as auth_pb,
)
from pivotal.identity.v1 import (
    auth_service_pb2_grpc as auth_grpc,
)
from pivotal.identity.v1 import (
    credential_service_pb2 as cred_pb,
)
from pivotal.identity.v1 import (
    credential_service_pb2_grpc as cred_grpc,
)
from pivotal.identity.v1 import (
    invitation_pb2,
    session_pb2,
    signing_key_pb2,
    user_pb2,
)
from pivotal.identity.v1 import (
    invitation_service_pb2 as inv_pb,
)
from pivotal.identity.v1 import (
    invitation_service_pb2_grpc as inv_grpc,
)
from pivotal.identity.v1 import (
    key_service_pb2 as key_pb,
)
from pivotal.identity.v1 import (
    key_service_pb2_grpc as key_grpc,
)
from pivotal.identity.v1 import (
    mfa_service_pb2 as mfa_pb,
)
from pivotal.identity.v1 import (
    mfa_service_pb2_grpc as mfa_grpc,
)
from pivotal.identity.v1 import (
    organization_service_pb2 as org_pb,
)
from pivotal.identity.v1 import (
    organization_service_pb2_grpc as org_grpc,
)
from pivotal.identity.v1 import (
    role_service_pb2 as role_pb,
)
from pivotal.identity.v1 import (
    role_service_pb2_grpc as role_grpc,
)
from pivotal.identity.v1 import (
    service_account_service_pb2 as sa_pb,
)
from pivotal.identity.v1 import (
    service_account_service_pb2_grpc as sa_grpc,
)
from pivotal.identity.v1 import (
    session_service_pb2 as sess_pb,
)
from pivotal.identity.v1 import (
    session_service_pb2_grpc as sess_grpc,
)
from pivotal.identity.v1 import (
    user_service_pb2 as user_pb,
)
from pivotal.identity.v1 import (
    user_service_pb2_grpc as user_grpc,
)
from pivotal_runtime.kit.caller import caller_of_call
from pivotal_runtime.kit.listing import add_servicers
from pivotal_runtime.kit.proto_types import update_mask_of
from pivotal_runtime.revocation import Scope

from pivotal_identity.application.access import current_user
from pivotal_identity.application.auth import ClientInfo
from pivotal_identity.application.events import ts
from pivotal_identity.application.invitations import Acceptance
from pivotal_identity.application.organizations import Registration
from pivotal_identity.application.revocations import access_revoked
from pivotal_identity.domain.model import InvitationState, SessionState, UserState
from pivotal_identity.servicers import convert as c

BEARER = "Bearer"


# Set by the gateway on every request, overwriting whatever the client sent: the client's
# address as Envoy's `xff_num_trusted_hops` yields it (the TCP peer by default), never a
# client-written X-Forwarded-For entry.
CLIENT_ADDRESS_HEADER = "x-pivotal-client-address"


def _client(context) -> ClientInfo:
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    peer = context.peer() or ""  # "ipv4:10.0.0.1:5312", "ipv6:[::1]:5312"
    address = metadata.get(CLIENT_ADDRESS_HEADER, "").strip() or \
        peer.split(":", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return ClientInfo(user_agent=metadata.get("user-agent", ""), ip_address=address[:64])



class OrganizationServicer(org_grpc.OrganizationServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def RegisterOrganization(self, request, context):
        organization, owner = self.app.organizations.register(Registration(
            organization=c.organization_input(request.organization),
            owner=c.profile_input(request.owner), password=request.password,
            plan_code=request.plan_code, request_id=request.request_id))
        return org_pb.RegisterOrganizationResponse(organization=c.organization(organization),
                                                   owner=c.user(owner))

    def GetOrganization(self, request, context):
        found = self.app.organizations.get(caller_of_call(), request.organization_id)
        return org_pb.GetOrganizationResponse(organization=c.organization(found))

    def UpdateOrganization(self, request, context):
        changed = self.app.organizations.update(caller_of_call(),
            request.organization.organization_id, c.organization_input(request.organization),
            update_mask_of(request.update_mask, request.organization), request.organization.etag)
        return org_pb.UpdateOrganizationResponse(organization=c.organization(changed))

    def DeleteOrganization(self, request, context):
        self.app.organizations.delete(caller_of_call(), request.organization_id, request.etag)
        return org_pb.DeleteOrganizationResponse()


class UserServicer(user_grpc.UserServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def CreateUser(self, request, context):
        created = self.app.users.create(caller_of_call(), c.profile_input(request.user),
                                        request.password, request.request_id)
        return user_pb.CreateUserResponse(user=c.user(created))

    def GetUser(self, request, context):
        return user_pb.GetUserResponse(
            user=c.user(self.app.users.get(caller_of_call(), request.user_id)))

    def BatchGetUsers(self, request, context):
        found = self.app.users.batch_get(caller_of_call(), list(request.user_ids))
        return user_pb.BatchGetUsersResponse(users=[c.user(u) for u in found])

    def ListUsers(self, request, context):
        state = c.one_state(user_pb2.UserState, request.states, "USER_STATE")
        users, token, total = self.app.users.list(caller_of_call(),
            request.page_size, request.page_token, UserState(state) if state else None,
            request.role_id, request.query, request.locked_only)
        return user_pb.ListUsersResponse(users=[c.user(u) for u in users],
                                         next_page_token=token, total_size=total)

    def UpdateUser(self, request, context):
        changed = self.app.users.update(caller_of_call(), request.user.user_id,
                                        c.profile_input(request.user),
                                        update_mask_of(request.update_mask, request.user),
                                        request.user.etag)
        return user_pb.UpdateUserResponse(user=c.user(changed))

    def DeactivateUser(self, request, context):
        changed = self.app.users.deactivate(caller_of_call(), request.user_id, request.etag,
                                            request.reason)
        return user_pb.DeactivateUserResponse(user=c.user(changed))

    def ReactivateUser(self, request, context):
        changed = self.app.users.reactivate(caller_of_call(), request.user_id, request.etag)
        return user_pb.ReactivateUserResponse(user=c.user(changed))

    def UnlockUser(self, request, context):
        return user_pb.UnlockUserResponse(
            user=c.user(self.app.users.unlock(caller_of_call(), request.user_id)))

    def DeleteUser(self, request, context):
        self.app.users.delete(caller_of_call(), request.user_id, request.etag)
        return user_pb.DeleteUserResponse()

    def GetMe(self, request, context):
        caller = caller_of_call()
        user, organization, permissions = self.app.users.me(caller,
                                                            current_user(caller.subject))
        return user_pb.GetMeResponse(user=c.user(user),
                                     organization=c.organization(organization),
                                     permissions=permissions)

    def UpdateMe(self, request, context):
        changed = self.app.users.update_me(caller_of_call(), c.profile_input(request.user),
                                           update_mask_of(request.update_mask, request.user),
                                           request.user.etag)
        return user_pb.UpdateMeResponse(user=c.user(changed))


class InvitationServicer(inv_grpc.InvitationServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def _out(self, invitation):
        return c.invitation(invitation, self.app.clock())

    def CreateInvitation(self, request, context):
        created = self.app.invitations.create(caller_of_call(),
                                              c.invitation_input(request.invitation),
                                              request.request_id)
        return inv_pb.CreateInvitationResponse(invitation=self._out(created))

    def GetInvitation(self, request, context):
        found = self.app.invitations.get(caller_of_call(), request.invitation_id)
        return inv_pb.GetInvitationResponse(invitation=self._out(found))

    def ListInvitations(self, request, context):
        state = c.one_state(invitation_pb2.InvitationState, request.states,
                            "INVITATION_STATE")
        found, token, total = self.app.invitations.list(caller_of_call(),
            request.page_size, request.page_token, InvitationState(state) if state else None,
            request.email)
        return inv_pb.ListInvitationsResponse(invitations=[self._out(i) for i in found],
                                              next_page_token=token, total_size=total)

    def ResendInvitation(self, request, context):
        sent = self.app.invitations.resend(caller_of_call(), request.invitation_id, request.etag)
        return inv_pb.ResendInvitationResponse(invitation=self._out(sent))

    def RevokeInvitation(self, request, context):
        revoked = self.app.invitations.revoke(caller_of_call(), request.invitation_id, request.etag)
        return inv_pb.RevokeInvitationResponse(invitation=self._out(revoked))

    def LookupInvitation(self, request, context):
        found = self.app.invitations.lookup(request.token)
        return inv_pb.LookupInvitationResponse(
            invitation_id=found.invitation.id, email=found.invitation.email,
            organization_display_name=found.organization_display_name,
            role_display_name=found.role_display_name,
            inviter_display_name=found.inviter_display_name,
            message=found.invitation.message, expire_time=ts(found.invitation.expire_time))

    def AcceptInvitation(self, request, context):
        profile = c.profile_input(user_pb2.User(
            given_name=request.given_name, family_name=request.family_name,
            display_name=request.display_name, locale=request.locale,
            time_zone=request.time_zone))
        user = self.app.invitations.accept(Acceptance(token=request.token,
                                                      password=request.password,
                                                      profile=profile))
        return inv_pb.AcceptInvitationResponse(user=c.user(user))

    def DeclineInvitation(self, request, context):
        self.app.invitations.decline(request.token)
        return inv_pb.DeclineInvitationResponse()


class AuthServicer(auth_grpc.AuthServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def Login(self, request, context):
        tokens = self.app.auth.login(request.email, request.password, request.totp_code,
                                     request.recovery_code, _client(context))
        return auth_pb.LoginResponse(
            access_token=tokens.access_token, token_type=BEARER, expires_in=tokens.expires_in,
            refresh_token=tokens.refresh_token, refresh_expires_in=tokens.refresh_expires_in,
            session_id=tokens.session_id, user_id=tokens.user_id,
            organization_id=tokens.organization_id,
            remaining_recovery_codes=tokens.remaining_recovery_codes)

    def Refresh(self, request, context):
        tokens = self.app.auth.refresh(request.refresh_token)
        return auth_pb.RefreshResponse(
            access_token=tokens.access_token, token_type=BEARER, expires_in=tokens.expires_in,
            refresh_token=tokens.refresh_token, refresh_expires_in=tokens.refresh_expires_in,
            session_id=tokens.session_id)

    def Logout(self, request, context):
        self.app.auth.logout(caller_of_call(), request.all_sessions)
        return auth_pb.LogoutResponse()


def _session_state(numbers) -> SessionState | None:
    name = c.one_state(session_pb2.SessionState, numbers, "SESSION_STATE")
    return SessionState(name) if name else None


class SessionServicer(sess_grpc.SessionServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def _out(self, sessions, current):
        now = self.app.clock()
        return [c.session(s, current, now) for s in sessions]

    def ListMySessions(self, request, context):
        found, token, current = self.app.sessions.list_mine(caller_of_call(),
            request.page_size, request.page_token, _session_state(request.states))
        return sess_pb.ListMySessionsResponse(sessions=self._out(found, current),
                                              next_page_token=token)

    def RevokeMySession(self, request, context):
        session, current = self.app.sessions.revoke_mine(caller_of_call(), request.session_id)
        return sess_pb.RevokeMySessionResponse(session=self._out([session], current)[0])

    def ListSessions(self, request, context):
        found, token, current = self.app.sessions.list_of(caller_of_call(),
            request.user_id, request.page_size, request.page_token,
            _session_state(request.states))
        return sess_pb.ListSessionsResponse(sessions=self._out(found, current),
                                            next_page_token=token)

    def RevokeSession(self, request, context):
        session, current = self.app.sessions.revoke_of(caller_of_call(), request.user_id,
                                                       request.session_id)
        return sess_pb.RevokeSessionResponse(session=self._out([session], current)[0])


class CredentialServicer(cred_grpc.CredentialServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def ChangePassword(self, request, context):
        self.app.credentials.change(caller_of_call(), request.current_password,
                                    request.new_password, request.keep_other_sessions)
        return cred_pb.ChangePasswordResponse()

    def ResetUserPassword(self, request, context):
        token, expire = self.app.credentials.reset_for(caller_of_call(), request.user_id,
                                                       request.notify_user)
        return cred_pb.ResetUserPasswordResponse(reset_token=token, expire_time=ts(expire))

    def RequestPasswordReset(self, request, context):
        self.app.credentials.request_reset(request.email)
        return cred_pb.RequestPasswordResetResponse()

    def CompletePasswordReset(self, request, context):
        self.app.credentials.complete_reset(request.reset_token, request.new_password)
        return cred_pb.CompletePasswordResetResponse()


class MfaServicer(mfa_grpc.MfaServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def _status(self, setup):
        return c.mfa_status(setup, self.app.clock())

    def GetMfaStatus(self, request, context):
        return mfa_pb.GetMfaStatusResponse(
            mfa_status=self._status(self.app.mfa.status(caller_of_call())))

    def EnrollTotp(self, request, context):
        enrollment = self.app.mfa.enroll(caller_of_call(), request.password)
        return mfa_pb.EnrollTotpResponse(secret=enrollment.secret,
                                         otpauth_uri=enrollment.otpauth_uri,
                                         expire_time=ts(enrollment.expire_time))

    def ConfirmTotp(self, request, context):
        codes, setup = self.app.mfa.confirm(caller_of_call(), request.code)
        return mfa_pb.ConfirmTotpResponse(recovery_codes=codes, mfa_status=self._status(setup))

    def DisableTotp(self, request, context):
        return mfa_pb.DisableTotpResponse(
            mfa_status=self._status(self.app.mfa.disable(caller_of_call(), request.password)))

    def RegenerateRecoveryCodes(self, request, context):
        codes, setup = self.app.mfa.regenerate_codes(caller_of_call(), request.password)
        return mfa_pb.RegenerateRecoveryCodesResponse(recovery_codes=codes,
                                                      mfa_status=self._status(setup))

    def ResetUserMfa(self, request, context):
        return mfa_pb.ResetUserMfaResponse(
            mfa_status=self._status(self.app.mfa.reset_for(caller_of_call(), request.user_id)))


class RoleServicer(role_grpc.RoleServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def ListPermissions(self, request, context):
        entries, token, total = self.app.roles.permissions(caller_of_call(),
            request.page_size, request.page_token, request.resource, request.workload)
        return role_pb.ListPermissionsResponse(permissions=[c.permission(e) for e in entries],
                                               next_page_token=token, total_size=total)

    def CreateRole(self, request, context):
        created = self.app.roles.create(caller_of_call(), c.role_input(request.role),
                                        request.request_id)
        return role_pb.CreateRoleResponse(role=c.role(created))

    def GetRole(self, request, context):
        return role_pb.GetRoleResponse(
            role=c.role(self.app.roles.get(caller_of_call(), request.role_id)))

    def ListRoles(self, request, context):
        found, token, total = self.app.roles.list(caller_of_call(), request.page_size,
                                                  request.page_token, request.custom_only)
        return role_pb.ListRolesResponse(roles=[c.role(r) for r in found],
                                         next_page_token=token, total_size=total)

    def UpdateRole(self, request, context):
        changed = self.app.roles.update(caller_of_call(), request.role.role_id,
                                        c.role_input(request.role),
                                        update_mask_of(request.update_mask, request.role),
                                        request.role.etag)
        return role_pb.UpdateRoleResponse(role=c.role(changed))

    def DeleteRole(self, request, context):
        self.app.roles.delete(caller_of_call(), request.role_id, request.etag)
        return role_pb.DeleteRoleResponse()

    def AssignRole(self, request, context):
        user = self.app.roles.assign(caller_of_call(), request.user_id, request.role_id,
                                     request.etag)
        return role_pb.AssignRoleResponse(user=c.user(user))

    def RevokeRole(self, request, context):
        user = self.app.roles.revoke(caller_of_call(), request.user_id, request.role_id,
                                     request.etag)
        return role_pb.RevokeRoleResponse(user=c.user(user))

    def CheckPermission(self, request, context):
        allowed, roles = self.app.roles.check(caller_of_call(), request.organization_id,
                                              request.subject_id, request.permission)
        return role_pb.CheckPermissionResponse(allowed=allowed, granting_role_ids=roles)


ALGORITHMS = {"RS256": "RS256", "ES256": "ES256", "EDDSA": "EdDSA"}


class KeyServicer(key_grpc.KeyServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def GetJwks(self, request, context):
        return key_pb.GetJwksResponse(keys=[c.json_web_key(k) for k in self.app.keys.jwks()])

    def ListSigningKeys(self, request, context):
        found, token = self.app.keys.list_keys(caller_of_call(), request.page_size,
                                               request.page_token, request.show_expired)
        now = self.app.clock()
        return key_pb.ListSigningKeysResponse(signing_keys=[c.signing_key(k, now) for k in found],
                                              next_page_token=token)

    def RotateSigningKey(self, request, context):
        name = c.enum_name(signing_key_pb2.SigningAlgorithm, request.algorithm,
                           "SIGNING_ALGORITHM")
        new, retired = self.app.keys.rotate(caller_of_call(), ALGORITHMS[name] if name else None)
        now = self.app.clock()
        return key_pb.RotateSigningKeyResponse(signing_key=c.signing_key(new, now),
                                               retired_signing_key=c.signing_key(retired, now))

    def ValidateToken(self, request, context):
        result = self.app.keys.validate(request.token)
        if not result.valid:
            return key_pb.ValidateTokenResponse(valid=False, invalid_reason=result.invalid_reason)
        claims = result.claims
        service = "client_id" in claims and "sid" not in claims
        return key_pb.ValidateTokenResponse(
            valid=True,
            subject_type=(key_pb.TOKEN_SUBJECT_TYPE_SERVICE_ACCOUNT if service
                          else key_pb.TOKEN_SUBJECT_TYPE_USER),
            subject_id=claims["sub"], organization_id=claims["org"],
            role_ids=claims.get("roles", []), permissions=sorted(result.permissions),
            session_id=claims.get("sid", ""), token_id=claims["jti"],
            issue_time=_epoch(claims["iat"]), expire_time=_epoch(claims["exp"]))

    def ListRevocations(self, request, context):
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        found, read_time = self.app.keys.revocations(since)
        return key_pb.ListRevocationsResponse(
            revocations=[access_revoked(r.organization_id, Scope(r.scope), r.key,
                                        r.revoke_time_ms, r.reason) for r in found],
            read_time=ts(read_time))


def _epoch(seconds: float):
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromMilliseconds(round(seconds * 1000))
    return stamp


class ServiceAccountServicer(sa_grpc.ServiceAccountServiceServicer):
    def __init__(self, app) -> None:
        self.app = app

    def CreateServiceAccount(self, request, context):
        account, secret = self.app.service_accounts.create(caller_of_call(),
            c.account_input(request.service_account), request.request_id)
        return sa_pb.CreateServiceAccountResponse(service_account=c.service_account(account),
                                                  client_secret=secret)

    def GetServiceAccount(self, request, context):
        found = self.app.service_accounts.get(caller_of_call(), request.service_account_id)
        return sa_pb.GetServiceAccountResponse(service_account=c.service_account(found))

    def ListServiceAccounts(self, request, context):
        found, token, total = self.app.service_accounts.list(caller_of_call(),
            request.page_size, request.page_token, request.show_deleted)
        return sa_pb.ListServiceAccountsResponse(
            service_accounts=[c.service_account(a) for a in found], next_page_token=token,
            total_size=total)

    def UpdateServiceAccount(self, request, context):
        changed = self.app.service_accounts.update(caller_of_call(),
            request.service_account.service_account_id,
            c.account_input(request.service_account),
            update_mask_of(request.update_mask, request.service_account),
            request.service_account.etag)
        return sa_pb.UpdateServiceAccountResponse(service_account=c.service_account(changed))

    def DeleteServiceAccount(self, request, context):
        self.app.service_accounts.delete(caller_of_call(), request.service_account_id, request.etag)
        return sa_pb.DeleteServiceAccountResponse()

    def RotateServiceAccountSecret(self, request, context):
        account, secret = self.app.service_accounts.rotate_secret(caller_of_call(),
                                                                  request.service_account_id,
                                                                  request.etag)
        return sa_pb.RotateServiceAccountSecretResponse(
            service_account=c.service_account(account), client_secret=secret)

    def IssueServiceToken(self, request, context):
        token = self.app.service_accounts.issue_token(request.client_id, request.client_secret,
                                                      request.organization_id)
        return sa_pb.IssueServiceTokenResponse(access_token=token.access_token,
                                               token_type=BEARER, expires_in=token.expires_in)


REGISTRATIONS = (
    (OrganizationServicer, org_grpc.add_OrganizationServiceServicer_to_server, org_pb),
    (UserServicer, user_grpc.add_UserServiceServicer_to_server, user_pb),
    (InvitationServicer, inv_grpc.add_InvitationServiceServicer_to_server, inv_pb),
    (AuthServicer, auth_grpc.add_AuthServiceServicer_to_server, auth_pb),
    (SessionServicer, sess_grpc.add_SessionServiceServicer_to_server, sess_pb),
    (CredentialServicer, cred_grpc.add_CredentialServiceServicer_to_server, cred_pb),
    (MfaServicer, mfa_grpc.add_MfaServiceServicer_to_server, mfa_pb),
    (RoleServicer, role_grpc.add_RoleServiceServicer_to_server, role_pb),
    (KeyServicer, key_grpc.add_KeyServiceServicer_to_server, key_pb),
    (ServiceAccountServicer, sa_grpc.add_ServiceAccountServiceServicer_to_server, sa_pb),
)


def add_all(server, app) -> set[str]:
    return add_servicers(server, app, REGISTRATIONS)
