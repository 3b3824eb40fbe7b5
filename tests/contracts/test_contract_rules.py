"""Conventions of docs/contracts.md that buf lint does not check (tools/contract_rules.py), on
the real descriptor set `make generate` builds and on scratch copies of `proto/` that break
one rule each, built with the real buf."""

import re

import pytest
from pivotal_runtime import contract

from tools import bufcheck, contract_rules

WORKLOADS = {"gateway", "identity", "quotation", "project", "time", "billing"}


@pytest.fixture(scope="module")
def violations():
    return contract_rules.check(contract_rules.load())


@pytest.mark.parametrize("rule", sorted(contract_rules.RULES))
def test_the_contracts_follow_the_rule(violations, rule):
    found = [str(v) for v in violations if v.rule == rule]
    assert not found, "\n".join(found[:40])


# (file, text to replace, replacement, a fragment of the expected violation's location)
BREAKS = {
    "access": ("quotation/v1/quote_service.proto", 'callers: ["gateway"]', 'callers: ["robots"]',
               "QuoteService"),
    "comments": ("quotation/v1/quote.proto", "  // title names the offer", "  // Names the offer",
                 "Quote.title"),
    "identifier": ("quotation/v1/quote.proto",
                   "string quote_id = 1 [(google.api.field_behavior) = IDENTIFIER];",
                   "string quote_id = 1;", "Quote.quote_id"),
    "etag": ("quotation/v1/quote.proto", "string etag = 27;",
             "string etag = 27 [(google.api.field_behavior) = OUTPUT_ONLY];", "Quote.etag"),
    "update_mask": ("quotation/v1/quote_service.proto",
                    "google.protobuf.FieldMask update_mask = 2;",
                    ("google.protobuf.FieldMask update_mask = 2 "
                     "[(google.api.field_behavior) = REQUIRED];"), "UpdateQuoteRequest"),
    "idempotency": ("quotation/v1/quote_service.proto",
                    "    option idempotency_level = NO_SIDE_EFFECTS;\n", "",
                    "QuoteService.GetQuote"),
    "state": ("quotation/v1/quote_service.proto", "repeated QuoteState states = 3;",
              "QuoteState state = 3;", "ListQuotesRequest.state"),
    "state_transition": ("quotation/v1/events.proto",
                         "pivotal.common.v1.StateTransition transition = 8;",
                         "string transition = 8;", "QuoteStateChanged"),
    "request_id": ("quotation/v1/customer_service.proto", "a UUID chosen by the client; ", "",
                   "CreateCustomerRequest.request_id"),
    "event_version": ("quotation/v1/events.proto", "  int64 version = 5;\n}\n\n// CustomerArchived",
                      "}\n\n// CustomerArchived", "CustomerUpdated"),
    "shared_shapes": ("billing/v1/invoice.proto", "// InvoiceLine is",
                      ("// Unit is a copy.\nenum Unit {\n  // UNIT_X is zero.\n  UNIT_X = 0;\n}\n\n"
                       "// InvoiceLine is"), "Unit"),
    "secrets": ("identity/v1/user_service.proto", '      post: "/v1/users"\n      body: "*"',
                '      post: "/v1/users"\n      body: "user"', "UserService.CreateUser"),
}


def _build_broken(tmp_path, file: str, old: str, new: str):
    workspace = bufcheck.copy_workspace(tmp_path / "proto-copy")
    target = workspace / "proto/pivotal" / file
    text = target.read_text()
    assert old in text, f"{file} no longer holds {old!r}: update the scratch edit"
    target.write_text(text.replace(old, new, 1))
    image = tmp_path / "image.binpb"
    bufcheck.build_image(workspace, image)
    return contract_rules.load(image)


def test_every_rule_has_a_scratch_break():
    assert set(BREAKS) == set(contract_rules.RULES)


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_a_scratch_copy_that_breaks_the_rule_is_reported(tmp_path, rule):
    file, old, new, where = BREAKS[rule]
    found = contract_rules.check(_build_broken(tmp_path, file, old, new))
    assert any(v.rule == rule and where in v.where for v in found), \
        "\n".join(map(str, found)) or "no violation"


def test_two_access_kinds_on_one_rpc_cannot_be_written(tmp_path):
    with pytest.raises(RuntimeError, match="oneof"):
        _build_broken(tmp_path, "quotation/v1/quote_service.proto",
                      'callers: ["gateway"]', 'public: true\n      callers: ["gateway"]')


@pytest.mark.parametrize("rule", list(contract.method_rules().values()),
                         ids=lambda r: r.full_method)
def test_every_rpc_declares_one_access_rule(rule):
    kinds = [rule.public, rule.authenticated, bool(rule.permissions)]
    assert kinds.count(True) == 1, f"{rule.full_method}: exactly one access kind"
    assert rule.permission == (rule.permissions[0] if len(rule.permissions) == 1 else "")
    assert set(rule.callers) <= WORKLOADS and rule.callers
    assert rule.workload_only == ("gateway" not in rule.callers)


def test_time_reads_name_real_permissions():
    rules = contract.method_rules()
    listing = rules["/pivotal.time.v1.TimeEntryService/ListTimeEntries"]
    assert listing.permissions == ("time:read", "time:write") and not listing.authenticated


def _checked_permissions() -> set[str]:
    return {p for rule in contract.method_rules().values() for p in rule.permissions}


def test_every_grant_of_a_built_in_role_is_checked_by_some_rpc():
    from pivotal_runtime.permissions import BUILT_IN_ROLES

    checked = _checked_permissions()
    resources = {p.split(":")[0] for p in checked}
    unchecked = sorted(
        f"{role}: {grant}" for role, grants in BUILT_IN_ROLES.items() for grant in grants
        if grant != "*" and (grant.split(":")[0] not in resources if grant.endswith(":*")
                             else grant not in checked))
    assert not unchecked, unchecked


def test_workload_permissions_come_from_the_callers_of_the_contracts():
    from pivotal_identity.adapters.catalog import contract_catalog

    accounts = contract_catalog().platform_accounts
    assert accounts["quotation"] == {"entitlements:check", "organizations:read", "users:read"}
    assert accounts["time"] == {"organizations:read", "users:read"}
    assert accounts["operator"] == {"keys:read", "keys:rotate", "plans:write"}
    for workload, permissions in accounts.items():
        if workload != "operator":
            assert permissions == contract.workload_permissions(workload)


def test_events_carry_the_organization_and_an_aggregate():
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
                  "quotation.v1.QuoteStateChanged", "project.v1.ProjectCreated",
                  "project.v1.ProjectCreationRejected", "project.v1.TaskAssigned",
                  "time.v1.TimeEntrySubmitted", "time.v1.TimeEntryApproved",
                  "billing.v1.SubscriptionActivated", "billing.v1.EntitlementsChanged",
                  "billing.v1.InvoiceIssued"):
        assert f"pivotal.{event}" in names, event


def test_every_domain_has_services():
    workloads = {rule.workload for rule in contract.method_rules().values()}
    assert workloads == WORKLOADS - {"gateway"}


def test_permissions_look_like_resource_action():
    for permission in _checked_permissions():
        assert re.fullmatch(r"[a-z_]+:[a-z_]+", permission), permission
