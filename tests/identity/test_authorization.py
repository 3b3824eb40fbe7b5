"""Issue 9 over gRPC, directly against identity: acting on another principal (attacks 1 and
2, table-driven over every such RPC and every pair of built-in and custom roles and a service
account), decisions from current state (attack 3), unrevocable service-account tokens
(attack 4), internal RPCs with user and tenant tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from pivotal.identity.v1 import credential_service_pb2 as cred_pb
from pivotal.identity.v1 import key_service_pb2 as key_pb
from pivotal.identity.v1 import mfa_service_pb2 as mfa_pb
from pivotal.identity.v1 import role_pb2, service_account_pb2, user_pb2
from pivotal.identity.v1 import role_service_pb2 as role_srv
from pivotal.identity.v1 import service_account_service_pb2 as sa_pb
from pivotal.identity.v1 import user_service_pb2 as user_pb
from pivotal_identity.adapters import tables
from pivotal_identity.domain import rbac
from pivotal_runtime.contract import method_rules
from pivotal_runtime.permissions import grants
from pivotal_runtime.status import error_info

from tests.identity.conftest import PASSWORD, bearer

HELPDESK = ("users:read", "users:write", "roles:read", "roles:assign")
ROBOT = ("users:read", "users:write", "roles:assign", "service_accounts:write",
         "service_accounts:read")
TARGET_ROLES = ("owner", "admin", "manager", "member", "billing", "helpdesk")
ACTORS = ("owner", "admin", "manager", "member", "billing", "helpdesk", "service_account")


def refusal(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    info = error_info(raised.value)
    return raised.value.code(), info.reason if info else ""


@dataclass
class Tenant:
    organization_id: str
    owner_token: tuple
    role_ids: dict[str, str]  # role name -> role id (built-in: the name itself)

    def permissions_of(self, role: str) -> frozenset[str]:
        if role == "helpdesk":
            return frozenset(HELPDESK)
        return rbac.built_in_permissions(role)


def new_tenant(server) -> Tenant:
    registered = server.register(f"Authz{uuid.uuid4().hex[:6]}")
    owner = bearer(server.login(registered.owner.email).access_token)
    roles = {name: name for name in rbac.BUILT_IN_DISPLAY}
    for name, permissions in (("helpdesk", HELPDESK), ("reader", ("users:read",))):
        roles[name] = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
            display_name=f"{name} {uuid.uuid4().hex[:4]}", permissions=list(permissions))),
            metadata=owner).role.role_id
    return Tenant(registered.organization.organization_id, owner, roles)


def new_user(server, tenant: Tenant, role: str) -> tuple[user_pb2.User, tuple]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@authz.test"
    user = server.users.CreateUser(user_pb.CreateUserRequest(
        user=user_pb2.User(email=email, given_name="Pat", family_name=role.title(),
                           role_ids=[tenant.role_ids[role]]), password=PASSWORD),
        metadata=tenant.owner_token).user
    return user, bearer(server.login(email).access_token)


def new_account(server, tenant: Tenant, permissions) -> tuple[service_account_pb2.ServiceAccount,
                                                              tuple]:
    created = server.service_accounts.CreateServiceAccount(sa_pb.CreateServiceAccountRequest(
        service_account=service_account_pb2.ServiceAccount(
            display_name=f"robot {uuid.uuid4().hex[:6]}", permissions=list(permissions))),
        metadata=tenant.owner_token)
    token = server.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
        client_id=created.service_account.client_id,
        client_secret=created.client_secret)).access_token
    return created.service_account, bearer(token)


def fresh(server, tenant: Tenant, user_id: str) -> user_pb2.User:
    return server.users.GetUser(user_pb.GetUserRequest(user_id=user_id),
                                metadata=tenant.owner_token).user


def reset_tokens_of(server, user_id: str) -> int:
    with server.database.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(
            tables.password_reset_tokens).where(
            tables.password_reset_tokens.c.user_id == user_id)).scalar_one()


# Every RPC that changes or acts for another user: (name, permission, call, side effect
# that a refusal must not leave).
def _update_email(server, tenant, target, token):
    return server.users.UpdateUser(user_pb.UpdateUserRequest(
        user=user_pb2.User(user_id=target.user_id, email=f"x-{uuid.uuid4().hex[:6]}@evil.test",
                           etag=fresh(server, tenant, target.user_id).etag),
        update_mask=field_mask_pb2.FieldMask(paths=["email"])), metadata=token)


def _reset_password(server, tenant, target, token):
    return server.credentials.ResetUserPassword(cred_pb.ResetUserPasswordRequest(
        user_id=target.user_id), metadata=token)


def _reset_mfa(server, tenant, target, token):
    return server.mfa.ResetUserMfa(mfa_pb.ResetUserMfaRequest(user_id=target.user_id),
                                   metadata=token)


def _assign(server, tenant, target, token):
    return server.roles.AssignRole(role_srv.AssignRoleRequest(
        user_id=target.user_id, role_id=tenant.role_ids["reader"],
        etag=fresh(server, tenant, target.user_id).etag), metadata=token)


def _revoke(server, tenant, target, token):
    return server.roles.RevokeRole(role_srv.RevokeRoleRequest(
        user_id=target.user_id, role_id=tenant.role_ids["reader"],
        etag=fresh(server, tenant, target.user_id).etag), metadata=token)


def _deactivate(server, tenant, target, token):
    return server.users.DeactivateUser(user_pb.DeactivateUserRequest(
        user_id=target.user_id, etag=fresh(server, tenant, target.user_id).etag),
        metadata=token)


def _reactivate(server, tenant, target, token):
    return server.users.ReactivateUser(user_pb.ReactivateUserRequest(
        user_id=target.user_id, etag=fresh(server, tenant, target.user_id).etag),
        metadata=token)


def _delete(server, tenant, target, token):
    return server.users.DeleteUser(user_pb.DeleteUserRequest(
        user_id=target.user_id, etag=fresh(server, tenant, target.user_id).etag),
        metadata=token)


# In this order on one target (a deactivation is undone before the deletion).
USER_RPCS = (("UpdateUser", _update_email), ("ResetUserPassword", _reset_password),
             ("ResetUserMfa", _reset_mfa), ("AssignRole", _assign), ("RevokeRole", _revoke),
             ("DeactivateUser", _deactivate), ("ReactivateUser", _reactivate),
             ("DeleteUser", _delete))
RULES = {path.rsplit("/", 1)[-1]: rule for path, rule in method_rules().items()
         if path.startswith("/pivotal.identity.v1.")}


def expected(actor_roles: frozenset[str], actor_perms: frozenset[str], rpc: str,
             target_roles: frozenset[str], target_perms: frozenset[str]) -> str:
    """The oracle: "OK", or the refusal's reason."""
    needed = RULES[rpc].permissions
    if needed and not any(grants(actor_perms, p) for p in needed):
        return "PERMISSION_MISSING"
    if "owner" in target_roles and "owner" not in actor_roles:
        return "PRIVILEGE_ESCALATION"
    if rbac.first_uncovered(actor_perms, target_perms):
        return "PRIVILEGE_ESCALATION"
    return "OK"


