"""Issue 4's acceptance, through a real gRPC server with the real identity servicers, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import grpc
import jwt
import pyotp
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from pivotal.identity.v1 import auth_service_pb2 as auth_pb
from pivotal.identity.v1 import credential_service_pb2 as cred_pb
from pivotal.identity.v1 import (
    invitation_pb2,
    organization_pb2,
    role_pb2,
    service_account_pb2,
    user_pb2,
)
from pivotal.identity.v1 import invitation_service_pb2 as inv_pb
from pivotal.identity.v1 import key_service_pb2 as key_pb
from pivotal.identity.v1 import mfa_service_pb2 as mfa_pb
from pivotal.identity.v1 import organization_service_pb2 as org_pb
from pivotal.identity.v1 import role_service_pb2 as role_srv
from pivotal.identity.v1 import service_account_service_pb2 as sa_pb
from pivotal.identity.v1 import session_service_pb2 as sess_pb
from pivotal.identity.v1 import user_service_pb2 as user_pb
from pivotal_identity.adapters import tables
from pivotal_identity.settings import IdentitySettings
from pivotal_runtime.auth import JwksKeySource
from pivotal_runtime.bootstrap import build_verifier
from pivotal_runtime.contract import method_rules
from pivotal_runtime.jwks import fetch_jwks_over_grpc
from pivotal_runtime.server import ServiceDeps, ServiceHost
from pivotal_runtime.status import error_info, unpack_details

from tests.identity.conftest import (
    PASSWORD,
    bearer,
    fast_identity_settings,
    identity_server,
    settings_for,
)
from tests.support.contract_calls import call
from tests.support.hosts import FakeDatabase

WRONG = "not the password 123"


def failure(call_, *args, **kwargs) -> tuple[grpc.StatusCode, str, str, grpc.RpcError]:
    with pytest.raises(grpc.RpcError) as raised:
        call_(*args, **kwargs)
    error = raised.value
    info = error_info(error)
    return error.code(), info.reason if info else "", error.details(), error


@contextlib.contextmanager
def quotation_verifying_through_identity(server):
    """Another service of the runtime, verifying tokens with the JWKS it fetches from
    identity over gRPC (KeyService.GetJwks), as every service does."""
    keys = JwksKeySource(lambda: fetch_jwks_over_grpc(server.channel), min_refresh_interval=0)
    deps = ServiceDeps(settings=server.settings, name="quotation", database=FakeDatabase())
    host = ServiceHost(deps, build_verifier(server.settings, keys), port=0)
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    try:
        yield channel
    finally:
        channel.close()
        host.drain().wait(5)


QUOTE_READ = next(r for r in method_rules().values()
                  if r.workload == "quotation" and r.permission == "quotes:read")


def test_register_login_call_refresh_then_reuse_revokes_the_session(server, caplog):
    registered = server.register("Acme")
    tokens = server.login(registered.owner.email.upper())  # login normalizes the email
    assert tokens.token_type == "Bearer" and tokens.expires_in == 900

    me = server.users.GetMe(user_pb.GetMeRequest(), metadata=bearer(tokens.access_token))
    assert me.user.user_id == registered.owner.user_id
    assert me.organization.organization_id == registered.organization.organization_id
    assert "*" in me.permissions

    with quotation_verifying_through_identity(server) as quotation:
        code, reason, _, _ = failure(call, quotation, QUOTE_READ.full_method)
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
        # Authenticated and authorized by quotation (which only lacks an implementation).
        code, reason, _, _ = failure(call, quotation, QUOTE_READ.full_method,
                                     metadata=bearer(tokens.access_token))
        assert (code, reason) == (grpc.StatusCode.UNIMPLEMENTED, "NOT_IMPLEMENTED")

    refreshed = server.auth.Refresh(auth_pb.RefreshRequest(refresh_token=tokens.refresh_token))
    assert refreshed.session_id == tokens.session_id
    assert refreshed.refresh_token != tokens.refresh_token
    server.users.GetMe(user_pb.GetMeRequest(), metadata=bearer(refreshed.access_token))

    with caplog.at_level(logging.INFO, logger="pivotal.audit"):
        code, reason, _, _ = failure(server.auth.Refresh,
                                     auth_pb.RefreshRequest(refresh_token=tokens.refresh_token))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "REFRESH_TOKEN_REUSED")
    audit = [r for r in caplog.records if r.name == "pivotal.audit"
             and r.fields.get("audit_event") == "refresh_token_reuse"]
    assert audit and audit[0].fields["session_id"] == tokens.session_id

    code, reason, _, _ = failure(server.auth.Refresh,
                                 auth_pb.RefreshRequest(refresh_token=refreshed.refresh_token))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "REFRESH_TOKEN_INVALID")
    code, reason, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(),
                                 metadata=bearer(refreshed.access_token))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "SESSION_REVOKED")
    revoked = [e for e in server.outbox_events("pivotal.identity.v1.SessionRevoked")
               if e.session_id == tokens.session_id]
    assert [e.reason for e in revoked] == [2]  # SESSION_REVOKE_REASON_REFRESH_TOKEN_REUSE


def test_parallel_wrong_passwords_count_exactly_the_limit(server):
    owner = server.register("Lockco").owner

    def attempt(_):
        try:
            server.login(owner.email, WRONG)
            return "OK"
        except grpc.RpcError as error:
            return error_info(error).reason

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count("INVALID_CREDENTIALS") == 5, results
    assert results.count("ACCOUNT_LOCKED") == 15, results
    with server.database.engine.connect() as connection:
        counted = connection.execute(sa.select(tables.login_attempts.c.failed_count).where(
            tables.login_attempts.c.email == owner.email)).scalar_one()
    assert counted == 5
    locked = [e for e in server.outbox_events("pivotal.identity.v1.UserLocked")
              if e.user_id == owner.user_id]
    assert [e.failed_attempts for e in locked] == [5]

    code, reason, _, error = failure(server.login, owner.email)  # the right password
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "ACCOUNT_LOCKED")
    retry = [d for d in unpack_details(error) if isinstance(d, error_details_pb2.RetryInfo)]
    assert retry and 0 < retry[0].retry_delay.ToTimedelta().total_seconds() <= 2

    # The lock period passes on the server's clock (never slept through).
    server.clock.shift += timedelta(seconds=server.identity.lockout_period_seconds + 1)
    try:
        assert server.login(owner.email).access_token
    finally:
        server.clock.shift = timedelta()


def test_unknown_email_and_wrong_password_answer_alike(server):
    owner = server.register("Alike").owner
    unknown = failure(server.login, f"nobody-{uuid.uuid4().hex[:6]}@alike.test", WRONG)
    wrong = failure(server.login, owner.email, WRONG)
    assert unknown[:3] == wrong[:3]
    assert unknown[:2] == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")


class CountingHasher:
    """The real hasher, recording which of its (equally costly) operations each login ran."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def verify(self, password_hash: str, password: str) -> bool:
        self.calls.append("verify")
        return self.inner.verify(password_hash, password)

    def burn(self, password: str) -> None:
        self.calls.append("burn")
        self.inner.burn(password)


