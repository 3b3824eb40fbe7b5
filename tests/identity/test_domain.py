"""Identity's domain rules, without I/O."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pivotal_identity.domain as domain_package
import pytest
from pivotal_identity.domain import rbac
from pivotal_identity.domain.keys import earliest_rotation, published_keys, retirement_overlap
from pivotal_identity.domain.lockout import LockoutPolicy, LoginAttempts
from pivotal_identity.domain.mfa import accept_step, new_recovery_codes, normalize_recovery_code
from pivotal_identity.domain.model import (
    AuthenticationMethod,
    Invitation,
    InvitationState,
    RevokeReason,
    Session,
    SessionState,
    SigningKey,
    SigningKeyState,
    User,
    UserOrigin,
    UserState,
)
from pivotal_identity.domain.passwords import PasswordPolicy, email_problem, normalize_email
from pivotal_identity.domain.tokens import (
    RefreshVerdict,
    TokenSettings,
    access_claims,
    hash_secret,
    judge_refresh,
    new_secret,
)
from pivotal_runtime.errors import InvalidState

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = LockoutPolicy(max_attempts=5, window=timedelta(minutes=15), period=timedelta(minutes=15))


def test_domain_imports_no_infrastructure():
    forbidden = ("grpc", "sqlalchemy", "pika", "opentelemetry", "pivotal.", "psycopg",
                 "argon2", "jwt", "pyotp", "cryptography")
    for path in Path(domain_package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
                assert not name.endswith("_pb2"), f"{path.name} imports {name}"


class TestLockout:
    def test_admits_exactly_the_limit_then_refuses_even_in_flight(self):
        attempts = LoginAttempts("a@b.test")
        admitted = [attempts.admit(POLICY, NOW).admitted for _ in range(8)]
        assert admitted == [True] * 5 + [False] * 3
        assert attempts.failed_count == 5 and attempts.locked_until is None

    def test_the_failure_that_reaches_the_limit_locks_once(self):
        attempts = LoginAttempts("a@b.test")
        for _ in range(5):
            attempts.admit(POLICY, NOW)
        assert attempts.after_failure(POLICY, NOW) is True
        assert attempts.after_failure(POLICY, NOW) is False
        refused = attempts.admit(POLICY, NOW + timedelta(minutes=5))
        assert not refused.admitted and refused.retry_after_seconds == 600

    def test_the_lock_ends_after_the_period(self):
        attempts = LoginAttempts("a@b.test", 5, NOW, NOW + timedelta(minutes=15))
        assert not attempts.admit(POLICY, NOW + timedelta(minutes=14)).admitted
        assert attempts.admit(POLICY, NOW + timedelta(minutes=15)).admitted
        assert attempts.failed_count == 1 and attempts.locked_until is None

    def test_failures_outside_the_window_are_forgotten(self):
        attempts = LoginAttempts("a@b.test", 4, NOW)
        assert attempts.admit(POLICY, NOW + timedelta(minutes=16)).admitted
        assert attempts.failed_count == 1

    def test_fewer_failures_than_the_limit_do_not_lock(self):
        attempts = LoginAttempts("a@b.test")
        for _ in range(4):
            attempts.admit(POLICY, NOW)
            assert attempts.after_failure(POLICY, NOW) is False
        attempts.reset()
        assert (attempts.failed_count, attempts.window_start) == (0, None)


class TestPasswords:
    policy = PasswordPolicy(min_length=12)

    @pytest.mark.parametrize("password, email, current, rule", [
        ("short", "", None, "too_short"),
        ("x" * 1025, "", None, "too_long"),
        ("jane.doe-is-great", "jane.doe@firm.test", None, "contains_email"),
        ("Password1234", "", None, "common"),
        ("qwertyuiop!", "", None, "too_short"),
        ("a fine long passphrase", "", "a fine long passphrase", "unchanged"),
        ("a fine long passphrase", "jane@firm.test", None, None),
    ])
    def test_rules(self, password, email, current, rule):
        assert self.policy.broken_rule(password, email, current) == rule

    def test_email_normalization_and_validation(self):
        assert normalize_email("  Jane.Doe@Firm.TEST ") == "jane.doe@firm.test"
        assert email_problem("jane@firm.test") is None
        assert email_problem("") == "is required"
        assert email_problem("not-an-email") == "must be a valid email address"


class TestTokens:
    settings = TokenSettings("https://id", "pivotal", timedelta(minutes=15), timedelta(days=7),
                             timedelta(days=30))

    def test_access_claims(self):
        claims = access_claims(self.settings, subject="u1", organization_id="o1", now=NOW,
                               roles=["member", "r-9"], perms=["quotes:approve"],
                               session_id="s1")
        assert claims["exp"] - claims["iat"] == 900
        assert (claims["sub"], claims["org"], claims["sid"], claims["iss"], claims["aud"]) == (
            "u1", "o1", "s1", "https://id", "pivotal")
        assert claims["roles"] == ["member", "r-9"] and claims["perms"] == ["quotes:approve"]
        assert claims["jti"] and "client_id" not in claims

    @pytest.mark.parametrize("found, spent, expired, usable, verdict", [
        (False, False, False, False, RefreshVerdict.INVALID),
        (True, False, False, True, RefreshVerdict.ROTATE),
        (True, True, False, True, RefreshVerdict.REUSED),
        (True, True, False, False, RefreshVerdict.INVALID),
        (True, False, True, True, RefreshVerdict.INVALID),
        (True, False, False, False, RefreshVerdict.INVALID),
    ])
    def test_refresh_verdicts(self, found, spent, expired, usable, verdict):
        assert judge_refresh(found=found, spent=spent, expired=expired,
                             session_usable=usable) == verdict

    def test_secrets_are_random_and_stored_as_digests(self):
        first, second = new_secret("pfr_"), new_secret("pfr_")
        assert first != second and first.startswith("pfr_") and len(first) > 40
        assert hash_secret(first) != first and len(hash_secret(first)) == 64


class TestMfa:
    def test_a_code_is_accepted_once(self):
        assert accept_step([100], None) == 100
        assert accept_step([100], 100) is None
        assert accept_step([100, 101], 100) == 101
        assert accept_step([], None) is None

    def test_recovery_codes(self):
        codes = new_recovery_codes(10)
        assert len(set(codes)) == 10 and all(len(c) == 19 for c in codes)
        assert normalize_recovery_code(f" {codes[0].upper()} ") == codes[0].replace("-", "")


class TestRbac:
    def test_coverage_with_wildcards(self):
        assert rbac.covers({"*"}, "quotes:approve")
        assert rbac.covers({"quotes:*"}, "quotes:approve")
        assert rbac.covers({"quotes:*"}, "quotes:*")
        assert not rbac.covers({"quotes:*"}, "*")
        assert not rbac.covers({"quotes:read"}, "quotes:*")
        assert not rbac.covers({"*"}, "keys:rotate")  # platform permission: never by wildcard

    def test_escalation(self):
        manager = rbac.built_in_permissions("manager")
        member = rbac.built_in_permissions("member")
        assert rbac.first_uncovered(manager, member) is None
        assert rbac.first_uncovered(manager, rbac.built_in_permissions("admin")) == "*"

    def test_token_perms_hold_only_custom_grants(self):
        custom = {"r-1": ["quotes:approve"], "r-2": ["time:*"]}
        assert rbac.token_perms(["member", "r-1"], custom) == {"quotes:approve"}
        effective = rbac.effective_permissions(["member", "r-2"], custom)
        assert "time:*" in effective and "projects:read" in effective
        assert rbac.granting_roles(["member", "r-2"], custom, "time:approve") == ["r-2"]

    def test_catalog_problems(self):
        catalog = rbac.PermissionCatalog([
            rbac.PermissionEntry("quotes:approve", "", "quotation", True),
            rbac.PermissionEntry("plans:write", "", "billing", False)])
        assert catalog.problem("quotes:approve") is None
        assert catalog.problem("quotes:*") is None
        assert catalog.problem("plans:write") == "is reserved to the platform operator"
        assert catalog.problem("quotes:fly") == "is not in the permission catalog"
        assert catalog.problem("*") == "must be `resource:action` or `resource:*`"
        assert catalog.problem("nothing:*") == "names no known resource"


def _user(**kw) -> User:
    values = {"id": "u1", "organization_id": "o1", "email": "a@b.test", "given_name": "A",
                  "family_name": "B", "display_name": "A B", "origin": UserOrigin.ADMINISTRATOR,
                  "create_time": NOW, "update_time": NOW}
    values.update(kw)
    return User(**values)


class TestModel:
    def test_user_transitions(self):
        user = _user(password_hash="h")
        user.deactivate(NOW)
        assert user.state is UserState.DEACTIVATED and user.version == 2
        with pytest.raises(InvalidState):
            user.deactivate(NOW)
        user.reactivate(NOW)
        assert user.state is UserState.ACTIVE
        pending = _user(state=UserState.DEACTIVATED)
        pending.reactivate(NOW)
        assert pending.state is UserState.PENDING
        assert user.grant("admin", NOW) and not user.grant("admin", NOW)

    def test_invitation_expires_and_can_be_resent(self):
        invitation = Invitation(id="i1", organization_id="o1", email="x@y.test", role_id="member",
                                inviter_user_id="u1", expire_time=NOW, create_time=NOW,
                                update_time=NOW)
        assert invitation.state_at(NOW) is InvitationState.EXPIRED
        invitation.send("hash", NOW, timedelta(days=7))
        assert invitation.state_at(NOW) is InvitationState.PENDING
        invitation.accept("u2", NOW)
        assert invitation.token_hash is None
        with pytest.raises(InvalidState):
            invitation.send("hash2", NOW, timedelta(days=7))

    def test_session_rotation_is_capped_by_the_absolute_lifetime(self):
        session = Session(id="s1", organization_id="o1", user_id="u1",
                          authentication_method=AuthenticationMethod.PASSWORD,
                          expire_time=NOW + timedelta(days=7),
                          absolute_expire_time=NOW + timedelta(days=8), create_time=NOW,
                          update_time=NOW)
        session.rotated(NOW + timedelta(days=6), timedelta(days=7))
        assert session.expire_time == NOW + timedelta(days=8)
        assert session.state_at(NOW + timedelta(days=9)) is SessionState.EXPIRED
        assert session.revoke(RevokeReason.LOGOUT, NOW) and not session.revoke(
            RevokeReason.ADMIN, NOW)


class TestKeys:
    def _key(self, kid, state, activate, expire=None):
        return SigningKey(id=kid, algorithm="RS256", public_jwk={"kid": kid},
                          sealed_private_key=b"", create_time=activate, activate_time=activate,
                          expire_time=expire, state=state)

    def test_jwks_lists_active_first_then_unexpired_retired(self):
        active = self._key("new", SigningKeyState.ACTIVE, NOW)
        retired = self._key("old", SigningKeyState.RETIRED, NOW - timedelta(days=1),
                            NOW + timedelta(minutes=20))
        gone = self._key("older", SigningKeyState.RETIRED, NOW - timedelta(days=2),
                         NOW - timedelta(minutes=1))
        assert [k.id for k in published_keys([retired, gone, active], NOW)] == ["new", "old"]
        assert [k.id for k in published_keys([retired, active], NOW + timedelta(minutes=21))] \
            == ["new"]

    def test_rotation_timing(self):
        assert retirement_overlap(timedelta(minutes=15), timedelta(seconds=30),
                                  timedelta(minutes=5)) == timedelta(minutes=20, seconds=30)
        active = self._key("k", SigningKeyState.ACTIVE, NOW)
        assert earliest_rotation(active, timedelta(hours=1)) == NOW + timedelta(hours=1)
        assert earliest_rotation(None, timedelta(hours=1)) is None
