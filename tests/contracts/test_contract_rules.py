"""Conventions of docs/contracts.md that buf lint does not check, read from the real
descriptor set (with source info) that `make generate` builds."""

import re

import pytest
from google.protobuf import descriptor_pb2

from pivotal_runtime import contract
from tools.protogen import DESCRIPTOR_SET

WORKLOADS = {"gateway", "identity", "quotation", "project", "time", "billing"}
PERMISSION = re.compile(r"^[a-z_]+:[a-z_]+$")


@pytest.fixture(scope="module")
def files():
    descriptors = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    return [f for f in descriptors.file if f.package.startswith("pivotal.")]


def test_every_domain_has_services_and_events():
    workloads = {rule.workload for rule in contract.method_rules().values()}
    assert workloads == WORKLOADS - {"gateway"}


@pytest.mark.parametrize("rule", list(contract.method_rules().values()), ids=lambda r: r.full_method)
def test_every_rpc_declares_one_access_rule(rule):
    kinds = [rule.public, rule.authenticated, bool(rule.permission)]
    assert kinds.count(True) == 1, f"{rule.full_method}: exactly one of public/authenticated/permission"
    if rule.permission:
        assert PERMISSION.match(rule.permission), rule.permission
    assert rule.callers, f"{rule.full_method}: no callers"
    assert set(rule.callers) <= WORKLOADS, rule.callers
    assert rule.http == rule.external, (
        f"{rule.full_method}: an RPC has an HTTP binding exactly when the gateway may call it")


def _commented_paths(file: descriptor_pb2.FileDescriptorProto) -> set[tuple[int, ...]]:
    return {tuple(loc.path) for loc in file.source_code_info.location
            if loc.leading_comments.strip() or loc.trailing_comments.strip()}


def _declarations(file):
    """(path, name) of every message, field, enum, value, service and method of a file."""
    def messages(prefix, items):
        for i, message in enumerate(items):
            path = (*prefix, i)
            yield path, message.name
            for j, field in enumerate(message.field):
                yield (*path, 2, j), f"{message.name}.{field.name}"
            yield from messages((*path, 3), message.nested_type)
            yield from enums((*path, 4), message.enum_type)

    def enums(prefix, items):
        for i, enum in enumerate(items):
            yield (*prefix, i), enum.name
            for j, value in enumerate(enum.value):
                yield (*prefix, i, 2, j), value.name

    yield from messages((4,), file.message_type)
    yield from enums((5,), file.enum_type)
    for i, service in enumerate(file.service):
        yield (6, i), service.name
        for j, method in enumerate(service.method):
            yield (6, i, 2, j), f"{service.name}.{method.name}"


def test_every_declaration_is_commented(files):
    missing = []
    for file in files:
        commented = _commented_paths(file)
        missing += [f"{file.name}: {name}" for path, name in _declarations(file)
                    if path not in commented]
    assert not missing, "uncommented:\n" + "\n".join(missing[:50])


def test_events_carry_the_organization_and_an_aggregate(files):
    from pivotal.options.v1 import options_pb2

    events = []
    for file in contract.pivotal_file_descriptors():
        for message in file.message_types_by_name.values():
            options = message.GetOptions()
            if options.HasExtension(options_pb2.event):
                events.append(message)
                assert options.Extensions[options_pb2.event].aggregate, message.full_name
                first = message.fields_by_number.get(1)
                assert first is not None and first.name == "organization_id", message.full_name
    domains = {event.full_name.split(".")[1] for event in events}
    assert domains == {"identity", "quotation", "project", "time", "billing"}


def test_design_named_events_exist():
    names = {m.full_name for f in contract.pivotal_file_descriptors()
             for m in f.message_types_by_name.values()}
    for event in ("identity.v1.OrganizationCreated", "identity.v1.UserRegistered",
                  "identity.v1.UserLocked", "identity.v1.RoleAssigned",
                  "quotation.v1.QuoteCreated", "quotation.v1.QuoteAccepted",
                  "project.v1.ProjectCreated", "project.v1.TaskAssigned",
                  "time.v1.TimeEntrySubmitted", "time.v1.TimeEntryApproved",
                  "billing.v1.SubscriptionActivated", "billing.v1.EntitlementsChanged",
                  "billing.v1.InvoiceIssued"):
        assert f"pivotal.{event}" in names, event
