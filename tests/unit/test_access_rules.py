"""The service-side access check enforces the contract's rule kinds, any-of included."""

import pytest

from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.contract import MethodRule
from pivotal_runtime.errors import PermissionDenied
from pivotal_runtime.interceptors import AuthInterceptor
from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter

LIST_TIME = "/pivotal.time.v1.TimeEntryService/ListTimeEntries"


class _Context:
    def __init__(self, token: str) -> None:
        self._metadata = (("authorization", f"Bearer {token}"),)

    def invocation_metadata(self):
        return self._metadata


def _rule(permissions: tuple[str, ...]) -> MethodRule:
    return MethodRule(full_method=LIST_TIME, service="pivotal.time.v1.TimeEntryService",
                      method="ListTimeEntries", workload="time", public=False,
                      authenticated=False, permissions=permissions, callers=("gateway",),
                      idempotent=True, http=True)


@pytest.fixture(scope="module")
def minter():
    return TokenMinter()


def _call(minter, rule: MethodRule, roles: list[str]):
    verifier = TokenVerifier(StaticKeySource(minter.keys()), issuer=ISSUER, audience=AUDIENCE,
                             leeway=0)
    handler = AuthInterceptor(verifier, {LIST_TIME: rule}).wrap(
        lambda request, context: "served", LIST_TIME, False)
    return handler(None, _Context(minter.mint(roles=roles)))


@pytest.mark.parametrize("role", ["member", "billing", "manager"])
def test_any_of_admits_a_caller_holding_one_of_the_permissions(minter, role):
    # member holds time:write, billing time:read, manager time:*.
    assert _call(minter, _rule(("time:read", "time:write")), [role]) == "served"


def test_any_of_refuses_a_caller_holding_none_and_names_the_set(minter):
    with pytest.raises(PermissionDenied) as refused:
        _call(minter, _rule(("invoices:issue", "time:approve")), ["member"])
    assert refused.value.metadata["permission"] == "invoices:issue or time:approve"


def test_a_single_permission_rule_reads_as_before(minter):
    rule = _rule(("time:approve",))
    assert rule.permission == "time:approve" and not rule.workload_only
    with pytest.raises(PermissionDenied):
        _call(minter, rule, ["member"])
    assert _call(minter, rule, ["manager"]) == "served"
