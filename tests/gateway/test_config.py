"""The generated Envoy configuration: Envoy accepts it, and it says what the contracts say."""

import json

import pytest
from pivotal_gateway import assets, openapi
from pivotal_gateway.config import render
from pivotal_gateway.descriptors import Contracts
from pivotal_gateway.process import validate
from pivotal_gateway.routes import JWT_FILTER, RATE_LIMIT_FILTER
from pivotal_gateway.settings import STRICT_METHODS, GatewaySettings
from pivotal_gateway.unknown_fields import lua_pattern
from pivotal_runtime.contract import method_rules
from pivotal_runtime.settings import Settings, SettingsError, load_settings

from tests.support.gateway import jwks_of
from tests.support.processes import ROOT
from tests.support.tokens import TokenMinter

DESCRIPTORS = assets.descriptor_set()


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts.load(DESCRIPTORS)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, contracts):
    gateway = GatewaySettings(config_dir=tmp_path_factory.mktemp("gateway"),
                              descriptor_set=DESCRIPTORS, cors_origins=["https://app.example"])
    result = render(Settings(), gateway, contracts)
    return json.loads(result.config.read_text()), result


def _manager(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"]


def _routes(config: dict) -> dict[str, dict]:
    return {r["name"]: r for r in _manager(config)["route_config"]["virtual_hosts"][0]["routes"]}


@pytest.mark.parametrize("overrides", [
    {},
    {"cors_origins": ["*"], "jwks_uri": "https://identity.example.com/.well-known/jwks.json"},
    {"jwks_file": ROOT / "build" / "nonexistent-jwks.json", "retries": 0, "access_log": False},
])
def test_envoy_validates_the_generated_configuration(tmp_path, overrides):
    if "jwks_file" in overrides:
        overrides["jwks_file"] = tmp_path / "jwks.json"
        overrides["jwks_file"].write_text(json.dumps(jwks_of(TokenMinter())))
    gateway = GatewaySettings(config_dir=tmp_path / "gateway", descriptor_set=DESCRIPTORS,
                              **overrides)
    result = validate(Settings(), gateway)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout + result.stderr


def test_every_external_rpc_has_one_route_to_its_workload(rendered):
    config, _ = rendered
    routes = _routes(config)
    for rule in method_rules().values():
        name = rule.full_method.lstrip("/")
        if not rule.external:
            assert name not in routes, f"{name} is internal but routed"
            continue
        route = routes[name]
        assert route["match"] == {"path": rule.full_method}
        assert route["route"]["cluster"] == rule.workload
        jwt = route["typed_per_filter_config"][JWT_FILTER]
        if rule.public:
            assert jwt.get("disabled") is True, name
        else:
            assert jwt.get("requirement_name") == "identity", name


def test_unavailable_is_retried_only_for_idempotent_methods(rendered):
    config, _ = rendered
    routes = _routes(config)
    for rule in method_rules().values():
        if not rule.external:
            continue
        retry_on = routes[rule.full_method.lstrip("/")]["route"]["retry_policy"]["retry_on"]
        conditions = set(retry_on.split(","))
        assert ("unavailable" in conditions) is rule.idempotent, rule.full_method
        assert ("reset" in conditions) is rule.idempotent, rule.full_method
        assert {"connect-failure", "refused-stream"} <= conditions


def test_login_and_register_have_the_strict_rate_limit(rendered):
    config, _ = rendered
    routes = _routes(config)
    strict = {m.lstrip("/") for m in STRICT_METHODS}
    for name, route in routes.items():
        limit = route.get("typed_per_filter_config", {}).get(RATE_LIMIT_FILTER)
        if limit is None:
            continue
        assert (limit["stat_prefix"] == "strict_rate_limit") is (name in strict), name
    assert strict <= routes.keys()


def test_timeouts_follow_the_kind_of_method(rendered):
    config, _ = rendered
    routes = _routes(config)
    assert routes["pivotal.quotation.v1.QuoteService/GetQuote"]["route"]["timeout"] == "10s"
    assert routes["pivotal.quotation.v1.QuoteService/ApproveQuote"]["route"]["timeout"] == "15s"
    assert routes["pivotal.quotation.v1.QuoteService/GetQuotePdf"]["route"]["timeout"] == "60s"


def test_the_transcoder_knows_every_service_and_the_error_detail_types(rendered, contracts):
    config, result = rendered
    filters = {f["name"]: f["typed_config"] for f in _manager(config)["http_filters"]}
    transcoder = filters["envoy.filters.http.grpc_json_transcoder"]
    assert set(transcoder["services"]) == {r.service for r in method_rules().values()
                                           if r.external}
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["request_validation_options"]["reject_unknown_query_parameters"] is True
    names = {f.name for f in Contracts.load(result.descriptor_set).descriptor_set.file}
    assert {"google/rpc/status.proto", "google/rpc/error_details.proto"} <= names


def test_the_jwt_provider_uses_the_runtime_issuer_and_audience(tmp_path):
    settings = Settings(jwt_issuer="https://id.example", jwt_audience="aud-x")
    gateway = GatewaySettings(config_dir=tmp_path, descriptor_set=DESCRIPTORS, port=18080)
    config = json.loads(render(settings, gateway).config.read_text())
    filters = {f["name"]: f["typed_config"] for f in _manager(config)["http_filters"]}
    provider = filters[JWT_FILTER]["providers"]["identity"]
    assert provider["issuer"] == "https://id.example"
    assert provider["audiences"] == ["aud-x"]
    assert provider["forward"] is True
    assert provider["remote_jwks"]["http_uri"]["uri"] == \
        "http://127.0.0.1:18080/.well-known/jwks.json"
    # shorter than identity's key-rotation overlap (PIVOTAL_IDENTITY_KEY_ROTATION_OVERLAP_SECONDS)
    assert int(provider["remote_jwks"]["cache_duration"].rstrip("s")) < 300


def test_docs_openapi_json_is_up_to_date(contracts):
    expected = openapi.dumps(openapi.build_spec(contracts))
    current = (ROOT / "docs" / "openapi.json").read_text()
    assert current == expected, "docs/openapi.json is stale: run python -m pivotal_gateway.openapi"


def test_openapi_has_every_http_binding_and_valid_references(contracts):
    spec = openapi.build_spec(contracts)
    operations = {op["x-grpc-method"]: op for path in spec["paths"].values()
                  for op in path.values()}
    for rule in method_rules().values():
        assert (rule.full_method in operations) is rule.http, rule.full_method
        if rule.http:
            assert (operations[rule.full_method]["security"] == []) is rule.public
    text = json.dumps(spec)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in spec["components"]["schemas"], ref


def test_gateway_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("PIVOTAL_GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PIVOTAL_GATEWAY_PORT", "18081")
    settings = load_settings(GatewaySettings)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.port == 18081
    monkeypatch.setenv("PIVOTAL_GATEWAY_PORT", "eighty")
    with pytest.raises(SettingsError, match="PIVOTAL_GATEWAY_PORT"):
        load_settings(GatewaySettings)


@pytest.mark.parametrize(("template", "pattern"), [
    ("/v1/quotes/{quote_id}:approve", "^/v1/quotes/[^/]+:approve$"),
    ("/.well-known/jwks.json", "^/%.well%-known/jwks%.json$"),
    ("/v1/{name=projects/*/tasks/**}", "^/v1/projects/[^/]+/tasks/.+$"),
])
def test_lua_patterns_of_path_templates(template, pattern):
    assert lua_pattern(template) == pattern


def test_render_prints_the_configuration_it_wrote(tmp_path):
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "pivotal_gateway", "render"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "PIVOTAL_GATEWAY_CONFIG_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "envoy.json").read_text())
    assert str(tmp_path / "envoy.json") in result.stderr


def test_the_admin_interface_is_an_owner_only_socket(rendered):
    config, _ = rendered
    pipe = config["admin"]["address"]["pipe"]
    assert pipe["mode"] == 0o600 and pipe["path"].endswith("admin.sock")
    probe = next(listener for listener in config["static_resources"]["listeners"]
                 if listener["name"] == "probe")
    routes = probe["filter_chains"][0]["filters"][0]["typed_config"]["route_config"][
        "virtual_hosts"][0]["routes"]
    assert {r["match"].get("path") for r in routes if "route" in r} == {
        "/ready", "/stats/prometheus"}
