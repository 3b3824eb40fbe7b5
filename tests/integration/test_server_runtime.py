"""The runtime's interceptors and lifecycle, over a real gRPC server on 127.0.0.1."""

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pivotal_runtime.permissions import BUILT_IN_ROLES
from pivotal_runtime.status import error_info, unpack_details
from tests.support.contract_calls import call, find_rule, implement, message_classes
from tests.support.hosts import FakeDatabase, running_host
from tests.support.tokens import TokenMinter, unsigned_token

WORKLOAD = "quotation"


@pytest.fixture(scope="module")
def signer():
    return TokenMinter()


@pytest.fixture(scope="module")
def server(signer):
    database = FakeDatabase()
    with running_host(WORKLOAD, signer.keys(), database=database) as (host, channel):
        yield host, channel, database


def bearer(token):
    return (("authorization", f"Bearer {token}"),)


def protected_rule():
    return find_rule(WORKLOAD, permission=True, empty_request_valid=True)


def roles_without(permission: str) -> list[str]:
    from pivotal_runtime.permissions import grants

    return [role for role, granted in BUILT_IN_ROLES.items() if not grants(granted, permission)]


def test_no_token_is_unauthenticated(server):
    _, channel, _ = server
    with pytest.raises(grpc.RpcError) as error:
        call(channel, protected_rule().full_method)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    info = error_info(error.value)
    assert (info.reason, info.domain) == ("TOKEN_MISSING", "pivotal.quotation")


@pytest.mark.parametrize("bad", ["foreign", "expired", "audience", "none"])
def test_bad_tokens_are_unauthenticated(server, signer, bad):
    _, channel, _ = server
    token = {
        "foreign": lambda: TokenMinter(kid=signer.kid).mint(roles=["owner"]),
        "expired": lambda: signer.mint(roles=["owner"], ttl=-120),
        "audience": lambda: signer.mint(roles=["owner"], aud="other-api"),
        "none": lambda: unsigned_token(),
    }[bad]()
    with pytest.raises(grpc.RpcError) as error:
        call(channel, protected_rule().full_method, metadata=bearer(token))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_valid_token_without_the_permission_is_denied(server, signer):
    _, channel, _ = server
    rule = protected_rule()
    token = signer.mint(roles=roles_without(rule.permission)[:1] or ["nobody"])
    with pytest.raises(grpc.RpcError) as error:
        call(channel, rule.full_method, metadata=bearer(token))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(error.value)
    assert info.reason == "PERMISSION_MISSING"
    assert info.metadata["permission"] == rule.permission


def test_valid_token_with_the_permission_reaches_the_service(server, signer):
    _, channel, _ = server
    token = signer.mint(roles=["owner"])
    with pytest.raises(grpc.RpcError) as error:
        call(channel, protected_rule().full_method, metadata=bearer(token))
    # The quotation domain is not implemented yet: the call got past authorization.
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "not implemented" in error.value.details()
    assert error_info(error.value).reason == "NOT_IMPLEMENTED"


def test_request_id_is_echoed_or_minted(server, signer):
    _, channel, _ = server
    rule = protected_rule()
    with pytest.raises(grpc.RpcError) as error:
        call(channel, rule.full_method, metadata=(("x-request-id", "req-abc-123"),))
    # An error answer is trailers-only (so proxies may retry it): the id is in the trailers.
    assert ("x-request-id", "req-abc-123") in error.value.trailing_metadata()
    with pytest.raises(grpc.RpcError) as error:
        call(channel, rule.full_method)
    minted = dict(error.value.trailing_metadata())["x-request-id"]
    assert len(minted) == 32


def test_request_id_is_in_the_headers_of_a_successful_answer(signer):
    rule = protected_rule()
    _, response_class = message_classes(rule)
    registration = implement(rule, lambda request, context: response_class())
    with running_host(WORKLOAD, signer.keys(), extra_registrations=[registration]) as (_, channel):
        _, outcome = call(channel, rule.full_method,
                          metadata=(*bearer(signer.mint(roles=["owner"])),
                                    ("x-request-id", "req-ok-1")))
    assert ("x-request-id", "req-ok-1") in outcome.initial_metadata()


def test_domain_errors_carry_google_rpc_details(signer):
    from pivotal_runtime.errors import FieldViolation, InvalidArgument

    rule = protected_rule()

    def fail(request, context):
        raise InvalidArgument([FieldViolation("quote.title", "must not be empty"),
                               FieldViolation("quote.line_items", "needs at least one")])

    with running_host(WORKLOAD, signer.keys(),
                      extra_registrations=[implement(rule, fail)]) as (_, channel):
        with pytest.raises(grpc.RpcError) as error:
            call(channel, rule.full_method, metadata=bearer(signer.mint(roles=["owner"])))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = unpack_details(error.value)
    info = next(d for d in details if isinstance(d, error_details_pb2.ErrorInfo))
    bad_request = next(d for d in details if isinstance(d, error_details_pb2.BadRequest))
    assert info.reason == "INVALID_ARGUMENT"
    assert [v.field for v in bad_request.field_violations] == ["quote.title", "quote.line_items"]


def test_unexpected_errors_are_internal_without_leaking_details(signer):
    rule = protected_rule()

    def crash(request, context):
        raise RuntimeError("password=hunter2 connection string leaked")

    with running_host(WORKLOAD, signer.keys(),
                      extra_registrations=[implement(rule, crash)]) as (_, channel):
        with pytest.raises(grpc.RpcError) as error:
            call(channel, rule.full_method, metadata=bearer(signer.mint(roles=["owner"])))
    assert error.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in error.value.details()
    assert error_info(error.value).reason == "INTERNAL"


def test_health_follows_the_database(server):
    host, channel, database = server
    stub = health_pb2_grpc.HealthStub(channel)
    service = host.service_names[0]

    def status():
        return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status

    import time

    def wait_for(expected, seconds=5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if status() == expected:
                return True
            time.sleep(0.05)
        return False

    assert wait_for(health_pb2.HealthCheckResponse.SERVING)
    database.healthy = False
    assert wait_for(health_pb2.HealthCheckResponse.NOT_SERVING)
    database.healthy = True
    assert wait_for(health_pb2.HealthCheckResponse.SERVING)
