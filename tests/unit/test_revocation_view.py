"""The revocation view every service's auth check consults (no I/O, injected clock)."""

from pivotal_runtime.context import Principal
from pivotal_runtime.revocation import (
    Revocation,
    RevocationView,
    Scope,
    principal_key,
    role_key,
)

NOW = 1_800_000_000.0


def principal(*, issued_at=NOW - 10, roles=("admin",), sid="s-1", subject="u-1", org="o-1"):
    return Principal(subject=subject, organization_id=org, roles=frozenset(roles),
                     session_id=sid, issued_at=issued_at)


def view(clock=lambda: NOW):
    return RevocationView(retention_seconds=900, clock=clock)


def test_nothing_revoked_refuses_nothing():
    assert view().revocation_of(principal()) is None


def test_each_scope_refuses_tokens_issued_before_it():
    cases = [
        Revocation(Scope.SESSION, "s-1", NOW - 5, "LOGOUT"),
        Revocation(Scope.PRINCIPAL, principal_key("o-1", "u-1"), NOW - 5, "PASSWORD_CHANGED"),
        Revocation(Scope.ROLE, role_key("o-1", "admin"), NOW - 5, "ROLE_CHANGED"),
        Revocation(Scope.ORGANIZATION, "o-1", NOW - 5, "ORGANIZATION_DELETED"),
    ]
    for revocation in cases:
        v = view()
        v.apply([revocation])
        assert v.revocation_of(principal()) == revocation
        # A token issued after the revocation (a new login) is not refused.
        assert v.revocation_of(principal(issued_at=NOW - 4.999)) is None


def test_a_revocation_in_another_scope_refuses_nothing():
    v = view()
    v.apply([Revocation(Scope.SESSION, "s-2", NOW), Revocation(Scope.ROLE, "o-1/manager", NOW),
             Revocation(Scope.PRINCIPAL, "o-2/u-1", NOW), Revocation(Scope.ORGANIZATION, "o-2",
                                                                      NOW)])
    assert v.revocation_of(principal()) is None


def test_the_latest_revocation_of_a_key_wins_and_old_ones_are_forgotten():
    clock = [NOW]
    v = view(lambda: clock[0])
    v.apply([Revocation(Scope.PRINCIPAL, "o-1/u-1", NOW - 100)])
    v.apply([Revocation(Scope.PRINCIPAL, "o-1/u-1", NOW - 200)])  # older: ignored
    assert v.revocation_of(principal(issued_at=NOW - 150)) is not None
    clock[0] = NOW + 1000  # every token the entry could refuse has expired
    v.apply([])
    assert len(v) == 0
