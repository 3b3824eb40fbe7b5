"""Calls any contract RPC by name with an empty request (for runtime-level tests)."""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pool, message_factory

from pivotal_runtime.contract import MethodRule, method_rules


def message_classes(rule: MethodRule):
    """The request and response classes of a contract RPC."""
    method = descriptor_pool.Default().FindServiceByName(rule.service).methods_by_name[rule.method]
    return (message_factory.GetMessageClass(method.input_type),
            message_factory.GetMessageClass(method.output_type))


def call(channel: grpc.Channel, full_method: str, metadata=(), request=None, timeout=5.0):
    service_name, method_name = full_method.lstrip("/").split("/")
    method = descriptor_pool.Default().FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(full_method, request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    return stub.with_call(request or request_class(), metadata=metadata, timeout=timeout)


def accepts_empty_request(rule: MethodRule) -> bool:
    """True when the contract validation lets an empty request of `rule` through (no
    REQUIRED field): what runtime tests that send empty requests need."""
    from pivotal_runtime.errors import InvalidArgument
    from pivotal_runtime.validation import validate_request

    request_class, _ = message_classes(rule)
    try:
        validate_request(request_class(), rule.method)
    except InvalidArgument:
        return False
    return True


def find_rule(workload: str, *, public=None, permission=None, authenticated=None,
              empty_request_valid: bool = False) -> MethodRule:
    for rule in method_rules().values():
        if rule.workload != workload:
            continue
        if empty_request_valid and not accepts_empty_request(rule):
            continue
        if public is not None and rule.public != public:
            continue
        if authenticated is not None and rule.authenticated != authenticated:
            continue
        if permission is True and not rule.permission:
            continue
        if isinstance(permission, str) and rule.permission != permission:
            continue
        return rule
    raise LookupError(f"no {workload} method matching")


def implement(rule: MethodRule, behavior):
    """A registration (for ServiceHost's extra_registrations) that serves one contract RPC
    with `behavior`; the rest of that gRPC service answers UNIMPLEMENTED."""
    method = descriptor_pool.Default().FindServiceByName(rule.service).methods_by_name[rule.method]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)

    def not_here(request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not part of this test server")

    def add(server):
        handlers = {}
        for other in method.containing_service.methods:
            handlers[other.name] = grpc.unary_unary_rpc_method_handler(
                behavior if other.name == rule.method else not_here,
                request_deserializer=message_factory.GetMessageClass(other.input_type).FromString,
                response_serializer=message_factory.GetMessageClass(
                    other.output_type).SerializeToString)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(rule.service, handlers),))
        return {rule.service}

    add.response_class = response_class
    add.request_class = request_class
    return add
