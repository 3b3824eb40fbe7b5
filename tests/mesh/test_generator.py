"""The mesh generator: `mesh/` and the chart's mesh data are what the contracts produce now."""

from __future__ import annotations

import dataclasses
import json

import yaml
from pivotal_mesh import chart_data, policy, render
from pivotal_runtime import contract

from tests.support.manifests import validate


def test_generated_mesh_files_are_fresh():
    stale = render.stale_files()
    assert stale == [], f"regenerate with `{chart_data.COMMAND}`: {stale}"


def test_the_generated_files_carry_every_contract_caller():
    data = json.loads(render.CHART_DATA.read_text())
    pairs = {policy.Pair(caller, workload, method)
             for workload, block in data["services"].items()
             for caller, methods in block["callers"].items() for method in methods}
    assert pairs == policy.allowed_pairs()
    for mode in render.MODES:
        text = (render.MESH / mode / "istio.yaml").read_text()
        kinds = {doc["kind"] for doc in yaml.safe_load_all(text) if doc}
        assert {"PeerAuthentication", "AuthorizationPolicy", "DestinationRule",
                "VirtualService", "RequestAuthentication"} <= kinds


def test_every_object_in_mesh_validates_against_the_istio_crds():
    for mode in render.MODES:
        items = [doc for doc in yaml.safe_load_all((render.MESH / mode / "istio.yaml").read_text())
                 if doc]
        for item in items:
            assert item["metadata"]["namespace"] == render.NAMESPACE
            validate(item)


def test_a_new_caller_in_the_contracts_changes_the_generated_policy(monkeypatch):
    """The policy follows the contract options: a caller added to one RPC is admitted for
    that RPC only."""
    rules = dict(contract.method_rules())
    method = "/pivotal.billing.v1.PlanService/ListPlans"
    before = policy.methods_by_caller("billing", policy.allowed_pairs(rules))
    rule = rules[method]
    rules[method] = dataclasses.replace(rule, callers=(*rule.callers, "time"))
    after = policy.methods_by_caller("billing", policy.allowed_pairs(rules))
    assert "time" not in before
    assert after["time"] == [method]


def test_infrastructure_admits_only_the_gateways_health_checks():
    assert policy.infrastructure_pairs() == frozenset(
        policy.Pair("gateway", w, "/grpc.health.v1.Health/Check")
        for w in policy.WORKLOADS if w != "gateway")