@pytest.fixture(scope="module")
def tenant(server):
    return new_tenant(server)


@pytest.fixture(scope="module")
def actors(server, tenant):
    found = {}
    for role in ACTORS[:-1]:
        _user, token = new_user(server, tenant, role)
        found[role] = (frozenset([role]), tenant.permissions_of(role), token)
    _account, token = new_account(server, tenant, ROBOT)
    found["service_account"] = (frozenset(), frozenset(ROBOT), token)
    return found


@pytest.mark.parametrize("actor", ACTORS)
def test_acting_on_another_user_needs_to_cover_everything_it_holds(server, tenant, actors,
                                                                  actor):
    actor_roles, actor_perms, token = actors[actor]
    outcomes = {}
    for target_role in TARGET_ROLES:
        target, _ = new_user(server, tenant, target_role)
        target_perms = tenant.permissions_of(target_role)
        for rpc, call in USER_RPCS:
            before = fresh(server, tenant, target.user_id)
            resets_before = reset_tokens_of(server, target.user_id)
            want = expected(actor_roles, actor_perms, rpc, frozenset([target_role]),
                            target_perms)
            if want == "OK":
                call(server, tenant, target, token)
                outcomes[(target_role, rpc)] = "OK"
                continue
            code, reason = refusal(call, server, tenant, target, token)
            outcomes[(target_role, rpc)] = reason
            assert code == grpc.StatusCode.PERMISSION_DENIED, (actor, target_role, rpc, reason)
            assert reason == want, (actor, target_role, rpc)
            after = fresh(server, tenant, target.user_id)
            assert (after.etag, after.email, after.state, list(after.role_ids)) == \
                (before.etag, before.email, before.state, list(before.role_ids)), \
                (actor, target_role, rpc)
            assert reset_tokens_of(server, target.user_id) == resets_before
    # Not vacuous: below the owner, whoever holds users:write meets a stronger target.
    if actor != "owner" and grants(actor_perms, "users:write"):
        assert "PRIVILEGE_ESCALATION" in outcomes.values(), outcomes


