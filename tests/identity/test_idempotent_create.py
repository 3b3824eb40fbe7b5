"""AIP-155 over real gRPC: concurrent retries of one CreateUser give one user and one answer."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import sqlalchemy as sa
from pivotal.identity.v1 import user_pb2
from pivotal.identity.v1 import user_service_pb2 as user_pb

from tests.identity.conftest import PASSWORD, bearer
from tests.identity.test_acceptance import failure

RETRIES = 20


def test_concurrent_retries_with_one_request_id_create_one_user(server):
    registered = server.register(f"Retry{uuid.uuid4().hex[:4]}")
    token = bearer(server.login(registered.owner.email).access_token)
    email = f"retry-{uuid.uuid4().hex[:8]}@retry.test"
    request = user_pb.CreateUserRequest(
        user=user_pb2.User(email=email, given_name="Ret", family_name="Ry"),
        password=PASSWORD, request_id=str(uuid.uuid4()))

    def create() -> bytes | tuple:
        try:
            return server.users.CreateUser(request, metadata=token, timeout=60
                                           ).user.SerializeToString(deterministic=True)
        except grpc.RpcError as error:
            return (error.code(), error.details())

    with ThreadPoolExecutor(RETRIES) as pool:
        answers = list(pool.map(lambda _: create(), range(RETRIES)))

    assert len(set(answers)) == 1, set(answers)
    assert isinstance(answers[0], bytes), answers[0]
    user = user_pb2.User.FromString(answers[0])
    assert user.email == email
    with server.database.engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM users WHERE email = :email"),
                                   {"email": email}).scalar_one()
    assert count == 1

    reused = user_pb.CreateUserRequest(
        user=user_pb2.User(email=f"other-{email}", given_name="Ret", family_name="Ry"),
        password=PASSWORD, request_id=request.request_id)
    code, reason, _, _ = failure(server.users.CreateUser, reused, metadata=token)
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")


def test_a_request_id_that_is_not_a_uuid_is_refused_naming_the_field(server):
    registered = server.register(f"Uuid{uuid.uuid4().hex[:4]}")
    token = bearer(server.login(registered.owner.email).access_token)
    code, _, details, _ = failure(server.users.CreateUser, user_pb.CreateUserRequest(
        user=user_pb2.User(email=f"u-{uuid.uuid4().hex[:6]}@x.test", given_name="A",
                           family_name="B"), request_id="not-a-uuid"), metadata=token)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in details


def test_a_forged_page_token_is_invalid_argument_not_internal(server):
    import base64

    registered = server.register(f"Page{uuid.uuid4().hex[:4]}")
    token = bearer(server.login(registered.owner.email).access_token)
    for forged in (base64.urlsafe_b64encode(b'{"o":1e999}').decode(), "garbage!!",
                   base64.urlsafe_b64encode(b'{"k":["x"],"f":"other"}').decode()):
        code, _, details, _ = failure(server.users.ListUsers, user_pb.ListUsersRequest(
            page_token=forged), metadata=token)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in details


def test_listing_pages_with_keyset_tokens(server):
    registered = server.register(f"Keys{uuid.uuid4().hex[:4]}")
    token = bearer(server.login(registered.owner.email).access_token)
    for _ in range(4):
        server.users.CreateUser(user_pb.CreateUserRequest(user=user_pb2.User(
            email=f"k-{uuid.uuid4().hex[:8]}@keys.test", given_name="K", family_name="S"),
            password=PASSWORD), metadata=token)
    seen, page_token = [], ""
    while True:
        page = server.users.ListUsers(user_pb.ListUsersRequest(page_size=2,
                                                               page_token=page_token),
                                      metadata=token)
        seen += [u.user_id for u in page.users]
        page_token = page.next_page_token
        if not page_token:
            break
    assert len(seen) == len(set(seen)) == 5


def test_a_workload_gets_its_service_token_with_client_credentials_and_caches_it(server):
    from datetime import UTC, datetime, timedelta

    from pivotal_runtime.bootstrap import build_verifier
    from pivotal_runtime.kit.service_tokens import ClientCredentialsTokenSource, ServiceTokens

    from tests.identity.conftest import OPERATOR_SECRET

    organization = server.register(f"Work{uuid.uuid4().hex[:4]}").organization.organization_id
    now = [datetime.now(UTC)]
    source = ClientCredentialsTokenSource(lambda: server.channel, "operator", OPERATOR_SECRET,
                                          lambda: now[0])
    tokens = ServiceTokens(source, lambda: now[0], timedelta(seconds=60))
    first = tokens.for_workload(organization)
    assert tokens.for_workload(organization) == first  # cached: no second call
    principal = build_verifier(server.settings, server.app.keyring).verify(first)
    assert principal.organization_id == organization
    now[0] += timedelta(minutes=15)  # past expiry minus the margin: a new token
    assert tokens.for_workload(organization) != first
