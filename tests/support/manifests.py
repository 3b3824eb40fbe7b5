"""Renders the Helm chart offline (Helm's own engine, helm-python-sdk) and validates what it
renders: Kubernetes kinds with `kubernetes-validate` (strict), Istio kinds with `jsonschema`
against Istio's CRD schemas in `../shared/schemas/` (beside the repository)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
CHART = REPOSITORY / "helm" / "pivotal-flow"
# `../shared/schemas` beside the clone (CI); a git worktree under <clone-parent>/wt/<branch>
# finds the same folder one level further up.
SHARED_CANDIDATES = (REPOSITORY.parent / "shared", REPOSITORY.parent.parent / "shared")
ISTIO_CRDS = next((folder / "schemas" / "istio-crd-all.gen.yaml" for folder in SHARED_CANDIDATES
                   if (folder / "schemas").is_dir()),
                  SHARED_CANDIDATES[0] / "schemas" / "istio-crd-all.gen.yaml")
KUBERNETES_VERSION = "1.30.0"
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io")
# Gateway API (the ambient waypoint): its CRDs are not in the shared schemas.
GATEWAY_API = "gateway.networking.k8s.io"


def render(values: dict | None = None, *, name: str = "pivotal-flow", namespace: str = "pivotal",
           chart: Path = CHART) -> dict[str, str]:
    import helm_python

    return helm_python.Chart.load(str(chart)).render(values or {}, name=name,
                                                     namespace=namespace)


def objects(manifests: dict[str, str]) -> list[dict]:
    found = []
    for path in sorted(manifests):
        if path.endswith(".txt"):
            continue
        found.extend(doc for doc in yaml.safe_load_all(manifests[path]) if doc)
    return found


def _strict(schema: dict) -> dict:
    """What the API server does with unknown fields of a structural schema: refuse them
    (unless the schema preserves them); int-or-string as JSON Schema types."""
    schema = copy.deepcopy(schema)

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if node.pop("x-kubernetes-int-or-string", False):
                node.pop("type", None)
                node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


@cache
def istio_schemas() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) → the strict schema of its `spec`, for every served version."""
    if not ISTIO_CRDS.exists():
        raise FileNotFoundError(f"Istio's CRD schemas are expected at {ISTIO_CRDS} (the shared/ "
                                "folder beside the repository)")
    schemas = {}
    for crd in yaml.safe_load_all(ISTIO_CRDS.read_text()):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
                schemas[(group, version["name"], kind)] = _strict(spec)
    return schemas


def validate_istio(item: dict) -> None:
    group, _, version = item["apiVersion"].partition("/")
    schema = istio_schemas().get((group, version, item["kind"]))
    if schema is None:
        raise LookupError(f"no served Istio CRD for {item['apiVersion']} {item['kind']}")
    if not item.get("metadata", {}).get("name"):
        raise ValueError(f"{item['kind']} without metadata.name")
    jsonschema.validate(item.get("spec", {}), schema)


def validate_waypoint(item: dict) -> None:
    """The Gateway API schema is not available offline: the fields a waypoint needs."""
    assert item["apiVersion"] == f"{GATEWAY_API}/v1" and item["kind"] == "Gateway"
    spec = item["spec"]
    assert set(spec) == {"gatewayClassName", "listeners"}, spec
    assert spec["gatewayClassName"] == "istio-waypoint"
    for listener in spec["listeners"]:
        assert set(listener) == {"name", "port", "protocol"} and listener["protocol"] == "HBONE"


def validate(item: dict) -> None:
    """Any rendered object: Kubernetes kinds strictly, Istio kinds against their CRDs."""
    group = item["apiVersion"].partition("/")[0] if "/" in item["apiVersion"] else ""
    if group in ISTIO_GROUPS:
        validate_istio(item)
    elif group == GATEWAY_API:
        validate_waypoint(item)
    else:
        kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
