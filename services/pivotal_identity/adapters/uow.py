"""Identity's unit of work: the runtime's (one transaction, outbox included) plus the
repositories bound to its session."""

from __future__ import annotations

from typing import Self

from pivotal_runtime.db import Database

from pivotal_identity.adapters import repositories as r


class IdentityUnitOfWork:
    def __init__(self, database: Database) -> None:
        self._inner = database.unit_of_work()

    def __enter__(self) -> Self:
        self._inner.__enter__()
        session = self._inner.session
        self.organizations = r.OrganizationRepository(session)
        self.users = r.UserRepository(session)
        self.roles = r.RoleRepository(session)
        self.attempts = r.LoginAttemptRepository(session)
        self.sessions = r.SessionRepository(session)
        self.refresh_tokens = r.RefreshTokenRepository(session)
        self.invitations = r.InvitationRepository(session)
        self.reset_tokens = r.ResetTokenRepository(session)
        self.mfa = r.MfaRepository(session)
        self.service_accounts = r.ServiceAccountRepository(session)
        self.signing_keys = r.SigningKeyRepository(session)
        self.idempotency = r.IdempotencyRepository(session)
        return self

    def __exit__(self, *exc_info) -> None:
        self._inner.__exit__(*exc_info)

    def add_event(self, message, *, aggregate_id: str, organization_id: str) -> str:
        return self._inner.add_event(message, aggregate_id=aggregate_id,
                                     organization_id=organization_id)

    def after_commit(self, callback) -> None:
        self._inner.after_commit(callback)

    def commit(self) -> None:
        self._inner.commit()