def test_unknown_email_costs_one_password_hash_like_a_wrong_password(tmp_path):
    """What makes both answers take as long: each runs the hasher exactly once, a verify of
    the stored hash or a burn of the same cost for an unknown email (no timing measured)."""
    identity = fast_identity_settings(lockout_max_attempts=1000)
    with identity_server(settings_for("sqlite", tmp_path, None), identity) as server:
        owner = server.register("Timing").owner
        hasher = CountingHasher(server.app.deps.hasher)
        server.app.deps.hasher = hasher
        failure(server.login, owner.email, WRONG)
        wrong_password = hasher.calls
        hasher.calls = []
        failure(server.login, "ghost@timing.test", WRONG)
        unknown_email = hasher.calls
    assert wrong_password == ["verify"]
    assert unknown_email == ["burn"]


def test_totp_enroll_confirm_login_and_recovery_code_once(server):
    owner = server.register("Totp").owner
    token = bearer(server.login(owner.email).access_token)
    code, reason, _, _ = failure(server.mfa.EnrollTotp, mfa_pb.EnrollTotpRequest(password=WRONG),
                                 metadata=token)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "REAUTHENTICATION_FAILED")
    enrollment = server.mfa.EnrollTotp(mfa_pb.EnrollTotpRequest(password=PASSWORD),
                                       metadata=token)
    assert enrollment.otpauth_uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrollment.secret)
    code, reason, _, _ = failure(server.mfa.ConfirmTotp, mfa_pb.ConfirmTotpRequest(
        code=f"{(int(totp.now()) + 1) % 1_000_000:06d}"), metadata=token)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MFA_CODE_INVALID")
    confirmed = server.mfa.ConfirmTotp(mfa_pb.ConfirmTotpRequest(code=totp.now()),
                                       metadata=token)
    assert confirmed.mfa_status.totp_enabled and len(confirmed.recovery_codes) == 10

    code, reason, _, _ = failure(server.login, owner.email)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "MFA_REQUIRED")
    # The code of the confirmation's time step was used once already: the next step's code
    # (one step of drift is accepted) logs in.
    next_code = totp.at(time.time() + 30)
    assert server.login(owner.email, totp_code=next_code).access_token
    code, reason, _, _ = failure(server.login, owner.email, totp_code=next_code)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "MFA_CODE_INVALID")

    recovery = confirmed.recovery_codes[0]
    used = server.login(owner.email, recovery_code=recovery.upper())
    assert used.remaining_recovery_codes == 9
    code, reason, _, _ = failure(server.login, owner.email, recovery_code=recovery)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "MFA_CODE_INVALID")
    me = server.users.GetMe(user_pb.GetMeRequest(), metadata=bearer(used.access_token))
    assert me.user.mfa_enabled


