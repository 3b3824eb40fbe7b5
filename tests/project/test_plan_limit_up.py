"""The plan's project limit holds under `pivotal up` (embedded mode): the project service
asks billing's CheckEntitlement as its workload, with the workload secret `pivotal up` makes
for its start, so the starter plan's sixth project is refused through the gateway."""

from __future__ import annotations

import pytest

from tests.gateway.test_up import register_and_login, up  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STARTER_MAX_PROJECTS = 5  # billing's seeded starter plan, the default trial


def create_project(up, token: str, name: str):  # noqa: F811
    return up.request("POST", "/v1/projects", {"project": {
        "name": name, "currencyCode": "EUR",
        "billingModel": "PROJECT_BILLING_MODEL_NON_BILLABLE"}}, token=token)


def test_the_starter_plans_sixth_project_is_refused_naming_the_limit(up):  # noqa: F811
    token = register_and_login(up)["accessToken"]
    for number in range(1, STARTER_MAX_PROJECTS + 1):
        created = create_project(up, token, f"Project {number}")
        assert created.status == 200, created.body
    refused = create_project(up, token, "One too many")
    assert refused.status == 429, refused.body
    body = refused.json()
    assert body["code"] == 8  # RESOURCE_EXHAUSTED
    info = next(d for d in body["details"] if d["@type"].endswith("ErrorInfo"))
    assert info["reason"] == "QUOTA_EXCEEDED" and info["metadata"]["limit"] == "max_projects"
    listed = up.request("GET", "/v1/projects", token=token).json()
    assert len(listed["projects"]) == STARTER_MAX_PROJECTS  # nothing half-created
