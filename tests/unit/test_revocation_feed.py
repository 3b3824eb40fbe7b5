"""The runtime's revocation feed, without a network: event decoding, the pull's progress and
its failures, and the check the auth interceptor runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pivotal.identity.v1 import events_pb2
from pivotal_runtime.context import Principal
from pivotal_runtime.errors import Unauthenticated
from pivotal_runtime.revocation import Revocation, RevocationCheck, RevocationView, Scope
from pivotal_runtime.revocation_feed import PULL_OVERLAP_SECONDS, PeriodicPull, revocation_of

NOW = 1_800_000_000.0


def test_an_access_revoked_event_becomes_a_view_entry():
    event = events_pb2.AccessRevoked(organization_id="o", key="o/u", reason="ROLE_CHANGED",
                                     scope=events_pb2.ACCESS_REVOCATION_SCOPE_PRINCIPAL)
    event.revoke_time.FromMilliseconds(1_800_000_000_123)
    assert revocation_of(event) == Revocation(Scope.PRINCIPAL, "o/u", 1_800_000_000.123,
                                              "ROLE_CHANGED")
    assert revocation_of(events_pb2.AccessRevoked(key="k")) is None  # no scope
    assert revocation_of(events_pb2.AccessRevoked(
        scope=events_pb2.ACCESS_REVOCATION_SCOPE_SESSION)) is None  # no key


def test_the_check_refuses_a_covered_token_only():
    view = RevocationView(retention_seconds=3600, clock=lambda: NOW)
    view.apply([Revocation(Scope.SESSION, "s1", NOW - 10, "LOGOUT")])
    check = RevocationCheck(view)
    before = Principal("u", "o", session_id="s1", issued_at=NOW - 10.001)
    after = Principal("u", "o", session_id="s1", issued_at=NOW - 9.999)
    with pytest.raises(Unauthenticated) as raised:
        check.current(before)
    assert raised.value.reason == "TOKEN_REVOKED"
    assert check.current(after) is after


def test_the_pull_asks_from_its_last_answer_and_survives_failures():
    asked: list[datetime | None] = []
    read_time = datetime(2027, 1, 1, tzinfo=UTC)
    answers = [RuntimeError("identity away"),
               ([Revocation(Scope.ORGANIZATION, "o", NOW)], read_time)]
    view = RevocationView(retention_seconds=3600, clock=lambda: NOW)

    def pull(since):
        asked.append(since)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    puller = PeriodicPull(pull, view.apply, interval=3600, name="test")
    with pytest.raises(RuntimeError):
        puller.pull_once()
    assert len(view) == 0 and not puller.pulled.is_set()
    puller.pull_once()
    assert len(view) == 1 and puller.pulled.is_set()
    answers.append(([], read_time + timedelta(seconds=5)))
    puller.pull_once()
    assert asked == [None, None, read_time - timedelta(seconds=PULL_OVERLAP_SECONDS)]


def test_a_nudge_pulls_at_once():
    pulled = threading.Event()
    calls = []

    def pull(since):
        calls.append(since)
        if len(calls) == 2:
            pulled.set()
        return [], datetime.now(UTC)

    puller = PeriodicPull(pull, lambda _: None, interval=3600, name="test")
    puller.start()
    try:
        assert puller.pulled.wait(5)
        puller.nudge()
        assert pulled.wait(5)
    finally:
        puller.stop()