def test_key_rotation_keeps_old_tokens_until_they_expire(server):
    owner = server.register("Keys").owner
    old = server.login(owner.email)
    old_kid = jwt.get_unverified_header(old.access_token)["kid"]
    operator = bearer(server.operator_token())
    code, reason, _, _ = failure(server.keys.RotateSigningKey, key_pb.RotateSigningKeyRequest(),
                                 metadata=bearer(old.access_token))  # owners may not rotate
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_MISSING")

    rotated = server.keys.RotateSigningKey(
        key_pb.RotateSigningKeyRequest(algorithm=2), metadata=operator)  # ES256
    assert rotated.retired_signing_key.signing_key_id == old_kid
    new_kid = rotated.signing_key.signing_key_id
    jwks = server.keys.GetJwks(key_pb.GetJwksRequest())
    assert [k.kid for k in jwks.keys][:2] == [new_kid, old_kid]
    assert {k.kty for k in jwks.keys[:2]} == {"EC", "RSA"}

    server.users.GetMe(user_pb.GetMeRequest(), metadata=bearer(old.access_token))
    new = server.login(owner.email)
    assert jwt.get_unverified_header(new.access_token)["kid"] == new_kid
    with quotation_verifying_through_identity(server) as quotation:
        for token in (old.access_token, new.access_token):
            code, _, _, _ = failure(call, quotation, QUOTE_READ.full_method,
                                    metadata=bearer(token))
            assert code == grpc.StatusCode.UNIMPLEMENTED  # both verify

    forged = jwt.encode(jwt.decode(new.access_token, options={"verify_signature": False}),
                        "x" * 32, algorithm="HS256", headers={"kid": "unknown-kid"})
    for token in (forged, _resigned_with_unknown_kid(new.access_token)):
        code, reason, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(),
                                     metadata=bearer(token))
        assert code == grpc.StatusCode.UNAUTHENTICATED

    expire = rotated.retired_signing_key.expire_time.ToDatetime()
    activate = rotated.retired_signing_key.retire_time.ToDatetime()
    assert (expire - activate).total_seconds() >= 900  # at least the access-token lifetime
    server.clock.shift = expire - activate  # every token of the old key has expired by now
    try:
        kids = [k.kid for k in server.keys.GetJwks(key_pb.GetJwksRequest()).keys]
        assert old_kid not in kids and new_kid in kids
        code, _, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(),
                                metadata=bearer(old.access_token))
        assert code == grpc.StatusCode.UNAUTHENTICATED
    finally:
        server.clock.shift = type(server.clock.shift)()
        server.app.keyring.invalidate()


def _resigned_with_unknown_kid(token: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={"kid": "never-published"})


def _two_organizations(server):
    a = server.register("Alpha")
    b = server.register("Beta")
    token_a = bearer(server.login(a.owner.email).access_token)
    token_b = bearer(server.login(b.owner.email).access_token)
    return a, b, token_a, token_b