def test_the_helpdesk_attack_is_refused_and_changes_nothing(server, tenant, actors):
    """Attack 1: a helpdesk (users:write, not `*`) cannot reset an administrator's password
    and receive the token, change its email, or reset its MFA."""
    _, _, helpdesk = actors["helpdesk"]
    admin, _ = new_user(server, tenant, "admin")
    member, _ = new_user(server, tenant, "member")
    for call in (_reset_password, _update_email, _reset_mfa):
        assert refusal(call, server, tenant, admin, helpdesk) == \
            (grpc.StatusCode.PERMISSION_DENIED, "PRIVILEGE_ESCALATION")
    assert reset_tokens_of(server, admin.user_id) == 0
    assert fresh(server, tenant, admin.user_id).email == admin.email
    # A helpdesk still resets the password of a user it covers: "member" needs time:write,
    # which helpdesk lacks, so even that is refused; a user with only `reader` is covered.
    assert refusal(_reset_password, server, tenant, member, helpdesk)[1] == \
        "PRIVILEGE_ESCALATION"
    reader, _ = new_user(server, tenant, "reader")
    assert _reset_password(server, tenant, reader, helpdesk).reset_token


@pytest.mark.parametrize("target_permissions,allowed", [
    (("users:read",), True),
    (("users:read", "users:write"), True),
    (("customers:*",), False),
    (("users:read", "invoices:read"), False),
])
def test_service_account_secrets_rotate_only_for_a_covering_caller(server, tenant,
                                                                   target_permissions,
                                                                   allowed):
    """Attack 2: RotateServiceAccountSecret (and Update, Delete) refuse a caller whose
    permissions do not cover the account's, and return no secret."""
    _, robot = new_account(server, tenant, ROBOT)
    target, _ = new_account(server, tenant, target_permissions)

    def etag() -> str:
        return server.service_accounts.GetServiceAccount(sa_pb.GetServiceAccountRequest(
            service_account_id=target.service_account_id),
            metadata=tenant.owner_token).service_account.etag

    calls = (
        lambda: server.service_accounts.RotateServiceAccountSecret(
            sa_pb.RotateServiceAccountSecretRequest(service_account_id=target.service_account_id,
                                                    etag=etag()), metadata=robot),
        lambda: server.service_accounts.UpdateServiceAccount(sa_pb.UpdateServiceAccountRequest(
            service_account=service_account_pb2.ServiceAccount(
                service_account_id=target.service_account_id, description="mine now",
                etag=etag()), update_mask=field_mask_pb2.FieldMask(paths=["description"])),
            metadata=robot),
        lambda: server.service_accounts.DeleteServiceAccount(sa_pb.DeleteServiceAccountRequest(
            service_account_id=target.service_account_id, etag=etag()), metadata=robot),
    )
    for call in calls:
        before = etag()
        if allowed:
            call()
            continue
        assert refusal(call) == (grpc.StatusCode.PERMISSION_DENIED, "PRIVILEGE_ESCALATION")
        assert etag() == before


