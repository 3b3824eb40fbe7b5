"""Issue 9, attack 6: forgot-password does the same work for an unknown email as for a known
one, and mails at most a few times per email and hour (on the server's clock, moved by the
test, never slept through)."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pivotal.identity.v1 import credential_service_pb2 as cred_pb

from tests.identity.conftest import fast_identity_settings, identity_server, settings_for

LITERALS = re.compile(r"'[^']*'|\b\d+\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory, billing):
    settings = settings_for("sqlite", tmp_path_factory.mktemp("forgot"), None,
                            billing_port=billing.port)
    with identity_server(settings, fast_identity_settings(password_reset_mails_per_hour=3),
                         billing=billing) as running:
        yield running


def request_reset(server, email: str) -> None:
    server.credentials.RequestPasswordReset(cred_pb.RequestPasswordResetRequest(email=email),
                                            timeout=10)


def mails_to(server, email: str) -> int:
    return sum(1 for message in server.mails() if message["To"] == email)


def statements_of(server, work) -> list[str]:
    """The SQL statements the answer to `work` ran (on the RPC's thread: not the mail
    thread's, the outbox relay's or the jobs'), literals blanked."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        if threading.current_thread().name.startswith("identity-rpc"):
            seen.append(LITERALS.sub("?", statement))

    engine = server.database.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


class CountingHasher:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self.inner, name)


def test_an_unknown_email_costs_the_same_statements_and_no_hashing(server):
    owner = server.register("Forgetful").owner
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@forgetful.test"
    hasher = CountingHasher(server.app.deps.hasher)
    server.app.deps.hasher = hasher
    try:
        server.app.mailer.flush()
        known_statements = statements_of(server, lambda: request_reset(server, owner.email))
        unknown_statements = statements_of(server, lambda: request_reset(server, unknown))
    finally:
        server.app.deps.hasher = hasher.inner
    # The token is issued on the mail thread, after the answer.
    assert known_statements == unknown_statements
    assert any("login_attempts" in s for s in known_statements)  # it saw the answer's work
    assert not [s for s in known_statements if "password_reset_tokens" in s]
    assert hasher.calls == 0
    assert server.token_mailed_to(owner.email)
    assert mails_to(server, unknown) == 0


def test_at_most_three_mails_per_email_and_hour(server):
    owner = server.register("Spammed").owner
    for _ in range(6):
        request_reset(server, owner.email)
    server.app.mailer.flush()
    assert mails_to(server, owner.email) == 3
    server.clock.shift += timedelta(hours=1, seconds=1)
    try:
        request_reset(server, owner.email)
        server.app.mailer.flush()
        assert mails_to(server, owner.email) == 4
    finally:
        server.clock.shift = timedelta()