def test_an_organization_sees_nothing_of_another(server):
    a, b, token_a, token_b = _two_organizations(server)
    b_org, b_user = b.organization.organization_id, b.owner.user_id
    b_member = server.users.CreateUser(user_pb.CreateUserRequest(
        user=user_pb2.User(email=f"m-{uuid.uuid4().hex[:6]}@beta.test", given_name="Mia",
                           family_name="Member"), password=PASSWORD), metadata=token_b).user
    b_invitation = server.invitations.CreateInvitation(inv_pb.CreateInvitationRequest(
        invitation=invitation_pb2.Invitation(email=f"i-{uuid.uuid4().hex[:6]}@beta.test",
                                             role_id="member")), metadata=token_b).invitation
    b_role = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
        display_name="Approver", permissions=["quotes:approve"])), metadata=token_b).role
    b_account = server.service_accounts.CreateServiceAccount(sa_pb.CreateServiceAccountRequest(
        service_account=service_account_pb2.ServiceAccount(
            display_name="Sync", permissions=["users:read"])), metadata=token_b).service_account
    b_session = server.login(b_member.email).session_id

    mask = field_mask_pb2.FieldMask(paths=["display_name"])
    not_found = [
        (server.orgs.GetOrganization, org_pb.GetOrganizationRequest(organization_id=b_org)),
        (server.orgs.UpdateOrganization, org_pb.UpdateOrganizationRequest(
            organization=organization_pb2.Organization(organization_id=b_org,
                                                       display_name="Mine"),
            update_mask=mask)),
        (server.orgs.DeleteOrganization, org_pb.DeleteOrganizationRequest(organization_id=b_org)),
        (server.users.GetUser, user_pb.GetUserRequest(user_id=b_user)),
        (server.users.BatchGetUsers, user_pb.BatchGetUsersRequest(user_ids=[b_user])),
        (server.users.UpdateUser, user_pb.UpdateUserRequest(
            user=user_pb2.User(user_id=b_member.user_id, display_name="Mine"),
            update_mask=mask)),
        (server.users.DeactivateUser, user_pb.DeactivateUserRequest(user_id=b_member.user_id)),
        (server.users.ReactivateUser, user_pb.ReactivateUserRequest(user_id=b_member.user_id)),
        (server.users.UnlockUser, user_pb.UnlockUserRequest(user_id=b_member.user_id)),
        (server.users.DeleteUser, user_pb.DeleteUserRequest(user_id=b_member.user_id)),
        (server.invitations.GetInvitation,
         inv_pb.GetInvitationRequest(invitation_id=b_invitation.invitation_id)),
        (server.invitations.ResendInvitation,
         inv_pb.ResendInvitationRequest(invitation_id=b_invitation.invitation_id)),
        (server.invitations.RevokeInvitation,
         inv_pb.RevokeInvitationRequest(invitation_id=b_invitation.invitation_id)),
        (server.roles.GetRole, role_srv.GetRoleRequest(role_id=b_role.role_id)),
        (server.roles.UpdateRole, role_srv.UpdateRoleRequest(
            role=role_pb2.Role(role_id=b_role.role_id, display_name="Mine"), update_mask=mask)),
        (server.roles.DeleteRole, role_srv.DeleteRoleRequest(role_id=b_role.role_id)),
        (server.roles.AssignRole, role_srv.AssignRoleRequest(user_id=b_member.user_id,
                                                            role_id="admin")),
        (server.roles.AssignRole, role_srv.AssignRoleRequest(user_id=a.owner.user_id,
                                                            role_id=b_role.role_id)),
        (server.roles.RevokeRole, role_srv.RevokeRoleRequest(user_id=b_member.user_id,
                                                            role_id="member")),
        (server.sessions.ListSessions, sess_pb.ListSessionsRequest(user_id=b_member.user_id)),
        (server.sessions.RevokeSession, sess_pb.RevokeSessionRequest(
            user_id=b_member.user_id, session_id=b_session)),
        (server.sessions.RevokeMySession, sess_pb.RevokeMySessionRequest(session_id=b_session)),
        (server.credentials.ResetUserPassword,
         cred_pb.ResetUserPasswordRequest(user_id=b_member.user_id)),
        (server.mfa.ResetUserMfa, mfa_pb.ResetUserMfaRequest(user_id=b_member.user_id)),
        (server.service_accounts.GetServiceAccount, sa_pb.GetServiceAccountRequest(
            service_account_id=b_account.service_account_id)),
        (server.service_accounts.DeleteServiceAccount, sa_pb.DeleteServiceAccountRequest(
            service_account_id=b_account.service_account_id)),
        (server.service_accounts.RotateServiceAccountSecret,
         sa_pb.RotateServiceAccountSecretRequest(
             service_account_id=b_account.service_account_id)),
    ]
    for method, request in not_found:
        code, reason, details, _ = failure(method, request, metadata=token_a)
        assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "RESOURCE_NOT_FOUND"), method
        assert "Beta" not in details

    listed = server.users.ListUsers(user_pb.ListUsersRequest(page_size=200), metadata=token_a)
    assert {u.organization_id for u in listed.users} == {a.organization.organization_id}
    for listing, request, field in [
        (server.invitations.ListInvitations, inv_pb.ListInvitationsRequest(), "invitations"),
        (server.roles.ListRoles, role_srv.ListRolesRequest(custom_only=True), "roles"),
        (server.service_accounts.ListServiceAccounts, sa_pb.ListServiceAccountsRequest(),
         "service_accounts"),
        (server.sessions.ListSessions, sess_pb.ListSessionsRequest(user_id="-"), "sessions"),
    ]:
        found = getattr(listing(request, metadata=token_a), field)
        assert all(x.organization_id == a.organization.organization_id for x in found), field
    # CheckPermission is internal (only workloads call it): a user's token is refused outright.
    code, reason, _, _ = failure(server.roles.CheckPermission, role_srv.CheckPermissionRequest(
        organization_id=b_org, subject_id=b_user, permission="users:read"), metadata=token_a)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "WORKLOAD_TOKEN_REQUIRED")
    # B's data is untouched and B still sees it.
    assert server.users.GetUser(user_pb.GetUserRequest(user_id=b_member.user_id),
                                metadata=token_b).user.state == user_pb2.USER_STATE_ACTIVE
    assert server.roles.GetRole(role_srv.GetRoleRequest(role_id=b_role.role_id),
                                metadata=token_b).role.display_name == "Approver"


