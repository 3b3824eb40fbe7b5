"""Identity's unit of work: the runtime's (one transaction, outbox and kit tables included)
plus identity's repositories bound to its session."""

from __future__ import annotations

from pivotal_runtime.uow import UnitOfWork
from sqlalchemy.orm import Session

from pivotal_identity.adapters import repositories as r


class IdentityUnitOfWork(UnitOfWork):
    def bind(self, session: Session) -> None:
        super().bind(session)
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
        self.access = r.AccessRepository(session)
