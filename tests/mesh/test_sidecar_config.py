"""The local sidecars' configuration: valid for Envoy, and admitting exactly the (caller,
method) pairs the contracts declare, the same pairs as the Istio policies of the chart."""

from __future__ import annotations

import pytest
from pivotal_mesh import policy
from pivotal_mesh.local import sidecar
from pivotal_mesh.local.credentials import WorkloadCredentials
from pivotal_mesh.local.envoy import validate, write_config
from pivotal_mesh.local.up import MeshLayout
from pivotal_mesh.settings import MeshSettings
from pivotal_runtime.settings import Settings

from tests.support.manifests import objects, render


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("mesh")
    settings = Settings.model_construct()
    credentials = WorkloadCredentials(root, MeshSettings())
    layout = MeshLayout.allocate(settings, policy.allowed_pairs())
    return {w: sidecar.bootstrap(settings, credentials, w, layout.ports[w])
            for w in policy.WORKLOADS}, credentials


def sidecar_pairs(configs: dict[str, dict], credentials: WorkloadCredentials) -> set:
    identities = {credentials.identity(w): w for w in policy.WORKLOADS}
    pairs = set()
    for workload, config in configs.items():
        for listener in config["static_resources"]["listeners"]:
            manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
            for http_filter in manager["http_filters"]:
                if http_filter["name"] != "envoy.filters.http.rbac":
                    continue
                rules = http_filter["typed_config"]["rules"]
                assert rules["action"] == "ALLOW"
                for rule in rules["policies"].values():
                    callers = [identities[p["authenticated"]["principal_name"]["exact"]]
                               for p in rule["principals"]]
                    methods = [r["url_path"]["path"]["exact"]
                               for p in rule["permissions"] for r in p["or_rules"]["rules"]]
                    pairs.update(policy.Pair(c, workload, m) for c in callers for m in methods)
    return pairs


def istio_pairs() -> set:
    principals = {f"cluster.local/ns/pivotal/sa/pivotal-flow-{w}": w for w in policy.WORKLOADS}
    pairs = set()
    for item in objects(render({"secrets": {"existingSecret": "s"}})):
        if item["kind"] != "AuthorizationPolicy" or "rules" not in item["spec"]:
            continue
        workload = item["metadata"]["labels"]["app.kubernetes.io/component"]
        for rule in item["spec"]["rules"]:
            callers = [principals[p] for s in rule.get("from", [])
                       for p in s["source"]["principals"]]
            methods = [m for t in rule["to"] for m in t["operation"].get("paths", [])]
            pairs.update(policy.Pair(c, workload, m) for c in callers for m in methods)
    return pairs


def test_sidecars_and_istio_admit_the_same_pairs_the_contracts_declare(configs):
    configs, credentials = configs
    local = sidecar_pairs(configs, credentials)
    istio = istio_pairs()
    assert local == istio
    assert local == set(policy.allowed_pairs())
    assert local - set(policy.infrastructure_pairs()) == set(policy.contract_pairs())


def test_every_sidecar_configuration_passes_envoy_validate(configs, tmp_path):
    configs, credentials = configs
    for workload in policy.WORKLOADS:
        credentials.issue(workload)
    for workload, config in configs.items():
        result = validate(write_config(config, tmp_path / f"{workload}.json"))
        assert result.returncode == 0, f"{workload}: {result.stdout}{result.stderr}"


def test_services_listen_on_loopback_and_accept_only_mtls(configs):
    configs, _ = configs
    for workload, config in configs.items():
        listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
        for name, listener in listeners.items():
            if name == "inbound":
                tls = listener["filter_chains"][0]["transport_socket"]["typed_config"]
                assert tls["require_client_certificate"] is True
            else:
                assert listener["address"]["socket_address"]["address"] == "127.0.0.1"
        clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
        if workload != policy.GATEWAY:
            local = clusters[sidecar.LOCAL_SERVICE]["load_assignment"]["endpoints"][0]
            assert local["lb_endpoints"][0]["endpoint"]["address"]["socket_address"][
                "address"] == "127.0.0.1"
        for name, cluster in clusters.items():
            if name.startswith("to_"):  # the callee's identity is verified
                context = cluster["transport_socket"]["typed_config"]["common_tls_context"]
                (san,) = context["validation_context"]["match_typed_subject_alt_names"]
                assert san["matcher"]["exact"].endswith(f"/sa/{name[3:]}")