def test_no_secret_appears_in_any_log_line(server, caplog):
    secrets: list[str] = []
    with caplog.at_level(logging.DEBUG):
        owner_password = "owner secret pass 77"
        registered = server.register("Quiet", password=owner_password)
        owner = registered.owner
        secrets.append(owner_password)
        tokens = server.login(owner.email, owner_password)
        secrets += [tokens.access_token, tokens.refresh_token]
        token = bearer(tokens.access_token)
        failure(server.login, owner.email, "a wrong guess 12345")
        secrets.append("a wrong guess 12345")
        refreshed = server.auth.Refresh(auth_pb.RefreshRequest(refresh_token=tokens.refresh_token))
        secrets += [refreshed.access_token, refreshed.refresh_token]

        invitee = f"guest-{uuid.uuid4().hex[:6]}@quiet.test"
        server.invitations.CreateInvitation(inv_pb.CreateInvitationRequest(
            invitation=invitation_pb2.Invitation(email=invitee, role_id="member")),
            metadata=token)
        invitation_token = server.token_mailed_to(invitee)
        secrets.append(invitation_token)
        guest_password = "guest secret pass 88"
        server.invitations.AcceptInvitation(inv_pb.AcceptInvitationRequest(
            token=invitation_token, password=guest_password, given_name="Gus",
            family_name="Guest"))
        secrets.append(guest_password)
        guest = server.login(invitee, guest_password)
        secrets += [guest.access_token, guest.refresh_token]

        reset = server.credentials.ResetUserPassword(cred_pb.ResetUserPasswordRequest(
            user_id=guest.user_id, notify_user=True), metadata=token)
        secrets.append(reset.reset_token)
        new_guest_password = "guest new secret 99"
        server.credentials.CompletePasswordReset(cred_pb.CompletePasswordResetRequest(
            reset_token=reset.reset_token, new_password=new_guest_password))
        secrets.append(new_guest_password)
        server.credentials.RequestPasswordReset(cred_pb.RequestPasswordResetRequest(
            email=invitee))
        secrets.append(server.token_mailed_to(invitee))

        enrollment = server.mfa.EnrollTotp(mfa_pb.EnrollTotpRequest(password=owner_password),
                                           metadata=token)
        totp_code = pyotp.TOTP(enrollment.secret).now()
        confirmed = server.mfa.ConfirmTotp(mfa_pb.ConfirmTotpRequest(code=totp_code),
                                           metadata=token)
        secrets += [enrollment.secret, *confirmed.recovery_codes]
        server.login(owner.email, owner_password, recovery_code=confirmed.recovery_codes[0])

        created = server.service_accounts.CreateServiceAccount(sa_pb.CreateServiceAccountRequest(
            service_account=service_account_pb2.ServiceAccount(
                display_name="Robot", permissions=["users:read"])), metadata=token)
        secrets.append(created.client_secret)
        issued = server.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
            client_id=created.service_account.client_id, client_secret=created.client_secret))
        secrets.append(issued.access_token)
        failure(server.service_accounts.IssueServiceToken, sa_pb.IssueServiceTokenRequest(
            client_id=created.service_account.client_id, client_secret="wrong-secret-value-1"))
        secrets.append("wrong-secret-value-1")
        workload = server.workload_token(registered.organization.organization_id)
        secrets.append(workload)
        server.keys.ValidateToken(key_pb.ValidateTokenRequest(token=guest.access_token),
                                  metadata=bearer(workload))
        server.keys.RotateSigningKey(key_pb.RotateSigningKeyRequest(),
                                     metadata=bearer(server.operator_token()))
        server.auth.Logout(auth_pb.LogoutRequest(all_sessions=True), metadata=token)
        server.app.mailer.flush()

    from pivotal_runtime.logs import JsonFormatter

    formatter = JsonFormatter()
    assert {"pivotal.access", "pivotal.audit"} <= {r.name for r in caplog.records}
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(getattr(record, "fields", "")))
        lines.append(formatter.format(record))
    text = "\n".join(lines)
    leaked = [s for s in secrets if s and s in text]
    assert leaked == []
    for payload in server.outbox_payloads():  # nor in any event
        assert not [s for s in secrets if s.encode() in payload]


