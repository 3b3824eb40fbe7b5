"""The Helm chart, rendered offline by Helm's own engine: it lints clean, every object it
renders validates (Kubernetes kinds strictly, Istio kinds against Istio's CRDs), and the
rendered output keeps the promises operators rely on."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import helm_python
import jsonschema
import pytest
import yaml
from pivotal_mesh import policy
from pivotal_runtime import contract

from tests.support.manifests import CHART, objects, render, validate, validate_istio

SECRET = {"secrets": {"existingSecret": "pivotal-flow"}}
PRODUCTION = CHART / "ci" / "production-values.yaml"
SCENARIOS = {
    "default": SECRET,
    "production": yaml.safe_load(PRODUCTION.read_text()),
    "ambient": {**SECRET, "mesh": {"mode": "ambient"}},
}
WORKLOADS = policy.WORKLOADS


@cache
def rendered(scenario: str) -> tuple[dict, ...]:
    return tuple(objects(render(SCENARIOS[scenario])))


def of_kind(scenario: str, kind: str) -> list[dict]:
    return [item for item in rendered(scenario) if item["kind"] == kind]


def component(item: dict) -> str:
    return item["metadata"]["labels"]["app.kubernetes.io/component"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_chart_lints_clean(scenario):
    report = helm_python.lint(str(CHART), SCENARIOS[scenario], strict=True, namespace="pivotal")
    assert report["errors"] == [] and report["messages"] == [], report


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_rendered_object_validates(scenario):
    items = rendered(scenario)
    assert len(items) > 40
    for item in items:
        validate(item)


def test_the_istio_validation_refuses_an_unknown_field():
    virtual_service = next(i for i in rendered("default") if i["kind"] == "VirtualService")
    broken = yaml.safe_load(yaml.safe_dump(virtual_service))
    broken["spec"]["http"][0]["retries"]["retryOnn"] = "unavailable"
    with pytest.raises(jsonschema.ValidationError, match="retryOnn"):
        validate_istio(broken)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_deployment_is_hardened_probed_and_sized(scenario):
    deployments = of_kind(scenario, "Deployment")
    assert sorted(component(d) for d in deployments) == sorted(WORKLOADS)
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            name = f"{deployment['metadata']['name']}/{container['name']}"
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert probe in container, f"{name} has no {probe}"
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name
            pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
            assert pod["terminationGracePeriodSeconds"] > int(pre_stop[-1]), name
        assert pod["topologySpreadConstraints"], deployment["metadata"]["name"]


def test_services_use_native_grpc_probes_and_the_gateway_its_liveness_route():
    for deployment in of_kind("default", "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        if component(deployment) == "gateway":
            # Not /ready: one service down must not take every gateway pod out.
            assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
            continue
        port = container["ports"][0]["containerPort"]
        assert container["readinessProbe"]["grpc"] == {"port": port}
        # A database outage makes a pod unready; it does not restart it.
        assert container["livenessProbe"]["grpc"]["service"] == "pivotal.liveness"


def test_the_grace_period_covers_the_pre_stop_delay_and_the_drain():
    values = SCENARIOS["production"]
    for deployment in of_kind("production", "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] == (
            values["pod"]["preStopSeconds"] + values["config"]["gracePeriodSeconds"] + 5)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_pdb_exists_exactly_when_a_workload_can_have_more_than_one_replica(scenario):
    autoscaled = {component(h) for h in of_kind(scenario, "HorizontalPodAutoscaler")}
    budgets = {component(p): p for p in of_kind(scenario, "PodDisruptionBudget")}
    for deployment in of_kind(scenario, "Deployment"):
        name = component(deployment)
        several = name in autoscaled or deployment["spec"].get("replicas", 1) > 1
        assert (name in budgets) == several, name
        if several:
            assert (budgets[name]["spec"]["selector"]["matchLabels"]
                    == deployment["spec"]["selector"]["matchLabels"])
        if name in autoscaled:
            assert "replicas" not in deployment["spec"], f"{name}: the HPA owns replicas"


def test_the_production_values_scale_what_they_say():
    assert {component(h) for h in of_kind("production", "HorizontalPodAutoscaler")} == {
        "identity", "gateway"}
    assert "billing" not in {component(p) for p in of_kind("production", "PodDisruptionBudget")}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_services_speak_grpc_and_run_as_their_own_service_account(scenario):
    accounts = {a["metadata"]["name"] for a in of_kind(scenario, "ServiceAccount")}
    for service in of_kind(scenario, "Service"):
        if component(service) != "gateway":
            assert [p["appProtocol"] for p in service["spec"]["ports"]] == ["grpc"]
    for deployment in of_kind(scenario, "Deployment"):
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        assert account in accounts and account.endswith(component(deployment))


def test_secrets_come_from_the_existing_secret_only():
    config = of_kind("production", "ConfigMap")[0]["data"]
    assert not any("URL" in key and "ADDRESS" not in key and "OTLP" not in key
                   for key in config), config
    secret = SCENARIOS["production"]["secrets"]["existingSecret"]
    for deployment in of_kind("production", "Deployment"):
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]
               .get("env", [])}
        if component(deployment) == "gateway":
            continue
        assert env["PIVOTAL_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == secret
        assert env["PIVOTAL_AMQP_URL"]["valueFrom"]["secretKeyRef"]["name"] == secret
        # Each service calls others as its own workload (plan limits, the revocation pull).
        workload = env["PIVOTAL_WORKLOAD_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
        assert (workload["name"], workload["key"]) == (
            secret, f"workload-secret-{component(deployment)}")


def test_the_migration_job_is_a_pre_install_and_pre_upgrade_hook_without_a_sidecar():
    job = of_kind("default", "Job")[0]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    pod = job["spec"]["template"]
    assert pod["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    container = pod["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    names = {e["name"] for e in container["env"]}
    # The release's ConfigMap does not exist yet when a pre-install hook runs.
    assert {"PIVOTAL_DATABASE_URL", "PIVOTAL_MODE", "PIVOTAL_HOST"} <= names
    assert "envFrom" not in container


@pytest.mark.parametrize("scenario", ["default", "ambient"])
def test_every_workload_has_an_authorization_policy_and_strict_mtls(scenario):
    policies = of_kind(scenario, "AuthorizationPolicy")
    assert set(WORKLOADS) <= {component(p) for p in policies}
    allow_nothing = [p for p in policies if "rules" not in p["spec"]]
    assert len(allow_nothing) == 1  # deny by default for every pod of the release
    modes = {component(p): p["spec"]["mtls"]["mode"] for p in of_kind(scenario,
                                                                    "PeerAuthentication")}
    assert modes == dict.fromkeys(WORKLOADS, "STRICT")


def _principal_workloads(namespace: str = "pivotal") -> dict[str, str]:
    return {f"cluster.local/ns/{namespace}/sa/pivotal-flow-{w}": w for w in policy.WORKLOADS}


def admitted_pairs(scenario: str) -> frozenset[policy.Pair]:
    """The (caller, workload, method) triples the rendered per-method policies admit."""
    principals = _principal_workloads()
    pairs = set()
    for item in of_kind(scenario, "AuthorizationPolicy"):
        name = component(item)
        if name not in policy.WORKLOADS or name == policy.GATEWAY or item["metadata"][
                "name"].endswith("-via-waypoint"):
            continue
        for rule in item["spec"]["rules"]:
            callers = [principals[p] for s in rule["from"] for p in s["source"]["principals"]]
            methods = [m for t in rule["to"] for m in t["operation"]["paths"]]
            pairs.update(policy.Pair(c, name, m) for c in callers for m in methods)
    return frozenset(pairs)


@pytest.mark.parametrize("scenario", ["default", "ambient"])
def test_the_istio_policies_admit_exactly_what_the_contracts_declare(scenario):
    declared = policy.contract_pairs()
    admitted = admitted_pairs(scenario)
    assert admitted - policy.infrastructure_pairs() == declared
    assert admitted == policy.allowed_pairs()
    # Every RPC with callers is reachable by each of them, and by nobody else.
    rules = contract.method_rules()
    assert {p.method for p in declared} == {m for m, r in rules.items() if r.callers}


def test_ambient_attaches_the_per_method_policies_to_the_waypoint():
    waypoint = of_kind("ambient", "Gateway")[0]
    services = {s["metadata"]["name"]: s for s in of_kind("ambient", "Service")}
    for item in of_kind("ambient", "AuthorizationPolicy"):
        if "targetRefs" in item["spec"]:
            (ref,) = item["spec"]["targetRefs"]
            labels = services[ref["name"]]["metadata"]["labels"]
            assert labels["istio.io/use-waypoint"] == waypoint["metadata"]["name"]
            assert "selector" not in item["spec"]
    via_waypoint = [p for p in of_kind("ambient", "AuthorizationPolicy")
                    if p["metadata"]["name"].endswith("-via-waypoint")]
    assert len(via_waypoint) == len(contract_services())
    for deployment in of_kind("ambient", "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["istio.io/dataplane-mode"] == "ambient"


def contract_services() -> list[str]:
    return [w for w in policy.WORKLOADS if w != policy.GATEWAY]


def test_retries_on_unavailable_only_for_idempotent_methods():
    rules = contract.method_rules()
    seen = set()
    for service in of_kind("default", "VirtualService"):
        for route in service["spec"]["http"]:
            methods = [m["uri"]["exact"] for m in route.get("match", [])]
            seen.update(methods)
            retries_unavailable = "unavailable" in route["retries"].get("retryOn", "")
            for method in methods:
                assert retries_unavailable == rules[method].idempotent, method
    assert seen == set(rules)


def test_destination_rules_use_istio_mutual_with_outlier_detection():
    for rule in of_kind("default", "DestinationRule"):
        policy_ = rule["spec"]["trafficPolicy"]
        assert policy_["tls"] == {"mode": "ISTIO_MUTUAL"}
        assert policy_["outlierDetection"]["consecutiveGatewayErrors"] > 0
        assert policy_["connectionPool"]["http"]["http2MaxRequests"] > 0


def test_mesh_off_renders_no_istio_object():
    items = objects(render({**SECRET, "mesh": {"mode": "off"}}))
    assert not [i for i in items if "istio.io" in i["apiVersion"]]


def test_network_policies_deny_all_then_admit_the_contract_callers():
    policies = {p["metadata"]["name"]: p for p in of_kind("default", "NetworkPolicy")}
    deny = policies["pivotal-flow-deny-all"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny
    calls = {caller: {p.workload for p in policy.allowed_pairs() if p.caller == caller}
             for caller in policy.WORKLOADS}
    for workload in contract_services():
        ingress = policies[f"pivotal-flow-{workload}"]["spec"]["ingress"]
        callers = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                   for rule in ingress for peer in rule.get("from", [])}
        assert callers == {c for c, targets in calls.items() if workload in targets}, workload


def test_a_restricted_gateway_still_lets_istiod_fetch_the_jwks():
    (policy_,) = [p for p in of_kind("production", "NetworkPolicy")
                  if p["metadata"]["name"] == "pivotal-flow-gateway"]
    peers = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
             for rule in policy_["spec"]["ingress"] for peer in rule.get("from", [])
             if "namespaceSelector" in peer]
    assert peers == ["istio-ingress", "istio-system"]


def test_selectors_and_labels_survive_a_chart_version_bump(tmp_path: Path):
    bumped = tmp_path / "pivotal-flow"
    shutil.copytree(CHART, bumped)
    chart_yaml = yaml.safe_load((bumped / "Chart.yaml").read_text())
    chart_yaml.update(version="9.9.9", appVersion="9.9.9")
    (bumped / "Chart.yaml").write_text(yaml.safe_dump(chart_yaml))

    def selectors(chart: Path) -> dict:
        found = {}
        for item in objects(render(SECRET, chart=chart)):
            spec = item.get("spec", {})
            key = (item["kind"], item["metadata"]["name"])
            if item["kind"] in ("Deployment", "PodDisruptionBudget", "Service"):
                found[key] = spec["selector"]
            elif item["kind"] == "NetworkPolicy":
                found[key] = spec["podSelector"]
        return found

    before, after = selectors(CHART), selectors(bumped)
    assert before == after and len(before) >= 17
    for item in objects(render(SECRET, chart=bumped)):
        if item["kind"] == "Deployment":
            labels = item["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/version"] == "9.9.9"
            assert item["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize(("values", "named"), [
    ({**SECRET, "services": {"identity": {"replicas": "two"}}}, "/services/identity/replicas"),
    ({**SECRET, "mesh": {"mode": "istio"}}, "/mesh/mode"),
    ({**SECRET, "gateway": {"port": 70000}}, "/gateway/port"),
    ({**SECRET, "servics": {}}, "servics"),
])
def test_a_value_of_the_wrong_type_is_refused_with_its_name(values, named):
    with pytest.raises(helm_python.HelmValuesError) as refused:
        render(values)
    assert named in str(refused.value)


def test_a_missing_required_value_is_refused_with_a_ready_to_run_fix():
    with pytest.raises(helm_python.HelmError) as refused:
        render({})
    message = str(refused.value)
    assert "secrets.existingSecret is required" in message
    assert "kubectl -n pivotal create secret generic pivotal-flow" in message
    assert "--set secrets.existingSecret=pivotal-flow" in message


def test_notes_tell_how_to_call_the_release():
    notes = render(SECRET)["pivotal-flow/templates/NOTES.txt"]
    assert "port-forward svc/pivotal-flow-gateway 8080:8080" in notes
    assert "curl -s http://127.0.0.1:8080/ready" in notes


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def test_every_value_is_documented():
    """Each leaf value has a comment right above it, or right above the block it is in."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")) or ":" not in stripped:
            continue
        if not stripped.split(":", 1)[1].split("#")[0].strip():
            continue  # a block: its leaves are checked
        above, indent = index - 1, _indent(line)
        while lines[above].strip() and not lines[above].strip().startswith("#") \
                and _indent(lines[above]) < indent:
            indent = _indent(lines[above])  # climb to the enclosing block
            above -= 1
        assert lines[above].strip().startswith("#"), (
            f"values.yaml line {index + 1}: {stripped.split(':')[0]} is undocumented")


