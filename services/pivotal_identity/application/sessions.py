"""Login sessions: the caller's own, and an administrator's view of the organization's."""

from __future__ import annotations

from pivotal_runtime.errors import NotFound
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.paging import page_request

from pivotal_identity.application.auth import revoke_sessions
from pivotal_identity.application.common import (
    Deps,
    require_user,
    user_in,
)
from pivotal_identity.domain.model import RevokeReason, Session, SessionState


class SessionsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _list(self, uow, caller: Caller, user_id: str | None, state: SessionState | None,
              page_size: int, page_token: str) -> tuple[list[Session], str]:
        state = state or SessionState.ACTIVE
        page = page_request(page_size, page_token, user_id, state)
        found = uow.sessions.list(caller.organization_id, user_id, state, after=page.after,
                                  limit=page.size + 1)
        return page.slice(found, key=lambda session: (session.create_time, session.id))

    def list_mine(self, caller: Caller, page_size: int, page_token: str,
                  state: SessionState | None):
        with self._deps.uow(read_only=True) as uow:
            require_user(caller)
            sessions, token = self._list(uow, caller, caller.subject, state, page_size,
                                         page_token)
        return sessions, token, caller.session_id

    def revoke_mine(self, caller: Caller, session_id: str) -> tuple[Session, str | None]:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            require_user(caller)
            session = uow.sessions.get(session_id) if session_id else None
            if session is None or session.user_id != caller.subject:
                raise NotFound("session", session_id)
            if revoke_sessions(uow, [session], RevokeReason.USER, caller.subject, now):
                uow.commit()
        return session, caller.session_id

    def list_of(self, caller: Caller, user_id: str, page_size: int, page_token: str,
                state: SessionState | None):
        with self._deps.uow(read_only=True) as uow:
            if user_id != "-":
                user_in(uow, caller, user_id)
            sessions, token = self._list(uow, caller, None if user_id == "-" else user_id,
                                         state, page_size, page_token)
        return sessions, token, caller.session_id

    def revoke_of(self, caller: Caller, user_id: str, session_id: str
                  ) -> tuple[Session, str | None]:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            session = uow.sessions.get(session_id) if session_id else None
            if session is None or session.user_id != user.id:
                raise NotFound("session", session_id)
            if revoke_sessions(uow, [session], RevokeReason.ADMIN, caller.subject, now):
                uow.commit()
        return session, caller.session_id
