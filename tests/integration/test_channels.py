"""Internal channels: retries of idempotent methods only, deadlines, propagation."""

from concurrent import futures

import grpc
import pytest

from pivotal_runtime import context as call_context
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.context import Principal
from pivotal_runtime.contract import method_rules
from pivotal_runtime.settings import Settings
from tests.support.contract_calls import call, implement, message_classes

WORKLOAD = "quotation"


def rule_where(idempotent: bool):
    return next(r for r in method_rules().values()
                if r.workload == WORKLOAD and r.idempotent == idempotent)


class Recorder:
    def __init__(self, failures_before_success: int, delay: float = 0.0):
        self.failures = failures_before_success
        self.delay = delay
        self.calls = 0
        self.metadata: list[dict] = []

    def behavior(self, response_class):
        import time

        def handle(request, context):
            self.calls += 1
            self.metadata.append(dict(context.invocation_metadata()))
            if self.delay:
                time.sleep(self.delay)
            if self.calls <= self.failures:
                context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            return response_class()

        return handle


@pytest.fixture
def serve():
    servers = []

    def start(rule, recorder):
        _, response_class = message_classes(rule)
        registration = implement(rule, recorder.behavior(response_class))
        server = grpc.server(futures.ThreadPoolExecutor(4))
        registration(server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(0)


def test_idempotent_method_is_retried_on_unavailable(serve):
    rule = rule_where(idempotent=True)
    recorder = Recorder(failures_before_success=2)
    target = serve(rule, recorder)
    factory = ChannelFactory(Settings())
    call(factory.channel(WORKLOAD, target), rule.full_method)
    assert recorder.calls == 3
    factory.close()


def test_non_idempotent_method_is_not_retried(serve):
    rule = rule_where(idempotent=False)
    recorder = Recorder(failures_before_success=1)
    target = serve(rule, recorder)
    factory = ChannelFactory(Settings())
    with pytest.raises(grpc.RpcError) as error:
        call(factory.channel(WORKLOAD, target), rule.full_method)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert recorder.calls == 1
    factory.close()


def test_every_call_gets_the_default_deadline(serve):
    rule = rule_where(idempotent=False)
    recorder = Recorder(failures_before_success=0, delay=1.5)
    target = serve(rule, recorder)
    factory = ChannelFactory(Settings(default_deadline_seconds=0.3))
    channel = factory.channel(WORKLOAD, target)
    stub = channel.unary_unary(rule.full_method, request_serializer=lambda m: b"",
                               response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as error:
        stub(object())  # no timeout given by the caller
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    factory.close()


def test_caller_identity_and_request_id_are_propagated(serve):
    rule = rule_where(idempotent=False)
    recorder = Recorder(failures_before_success=0)
    target = serve(rule, recorder)
    factory = ChannelFactory(Settings(), token_provider=lambda: "service-token")
    channel = factory.channel(WORKLOAD, target)

    principal = Principal(subject="u-1", organization_id="o-1", token="user-token")
    tokens = (call_context.bind_request_id("req-42"), call_context.bind_principal(principal))
    try:
        call(channel, rule.full_method)
    finally:
        call_context.reset_principal(tokens[1])
        call_context.reset_request_id(tokens[0])
    call(channel, rule.full_method)  # outside a call: the service's own token

    first, second = recorder.metadata
    assert first["authorization"] == "Bearer user-token"
    assert first["x-request-id"] == "req-42"
    assert second["authorization"] == "Bearer service-token"
    assert "x-request-id" not in second
    factory.close()