def test_a_demoted_administrator_and_a_removed_permission_are_refused_at_once(server, tenant):
    """Attack 3: identity decides from current state, not from the token's claims."""
    admin, admin_token = new_user(server, tenant, "admin")
    server.roles.RevokeRole(role_srv.RevokeRoleRequest(
        user_id=admin.user_id, role_id="admin", etag=fresh(server, tenant, admin.user_id).etag),
        metadata=tenant.owner_token)
    reassign = role_srv.AssignRoleRequest(user_id=admin.user_id, role_id="admin",
                                          etag=fresh(server, tenant, admin.user_id).etag)
    assert refusal(server.roles.AssignRole, reassign, metadata=admin_token) == \
        (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED")
    create = sa_pb.CreateServiceAccountRequest(service_account=service_account_pb2.ServiceAccount(
        display_name="backdoor", permissions=["users:write"]))
    assert refusal(server.service_accounts.CreateServiceAccount, create,
                   metadata=admin_token)[1] == "TOKEN_REVOKED"
    assert list(fresh(server, tenant, admin.user_id).role_ids) == []
    # A new login carries what the user holds now: no administrator rights.
    email = fresh(server, tenant, admin.user_id).email
    relogged = bearer(server.login(email).access_token)
    assert refusal(server.roles.AssignRole, reassign, metadata=relogged)[0] == \
        grpc.StatusCode.PERMISSION_DENIED

    # A permission removed from a custom role: gone at once for tokens carrying it.
    role = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
        display_name=f"writers {uuid.uuid4().hex[:4]}",
        permissions=["users:read", "users:write"])), metadata=tenant.owner_token).role
    writer, _ = new_user(server, tenant, "member")
    server.roles.AssignRole(role_srv.AssignRoleRequest(
        user_id=writer.user_id, role_id=role.role_id,
        etag=fresh(server, tenant, writer.user_id).etag), metadata=tenant.owner_token)
    writer_token = bearer(server.login(writer.email).access_token)
    reader, _ = new_user(server, tenant, "reader")
    server.roles.UpdateRole(role_srv.UpdateRoleRequest(
        role=role_pb2.Role(role_id=role.role_id, permissions=["users:read"], etag=role.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["permissions"])),
        metadata=tenant.owner_token)
    assert refusal(_reset_password, server, tenant, reader, writer_token) == \
        (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED")
    again = bearer(server.login(writer.email).access_token)
    assert refusal(_reset_password, server, tenant, reader, again) == \
        (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_MISSING")
    assert reset_tokens_of(server, reader.user_id) == 0


def test_a_deleted_service_accounts_token_is_refused_and_invalid(server, tenant):
    """Attack 4: after its deletion (or its organization's), a service account's token
    neither lists users nor creates accounts, and ValidateToken calls it invalid."""
    account, token = new_account(server, tenant, ("users:read", "service_accounts:write"))
    server.users.ListUsers(user_pb.ListUsersRequest(), metadata=token)
    workload = bearer(server.workload_token(tenant.organization_id))
    raw = token[0][1].removeprefix("Bearer ")
    assert server.keys.ValidateToken(key_pb.ValidateTokenRequest(token=raw),
                                     metadata=workload).valid
    etag = server.service_accounts.GetServiceAccount(sa_pb.GetServiceAccountRequest(
        service_account_id=account.service_account_id),
        metadata=tenant.owner_token).service_account.etag
    server.service_accounts.DeleteServiceAccount(sa_pb.DeleteServiceAccountRequest(
        service_account_id=account.service_account_id, etag=etag), metadata=tenant.owner_token)
    assert refusal(server.users.ListUsers, user_pb.ListUsersRequest(), metadata=token) == \
        (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED")
    assert refusal(server.service_accounts.CreateServiceAccount,
                   sa_pb.CreateServiceAccountRequest(
                       service_account=service_account_pb2.ServiceAccount(
                           display_name="another", permissions=["users:read"])),
                   metadata=token) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED")
    answer = server.keys.ValidateToken(key_pb.ValidateTokenRequest(token=raw),
                                       metadata=workload)
    assert (answer.valid, answer.invalid_reason) == (False, "TOKEN_REVOKED")


def test_a_rotated_secret_ends_the_accounts_earlier_tokens(server, tenant):
    account, token = new_account(server, tenant, ("users:read",))
    etag = server.service_accounts.GetServiceAccount(sa_pb.GetServiceAccountRequest(
        service_account_id=account.service_account_id),
        metadata=tenant.owner_token).service_account.etag
    rotated = server.service_accounts.RotateServiceAccountSecret(
        sa_pb.RotateServiceAccountSecretRequest(service_account_id=account.service_account_id,
                                                etag=etag), metadata=tenant.owner_token)
    assert refusal(server.users.ListUsers, user_pb.ListUsersRequest(), metadata=token)[1] == \
        "TOKEN_REVOKED"
    new = server.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
        client_id=account.client_id, client_secret=rotated.client_secret)).access_token
    server.users.ListUsers(user_pb.ListUsersRequest(), metadata=bearer(new))


@pytest.mark.parametrize("rpc", ["ValidateToken", "CheckPermission", "ListRevocations"])
def test_internal_rpcs_refuse_user_and_tenant_tokens(server, tenant, rpc):
    """Internal RPCs need a platform workload's service token, whatever the caller holds."""
    _, robot = new_account(server, tenant, ROBOT)
    requests = {
        "ValidateToken": (server.keys.ValidateToken, key_pb.ValidateTokenRequest(token="x")),
        "CheckPermission": (server.roles.CheckPermission, role_srv.CheckPermissionRequest(
            organization_id=tenant.organization_id, subject_id="u", permission="users:read")),
        "ListRevocations": (server.keys.ListRevocations, key_pb.ListRevocationsRequest()),
    }
    call, request = requests[rpc]
    for token in (tenant.owner_token, robot):
        assert refusal(call, request, metadata=token) == \
            (grpc.StatusCode.PERMISSION_DENIED, "WORKLOAD_TOKEN_REQUIRED")
    call(request, metadata=bearer(server.workload_token(tenant.organization_id)))
    call(request, metadata=bearer(server.workload_token("")))  # a token of no tenant


def test_crafted_tokens_on_public_methods_answer_as_without_one(server, caplog):
    """Attack 5 over gRPC: an `alg` that does not fit the key its `kid` names, on login,
    refresh, the JWKS and invitation lookup: the same answer as without a token, and no
    error or traceback logged."""
    import logging
    import time as clock

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from pivotal.identity.v1 import auth_service_pb2 as auth_pb
    from pivotal.identity.v1 import invitation_service_pb2 as inv_pb

    kid = server.keys.GetJwks(key_pb.GetJwksRequest()).keys[0].kid
    claims = {"sub": "x", "org": "y", "iss": "i", "aud": "a", "jti": "j",
              "iat": int(clock.time()), "exp": int(clock.time()) + 600}
    crafted = [jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                          headers={"kid": kid}),
               jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA",
                          headers={"kid": kid})]
    calls = [
        (server.auth.Login, auth_pb.LoginRequest(email=f"n-{uuid.uuid4().hex[:6]}@x.test",
                                                 password="x" * 12)),
        (server.auth.Refresh, auth_pb.RefreshRequest(refresh_token="pfr_unknown")),
        (server.keys.GetJwks, key_pb.GetJwksRequest()),
        (server.invitations.LookupInvitation, inv_pb.LookupInvitationRequest(token="pfi_x")),
    ]

    def outcome(call, request, metadata=()):
        try:
            call(request, metadata=metadata)
            return "OK"
        except grpc.RpcError as error:
            return error.code(), (error_info(error).reason if error_info(error) else "")

    with caplog.at_level(logging.INFO):
        for token in crafted:
            for call, request in calls:
                plain = outcome(call, request)
                assert outcome(call, request, bearer(token)) == plain
                assert plain == "OK" or plain[0] != grpc.StatusCode.INTERNAL
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_get_me_answers_from_current_state_and_a_fresh_organization(server, tenant):
    """GetMe's permissions come from the per-call read, never a cache; the organization from
    a cache that the change's commit invalidates."""
    from pivotal.identity.v1 import organization_pb2
    from pivotal.identity.v1 import organization_service_pb2 as org_pb

    role = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
        display_name=f"movers {uuid.uuid4().hex[:4]}",
        permissions=["users:read", "customers:write"])), metadata=tenant.owner_token).role
    user, _ = new_user(server, tenant, "member")
    server.roles.AssignRole(role_srv.AssignRoleRequest(
        user_id=user.user_id, role_id=role.role_id,
        etag=fresh(server, tenant, user.user_id).etag), metadata=tenant.owner_token)
    token = bearer(server.login(user.email).access_token)
    me = server.users.GetMe(user_pb.GetMeRequest(), metadata=token)
    assert "customers:write" in me.permissions
    server.roles.UpdateRole(role_srv.UpdateRoleRequest(
        role=role_pb2.Role(role_id=role.role_id, permissions=["users:read"], etag=role.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["permissions"])),
        metadata=tenant.owner_token)
    token = bearer(server.login(user.email).access_token)
    assert "customers:write" not in server.users.GetMe(user_pb.GetMeRequest(),
                                                        metadata=token).permissions

    organization = server.orgs.GetOrganization(org_pb.GetOrganizationRequest(
        organization_id=tenant.organization_id), metadata=tenant.owner_token).organization
    renamed = f"Renamed {uuid.uuid4().hex[:4]}"
    server.orgs.UpdateOrganization(org_pb.UpdateOrganizationRequest(
        organization=organization_pb2.Organization(
            organization_id=tenant.organization_id, display_name=renamed,
            etag=organization.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"])),
        metadata=tenant.owner_token)
    assert server.users.GetMe(user_pb.GetMeRequest(),
                              metadata=token).organization.display_name == renamed


def test_a_client_written_forwarded_for_is_not_the_sessions_address(server):
    """Attack 6 over gRPC: X-Forwarded-For is the client's word; the session records the
    peer (or what the gateway vouched for in `x-pivotal-client-address`)."""
    from pivotal.identity.v1 import auth_service_pb2 as auth_pb
    from pivotal.identity.v1 import session_service_pb2 as sess_pb

    owner = server.register(f"Spoof{uuid.uuid4().hex[:4]}").owner
    tokens = server.auth.Login(auth_pb.LoginRequest(email=owner.email, password=PASSWORD),
                               metadata=(("x-forwarded-for", "203.0.113.66"),))
    sessions = server.sessions.ListMySessions(sess_pb.ListMySessionsRequest(),
                                              metadata=bearer(tokens.access_token)).sessions
    assert {s.ip_address for s in sessions} == {"127.0.0.1"}