def test_password_policy_and_duplicate_email(server):
    owner = server.register("Policy").owner
    other = owner.email.replace("owner", "other")
    for weak, rule in [("short", "too_short"), ("password1234", "common"),
                       (other.split("@")[0] + "-long-enough", "contains_email")]:
        code, reason, _, error = failure(
            server.orgs.RegisterOrganization, org_pb.RegisterOrganizationRequest(
                organization=organization_pb2.Organization(display_name="Weak"),
                owner=user_pb2.User(email=other, given_name="W", family_name="K"),
                password=weak))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "PASSWORD_POLICY_VIOLATION")
        assert error_info(error).metadata["rule"] == rule
    code, reason, _, _ = failure(server.register, "Copy", email_=owner.email.upper())
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "EMAIL_ALREADY_REGISTERED")


def test_migrated_tables_match_the_table_definitions(server):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from pivotal_runtime.kit.tables import add_runtime_tables

    metadata = sa.MetaData()
    for table in tables.metadata.tables.values():
        table.to_metadata(metadata)
    add_runtime_tables(metadata)
    with server.database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    ignored = {"alembic_version"}
    relevant = [d for d in differences
                if not (d[0] == "remove_table" and d[1].name in ignored)
                and not (d[0] == "remove_index" and d[1].table.name in ignored)]
    assert relevant == []


def test_rehash_on_login_when_argon2_parameters_change(tmp_path):
    settings = settings_for("sqlite", tmp_path, None)
    with identity_server(settings, fast_identity_settings()) as first:
        owner = first.register("Rehash").owner
    stronger = fast_identity_settings(argon2_time_cost=2)
    assert isinstance(stronger, IdentitySettings)
    with identity_server(settings, stronger) as second:
        second.login(owner.email)
        with second.database.engine.connect() as connection:
            stored = connection.execute(sa.select(tables.users.c.password_hash).where(
                tables.users.c.id == owner.user_id)).scalar_one()
    assert "t=2" in stored
