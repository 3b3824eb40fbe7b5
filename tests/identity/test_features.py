"""The rest of the identity contract, through the real gRPC server on embedded SQLite:
invitations, users and plan limits, roles, service accounts, sessions, credentials."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest
from google.protobuf import field_mask_pb2
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
from pivotal.identity.v1 import organization_service_pb2 as org_pb
from pivotal.identity.v1 import role_service_pb2 as role_srv
from pivotal.identity.v1 import service_account_service_pb2 as sa_pb
from pivotal.identity.v1 import session_service_pb2 as sess_pb
from pivotal.identity.v1 import user_service_pb2 as user_pb
from pivotal_identity.application.keys import KeyRing
from pivotal_runtime.kit.domain import ServiceDeps, load_domain

from tests.identity.conftest import (
    PASSWORD,
    bearer,
    identity_server,
    settings_for,
    unreachable_port,
)
from tests.identity.test_acceptance import failure

ROLE_REQUEST_ID = "5f0c7a52-3c55-4a1e-9d59-0d7b8f1f2a11"


@pytest.fixture(scope="module")
def server(tmp_path_factory, billing):
    settings = settings_for("sqlite", tmp_path_factory.mktemp("features"), None,
                            billing_port=billing.port)
    with identity_server(settings, billing=billing) as running:
        yield running


@pytest.fixture
def org(server):
    registered = server.register(f"Firm{uuid.uuid4().hex[:4]}")
    tokens = server.login(registered.owner.email)
    return registered, bearer(tokens.access_token), tokens


def new_email(domain: str = "firm.test") -> str:
    return f"p-{uuid.uuid4().hex[:8]}@{domain}"


def create_user(server, token, role_ids=("member",), password=PASSWORD):
    return server.users.CreateUser(user_pb.CreateUserRequest(
        user=user_pb2.User(email=new_email(), given_name="Pat", family_name="Person",
                           role_ids=list(role_ids)), password=password), metadata=token).user


def test_the_runtime_bootstrap_uses_identitys_own_key_source(server):
    deps = ServiceDeps(settings=server.settings, name="identity", database=server.database,
                       channels=server.host.deps.channels)
    assert isinstance(load_domain(deps).key_source, KeyRing)
    quotation = ServiceDeps(settings=server.settings, name="quotation", database=None)
    assert load_domain(quotation).key_source is None


def test_invitation_accept_flow_and_token_hygiene(server, org):
    registered, token, _ = org
    invitee = new_email()
    created = server.invitations.CreateInvitation(inv_pb.CreateInvitationRequest(
        invitation=invitation_pb2.Invitation(email=f"  {invitee.upper()} ", role_id="manager",
                                             message="Welcome aboard")),
        metadata=token).invitation
    assert created.state == invitation_pb2.INVITATION_STATE_PENDING
    assert created.email == invitee and created.send_count == 1
    first_token = server.token_mailed_to(invitee)
    sent = [e for e in server.outbox_events("pivotal.identity.v1.InvitationSent")
            if e.invitation_id == created.invitation_id]
    assert len(sent) == 1 and first_token.encode() not in sent[0].SerializeToString()

    code, reason, _, _ = failure(server.invitations.CreateInvitation,
                                 inv_pb.CreateInvitationRequest(invitation=invitation_pb2.Invitation(
                                     email=invitee, role_id="member")), metadata=token)
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS")

    resent = server.invitations.ResendInvitation(inv_pb.ResendInvitationRequest(
        invitation_id=created.invitation_id, etag=created.etag), metadata=token).invitation
    assert resent.send_count == 2
    second_token = server.token_mailed_to(invitee)
    assert second_token != first_token
    code, reason, _, _ = failure(server.invitations.LookupInvitation,
                                 inv_pb.LookupInvitationRequest(token=first_token))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_TOKEN_INVALID")

    looked = server.invitations.LookupInvitation(inv_pb.LookupInvitationRequest(
        token=second_token))
    assert (looked.email, looked.role_display_name, looked.message) == (
        invitee, "Manager", "Welcome aboard")
    assert looked.organization_display_name == registered.organization.display_name
    user = server.invitations.AcceptInvitation(inv_pb.AcceptInvitationRequest(
        token=second_token, password="invitee password 1", given_name="Ivy",
        family_name="Invitee")).user
    assert user.role_ids == ["manager"] and user.origin == user_pb2.USER_ORIGIN_INVITATION
    code, reason, _, _ = failure(server.invitations.AcceptInvitation,
                                 inv_pb.AcceptInvitationRequest(
                                     token=second_token, password="invitee password 1",
                                     given_name="Ivy", family_name="Again"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_TOKEN_INVALID")
    assert server.login(invitee, "invitee password 1").access_token
    accepted = server.invitations.GetInvitation(inv_pb.GetInvitationRequest(
        invitation_id=created.invitation_id), metadata=token).invitation
    assert accepted.state == invitation_pb2.INVITATION_STATE_ACCEPTED
    assert accepted.accepted_user_id == user.user_id
    registered_events = [e for e in server.outbox_events("pivotal.identity.v1.UserRegistered")
                         if e.user_id == user.user_id]
    assert registered_events[0].invitation_id == created.invitation_id
    assert registered_events[0].version >= 1

    manager = bearer(server.login(invitee, "invitee password 1").access_token)
    code, reason, _, _error = failure(server.invitations.CreateInvitation,
                                     inv_pb.CreateInvitationRequest(
                                         invitation=invitation_pb2.Invitation(
                                             email=new_email(), role_id="admin")),
                                     metadata=manager)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRIVILEGE_ESCALATION")


def test_decline_and_revoke(server, org):
    _, token, _ = org
    declined_email, revoked_email = new_email(), new_email()
    for address in (declined_email, revoked_email):
        server.invitations.CreateInvitation(inv_pb.CreateInvitationRequest(
            invitation=invitation_pb2.Invitation(email=address, role_id="member")),
            metadata=token)
    server.invitations.DeclineInvitation(inv_pb.DeclineInvitationRequest(
        token=server.token_mailed_to(declined_email)))
    listing = server.invitations.ListInvitations(inv_pb.ListInvitationsRequest(
        email=revoked_email), metadata=token)
    revoked = server.invitations.RevokeInvitation(inv_pb.RevokeInvitationRequest(
        invitation_id=listing.invitations[0].invitation_id), metadata=token).invitation
    assert revoked.state == invitation_pb2.INVITATION_STATE_REVOKED
    _code, reason, _, _ = failure(server.invitations.LookupInvitation,
                                 inv_pb.LookupInvitationRequest(
                                     token=server.token_mailed_to(revoked_email)))
    assert reason == "INVITATION_TOKEN_INVALID"
    states = {i.email: i.state for i in server.invitations.ListInvitations(
        inv_pb.ListInvitationsRequest(), metadata=token).invitations}
    assert states[declined_email] == invitation_pb2.INVITATION_STATE_DECLINED


def test_max_users_follows_billing(server, org, tmp_path):
    _, token, _ = org
    server.billing.mode = "unimplemented"
    try:
        code, reason, _, _ = failure(create_user, server, token)  # fail closed, no fail-open
        assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "DEPENDENCY_UNAVAILABLE")
        server.billing.mode = "deny"
        code, reason, _, error = failure(create_user, server, token)
        assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED")
        from pivotal_runtime.status import error_info

        assert error_info(error).metadata["limit"] == "max_users"
        request, metadata = server.billing.requests[-1]
        assert request.key == "max_users" and request.requested == 1
        claims = jwt.decode(metadata["authorization"].split()[1],
                            options={"verify_signature": False})
        assert "entitlements:check" in claims["perms"]
        server.billing.mode = "allow"
        create_user(server, token)
    finally:
        server.billing.mode = "allow"

    settings = settings_for("sqlite", tmp_path, None, billing_port=unreachable_port())
    with identity_server(settings) as isolated:
        owner = isolated.register("Island").owner
        island = bearer(isolated.login(owner.email).access_token)
        code, reason, _, _ = failure(create_user, isolated, island)
        assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "DEPENDENCY_UNAVAILABLE")
        listed = isolated.users.ListUsers(user_pb.ListUsersRequest(), metadata=island)
        assert listed.total_size == 1  # nothing was created


def test_user_lifecycle_guards_and_listing(server, org):
    registered, token, _tokens = org
    owner_id = registered.owner.user_id
    member = create_user(server, token)
    member_tokens = server.login(member.email)

    code, reason, _, _ = failure(server.users.DeactivateUser,
                                 user_pb.DeactivateUserRequest(user_id=owner_id), metadata=token)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SELF_MODIFICATION")
    code, reason, _, _ = failure(server.users.UpdateUser, user_pb.UpdateUserRequest(
        user=user_pb2.User(user_id=member.user_id, display_name="X", etag='W/"999"'),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"])), metadata=token)
    assert (code, reason) == (grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    code, reason, _, _ = failure(server.users.UpdateUser, user_pb.UpdateUserRequest(
        user=user_pb2.User(user_id=member.user_id, display_name="X"),
        update_mask=field_mask_pb2.FieldMask(paths=["state"])), metadata=token)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    updated = server.users.UpdateUser(user_pb.UpdateUserRequest(
        user=user_pb2.User(user_id=member.user_id, display_name="Pat P.", etag=member.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"])), metadata=token).user
    assert updated.display_name == "Pat P." and updated.etag != member.etag

    deactivated = server.users.DeactivateUser(user_pb.DeactivateUserRequest(
        user_id=member.user_id, reason="left"), metadata=token).user
    assert deactivated.state == user_pb2.USER_STATE_DEACTIVATED
    assert [e.reason for e in server.outbox_events("pivotal.identity.v1.UserDeactivated")
            if e.user_id == member.user_id] == ["left"]
    assert [e.reason for e in server.outbox_events("pivotal.identity.v1.SessionRevoked")
            if e.session_id == member_tokens.session_id] == [7]  # USER_DEACTIVATED
    code, reason, _, _ = failure(server.login, member.email)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "ACCOUNT_INACTIVE")
    code, reason, _, _ = failure(server.auth.Refresh, auth_pb.RefreshRequest(
        refresh_token=member_tokens.refresh_token))
    assert reason == "REFRESH_TOKEN_INVALID"
    server.users.ReactivateUser(user_pb.ReactivateUserRequest(user_id=member.user_id),
                                metadata=token)
    assert server.login(member.email).access_token

    page = server.users.ListUsers(user_pb.ListUsersRequest(page_size=1), metadata=token)
    assert len(page.users) == 1 and page.total_size == 2 and page.next_page_token
    rest = server.users.ListUsers(user_pb.ListUsersRequest(
        page_size=1, page_token=page.next_page_token), metadata=token)
    assert {page.users[0].user_id, rest.users[0].user_id} == {owner_id, member.user_id}
    assert not rest.next_page_token
    owners = server.users.ListUsers(user_pb.ListUsersRequest(role_id="owner"), metadata=token)
    assert [u.user_id for u in owners.users] == [owner_id]
    found = server.users.ListUsers(user_pb.ListUsersRequest(query="PAT P"), metadata=token)
    assert [u.user_id for u in found.users] == [member.user_id]
    active = server.users.ListUsers(user_pb.ListUsersRequest(
        states=[user_pb2.USER_STATE_ACTIVE]), metadata=token)
    assert {u.user_id for u in active.users} == {owner_id, member.user_id}
    code, _, details, _ = failure(server.users.ListUsers, user_pb.ListUsersRequest(
        states=[user_pb2.USER_STATE_ACTIVE, user_pb2.USER_STATE_PENDING]), metadata=token)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "states" in details

    server.roles.AssignRole(role_srv.AssignRoleRequest(user_id=member.user_id,
                                                       role_id="owner"), metadata=token)
    member_token = bearer(server.login(member.email).access_token)
    server.roles.RevokeRole(role_srv.RevokeRoleRequest(user_id=owner_id, role_id="owner"),
                            metadata=member_token)
    code, reason, _, _ = failure(server.roles.RevokeRole, role_srv.RevokeRoleRequest(
        user_id=member.user_id, role_id="owner"), metadata=member_token)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER")
    server.users.DeleteUser(user_pb.DeleteUserRequest(user_id=owner_id), metadata=member_token)
    listed = server.users.ListUsers(user_pb.ListUsersRequest(), metadata=member_token)
    assert [u.user_id for u in listed.users] == [member.user_id]
    assert [e.user_id for e in server.outbox_events("pivotal.identity.v1.UserDeleted")
            if e.user_id == owner_id] == [owner_id]


def test_pending_user_sets_a_password_from_the_mailed_link(server, org):
    _, token, _ = org
    pending = server.users.CreateUser(user_pb.CreateUserRequest(user=user_pb2.User(
        email=new_email(), given_name="Pen", family_name="Ding")), metadata=token).user
    assert pending.state == user_pb2.USER_STATE_PENDING and pending.role_ids == ["member"]
    code, reason, _, _ = failure(server.login, pending.email, "anything at all 1")
    assert reason == "INVALID_CREDENTIALS"
    reset = server.token_mailed_to(pending.email)
    server.credentials.CompletePasswordReset(cred_pb.CompletePasswordResetRequest(
        reset_token=reset, new_password="pending chose this 1"))
    assert server.login(pending.email, "pending chose this 1").access_token
    code, reason, _, _ = failure(server.credentials.CompletePasswordReset,
                                 cred_pb.CompletePasswordResetRequest(
                                     reset_token=reset, new_password="pending again 22"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESET_TOKEN_INVALID")
    server.credentials.RequestPasswordReset(cred_pb.RequestPasswordResetRequest(
        email="nobody-at-all@firm.test"))  # answers OK, mails nobody
    assert not [m for m in server.mails() if m["To"] == "nobody-at-all@firm.test"]


def test_change_password_revokes_the_other_sessions(server, org):
    registered, token, _tokens = org
    other = server.login(registered.owner.email)
    code, reason, _, _ = failure(server.credentials.ChangePassword,
                                 cred_pb.ChangePasswordRequest(current_password="wrong one 123",
                                                               new_password="brand new pass 1"),
                                 metadata=token)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "REAUTHENTICATION_FAILED")
    code, reason, _, _ = failure(server.credentials.ChangePassword,
                                 cred_pb.ChangePasswordRequest(current_password=PASSWORD,
                                                               new_password=PASSWORD),
                                 metadata=token)
    assert reason == "PASSWORD_POLICY_VIOLATION"
    server.credentials.ChangePassword(cred_pb.ChangePasswordRequest(
        current_password=PASSWORD, new_password="brand new pass 1"), metadata=token)
    server.users.GetMe(user_pb.GetMeRequest(), metadata=token)  # the calling session lives
    code, reason, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(),
                                 metadata=bearer(other.access_token))
    assert reason == "SESSION_REVOKED"
    assert server.login(registered.owner.email, "brand new pass 1").access_token


def test_sessions_listing_logout_and_validate_token(server, org):
    registered, token, tokens = org
    second = server.login(registered.owner.email)
    mine = server.sessions.ListMySessions(sess_pb.ListMySessionsRequest(), metadata=token)
    assert {s.session_id for s in mine.sessions} == {tokens.session_id, second.session_id}
    assert [s.current for s in mine.sessions if s.session_id == tokens.session_id] == [True]
    revoked = server.sessions.RevokeMySession(sess_pb.RevokeMySessionRequest(
        session_id=second.session_id), metadata=token).session
    assert revoked.revoke_reason == 4  # USER

    member = create_user(server, token, role_ids=["member"])
    member_tokens = server.login(member.email)
    account = server.service_accounts.CreateServiceAccount(sa_pb.CreateServiceAccountRequest(
        service_account=service_account_pb2.ServiceAccount(
            display_name="Checker", permissions=["users:read"])), metadata=token)
    tenant_robot = bearer(server.service_accounts.IssueServiceToken(
        sa_pb.IssueServiceTokenRequest(client_id=account.service_account.client_id,
                                       client_secret=account.client_secret)).access_token)
    # ValidateToken is internal: neither a user nor a tenant's service account may call it.
    for caller in (token, tenant_robot):
        code, reason, _, _ = failure(server.keys.ValidateToken, key_pb.ValidateTokenRequest(
            token=member_tokens.access_token), metadata=caller)
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "WORKLOAD_TOKEN_REQUIRED")
    service = bearer(server.workload_token(registered.organization.organization_id))
    valid = server.keys.ValidateToken(key_pb.ValidateTokenRequest(
        token=member_tokens.access_token), metadata=service)
    assert valid.valid and valid.subject_id == member.user_id and "time:write" in \
        valid.permissions and valid.subject_type == key_pb.TOKEN_SUBJECT_TYPE_USER
    server.sessions.RevokeSession(sess_pb.RevokeSessionRequest(
        user_id=member.user_id, session_id=member_tokens.session_id), metadata=token)
    after = server.keys.ValidateToken(key_pb.ValidateTokenRequest(
        token=member_tokens.access_token), metadata=service)
    assert (after.valid, after.invalid_reason) == (False, "SESSION_REVOKED")
    garbage = server.keys.ValidateToken(key_pb.ValidateTokenRequest(token="abc.def.ghi"),
                                        metadata=service)
    assert (garbage.valid, garbage.invalid_reason) == (False, "TOKEN_INVALID")

    server.auth.Logout(auth_pb.LogoutRequest(), metadata=token)
    server.auth.Logout(auth_pb.LogoutRequest(), metadata=token)  # again: OK
    _code, reason, _, _ = failure(server.auth.Refresh, auth_pb.RefreshRequest(
        refresh_token=tokens.refresh_token))
    assert reason == "REFRESH_TOKEN_INVALID"


def test_custom_roles_reach_the_token_and_check_permission(server, org):
    registered, token, _ = org
    org_id = registered.organization.organization_id
    code, reason, _, _ = failure(server.roles.CreateRole, role_srv.CreateRoleRequest(
        role=role_pb2.Role(display_name="Bad", permissions=["quotes:fly", "plans:write"])),
        metadata=token)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "PERMISSION_UNKNOWN")
    role = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
        display_name="Approver", permissions=["quotes:approve", "time:*"]),
        request_id=ROLE_REQUEST_ID), metadata=token).role
    again = server.roles.CreateRole(role_srv.CreateRoleRequest(role=role_pb2.Role(
        display_name="Approver", permissions=["quotes:approve", "time:*"]),
        request_id=ROLE_REQUEST_ID), metadata=token).role
    assert again.role_id == role.role_id
    code, reason, _, _ = failure(server.roles.CreateRole, role_srv.CreateRoleRequest(
        role=role_pb2.Role(display_name="Other", permissions=["users:read"]),
        request_id=ROLE_REQUEST_ID), metadata=token)
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")

    member = create_user(server, token)
    server.roles.AssignRole(role_srv.AssignRoleRequest(user_id=member.user_id,
                                                       role_id=role.role_id), metadata=token)
    assigned = [e for e in server.outbox_events("pivotal.identity.v1.RoleAssigned")
                if e.user_id == member.user_id]
    assert assigned[-1].role_id == role.role_id and assigned[-1].role_display_name == "Approver"
    claims = jwt.decode(server.login(member.email).access_token,
                        options={"verify_signature": False})
    assert set(claims["roles"]) == {"member", role.role_id}
    assert claims["perms"] == ["quotes:approve", "time:*"]
    assert {"sub", "org", "roles", "sid", "iss", "aud", "exp", "iat", "jti"} <= set(claims)
    check = server.roles.CheckPermission(role_srv.CheckPermissionRequest(
        organization_id=org_id, subject_id=member.user_id, permission="time:approve"),
        metadata=bearer(server.workload_token(org_id)))
    assert check.allowed and list(check.granting_role_ids) == [role.role_id]

    code, reason, _, _ = failure(server.roles.DeleteRole, role_srv.DeleteRoleRequest(
        role_id=role.role_id), metadata=token)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ROLE_IN_USE")
    code, reason, _, _ = failure(server.roles.UpdateRole, role_srv.UpdateRoleRequest(
        role=role_pb2.Role(role_id="admin", display_name="Boss"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"])), metadata=token)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ROLE_BUILT_IN")

    manager = create_user(server, token, role_ids=["manager"])
    manager_token = bearer(server.login(manager.email).access_token)
    code, reason, _, _ = failure(server.roles.AssignRole, role_srv.AssignRoleRequest(
        user_id=member.user_id, role_id="admin"), metadata=manager_token)
    assert code == grpc.StatusCode.PERMISSION_DENIED  # managers hold no roles:assign
    roles = server.roles.ListRoles(role_srv.ListRolesRequest(), metadata=token).roles
    assert [r.role_id for r in roles][:5] == ["owner", "admin", "manager", "member", "billing"]
    permissions = server.roles.ListPermissions(role_srv.ListPermissionsRequest(
        resource="quotes"), metadata=token).permissions
    assert "quotes:approve" in [p.name for p in permissions]


def test_service_account_tokens(server, org):
    registered, token, _ = org
    created = server.service_accounts.CreateServiceAccount(sa_pb.CreateServiceAccountRequest(
        service_account=service_account_pb2.ServiceAccount(
            display_name="Reporter", permissions=["users:read"])), metadata=token)
    client_id = created.service_account.client_id
    issued = server.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
        client_id=client_id, client_secret=created.client_secret))
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert (claims["sub"], claims["org"], claims["roles"], claims["perms"]) == (
        created.service_account.service_account_id, registered.organization.organization_id,
        [], ["users:read"])
    robot = bearer(issued.access_token)
    assert server.users.ListUsers(user_pb.ListUsersRequest(), metadata=robot).users
    code, _, _, _ = failure(server.users.CreateUser, user_pb.CreateUserRequest(
        user=user_pb2.User(email=new_email(), given_name="A", family_name="B")), metadata=robot)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(), metadata=robot)
    assert code == grpc.StatusCode.PERMISSION_DENIED

    wrong_secret = failure(server.service_accounts.IssueServiceToken,
                           sa_pb.IssueServiceTokenRequest(client_id=client_id,
                                                          client_secret="nope-nope-nope"))
    unknown_id = failure(server.service_accounts.IssueServiceToken,
                         sa_pb.IssueServiceTokenRequest(client_id="sa_unknown",
                                                        client_secret="nope-nope-nope"))
    assert wrong_secret[:3] == unknown_id[:3]
    assert wrong_secret[1] == "CLIENT_CREDENTIALS_INVALID"
    rotated = server.service_accounts.RotateServiceAccountSecret(
        sa_pb.RotateServiceAccountSecretRequest(
            service_account_id=created.service_account.service_account_id), metadata=token)
    assert failure(server.service_accounts.IssueServiceToken, sa_pb.IssueServiceTokenRequest(
        client_id=client_id, client_secret=created.client_secret))[1] == \
        "CLIENT_CREDENTIALS_INVALID"
    assert server.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
        client_id=client_id, client_secret=rotated.client_secret)).access_token
    code, reason, _, _ = failure(
        server.service_accounts.CreateServiceAccount, sa_pb.CreateServiceAccountRequest(
            service_account=service_account_pb2.ServiceAccount(
                display_name="Keys", permissions=["keys:rotate"])), metadata=token)
    assert reason == "PERMISSION_UNKNOWN"


def test_organization_update_and_soft_delete(server, org):
    registered, token, _ = org
    org_id = registered.organization.organization_id
    admin = create_user(server, token, role_ids=["admin"])
    admin_token = bearer(server.login(admin.email).access_token)
    updated = server.orgs.UpdateOrganization(org_pb.UpdateOrganizationRequest(
        organization=organization_pb2.Organization(organization_id=org_id,
                                                   time_zone="Europe/Berlin",
                                                   etag=registered.organization.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["time_zone"])), metadata=token)
    assert updated.organization.time_zone == "Europe/Berlin"
    changes = [e for e in server.outbox_events("pivotal.identity.v1.OrganizationUpdated")
               if e.organization_id == org_id]
    assert list(changes[-1].changed_fields) == ["time_zone"]
    # Replicas apply an event only when its version is newer (docs/events.md).
    created = [e for e in server.outbox_events("pivotal.identity.v1.OrganizationCreated")
               if e.organization_id == org_id]
    assert created[0].version == 1 and changes[-1].version > created[0].version
    code, reason, _, _ = failure(server.orgs.UpdateOrganization, org_pb.UpdateOrganizationRequest(
        organization=organization_pb2.Organization(organization_id=org_id, time_zone="Mars/Base"),
        update_mask=field_mask_pb2.FieldMask(paths=["time_zone"])), metadata=token)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, reason, _, _ = failure(server.orgs.DeleteOrganization, org_pb.DeleteOrganizationRequest(
        organization_id=org_id), metadata=admin_token)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRIVILEGE_ESCALATION")
    server.orgs.DeleteOrganization(org_pb.DeleteOrganizationRequest(organization_id=org_id),
                                   metadata=token)
    code, reason, _, _ = failure(server.login, admin.email)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "ACCOUNT_INACTIVE")
    code, reason, _, _ = failure(server.users.GetMe, user_pb.GetMeRequest(), metadata=admin_token)
    assert reason == "SESSION_REVOKED"
    assert [e.organization_id for e in server.outbox_events(
        "pivotal.identity.v1.OrganizationDeleted")].count(org_id) == 1


def test_registration_is_idempotent_and_publishes_its_events(server):
    request = org_pb.RegisterOrganizationRequest(
        organization=organization_pb2.Organization(display_name="Retry Ltd"),
        owner=user_pb2.User(email=new_email("retry.test"), given_name="R", family_name="T"),
        password=PASSWORD, plan_code="team", request_id=str(uuid.uuid4()))
    first = server.orgs.RegisterOrganization(request)
    second = server.orgs.RegisterOrganization(request)
    assert first.organization.organization_id == second.organization.organization_id
    assert first.owner.user_id == second.owner.user_id
    created = [e for e in server.outbox_events("pivotal.identity.v1.OrganizationCreated")
               if e.organization_id == first.organization.organization_id]
    assert len(created) == 1 and created[0].plan_code == "team"
    assert created[0].owner_email == first.owner.email
    assert first.organization.currency_code == "EUR" and first.organization.time_zone == "UTC"