@pytest.mark.parametrize("scenario", ["default", "production"])
def test_the_gateway_configuration_the_chart_runs_passes_envoy_validate(scenario, tmp_path,
                                                                          monkeypatch):
    """The gateway renders its Envoy configuration at start from the pod's environment: the
    same environment here, then `envoy --mode validate` on the result."""
    from pivotal_gateway.process import validate as envoy_validate
    from pivotal_gateway.settings import GatewaySettings
    from pivotal_runtime.settings import load_settings

    (config,) = of_kind(scenario, "ConfigMap")
    gateway = next(d for d in of_kind(scenario, "Deployment") if component(d) == "gateway")
    env = dict(config["data"])
    env.update({e["name"]: e["value"] for e in
                gateway["spec"]["template"]["spec"]["containers"][0]["env"]})
    env["PIVOTAL_GATEWAY_CONFIG_DIR"] = str(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    gateway_settings = load_settings(GatewaySettings)
    assert gateway_settings.upstream_address_template == "pivotal-flow-{service}:{port}"
    result = envoy_validate(load_settings(), gateway_settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration" in result.stdout and "OK" in result.stdout


def test_the_deploy_guide_lists_every_top_level_value():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    guide = (CHART.parents[1] / "docs" / "deploy.md").read_text()
    reference = guide[guide.index("## Values reference"):]
    for key in values:
        assert f"`{key}" in reference, f"docs/deploy.md does not describe `{key}`"


def test_services_reach_each_other_through_the_charts_services(monkeypatch):
    """Internal callers dial PIVOTAL_SERVICE_ADDRESS_TEMPLATE: it must name the chart's
    Service and port of every workload."""
    from pivotal_runtime.settings import load_settings

    (config,) = of_kind("production", "ConfigMap")
    for name, value in config["data"].items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    services = {s["metadata"]["name"]: s["spec"]["ports"][0]["port"]
                for s in of_kind("production", "Service")}
    for workload in contract_services():
        host, _, port = settings.address_of(workload).rpartition(":")
        assert services[host] == int(port), workload
