"""Every field-violation reason the services send is listed in
`pivotal.common.v1.FieldViolationReason`, and the runtime's `FieldReason` names them all."""

import ast
from pathlib import Path

import pytest
from pivotal.common.v1 import errors_pb2

from pivotal_runtime.errors import FieldReason

SERVICES = Path(__file__).resolve().parents[2] / "services"
PREFIX = "FIELD_VIOLATION_REASON_"


def _listed() -> set[str]:
    return {name.removeprefix(PREFIX) for name in errors_pb2.FieldViolationReason.keys()
            if name != f"{PREFIX}UNSPECIFIED"}


def test_the_runtime_constants_are_exactly_the_contract_enum():
    assert FieldReason.all() == _listed()


def _reason_literals(tree: ast.AST):
    """String literals passed as the reason of a field violation: `FieldViolation(f, d, "X")`,
    `FieldViolation(..., reason="X")` and `<collector>.add(f, d, "X")` / `add(..., reason="X")`."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name not in ("FieldViolation", "add"):
            continue
        candidates = [k.value for k in node.keywords if k.arg == "reason"]
        if len(node.args) >= 3:
            candidates.append(node.args[2])
        for value in candidates:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield node.lineno, value.value


def test_every_reason_literal_in_the_services_is_listed():
    listed = _listed()
    unlisted = []
    for path in SERVICES.glob("pivotal_*/**/*.py"):
        for line, reason in _reason_literals(ast.parse(path.read_text())):
            if reason not in listed:
                unlisted.append(f"{path.relative_to(SERVICES)}:{line}: {reason}")
    assert not unlisted, unlisted


@pytest.mark.parametrize("password, email, current", [
    ("short", "", None),
    ("x" * 2000, "", None),
    ("pat.jones-secret-1", "pat.jones@acme.test", None),
    ("passwordpassword", "", None),
    ("a fine long passphrase", "", "a fine long passphrase"),
])
def test_every_password_rule_is_a_listed_reason(password, email, current):
    from pivotal_identity.domain.passwords import PasswordPolicy

    rule = PasswordPolicy().broken_rule(password, email, current)
    assert rule is not None and rule.upper() in _listed()
