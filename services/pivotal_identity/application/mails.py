"""The mails identity sends: (subject, body). Links carry the token in the URL fragment, which
browsers never send to a server, so it stays out of access logs."""

from __future__ import annotations

from pivotal_identity.domain.model import Organization


def _link(settings, path: str, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/{path}#token={token}"


def invitation(settings, organization: Organization, inviter: str, role: str, note: str,
               token: str) -> tuple[str, str]:
    body = (f"{inviter} invites you to join {organization.display_name} on Pivotal Flow as "
            f"{role}.\n\n")
    if note:
        body += f"{note}\n\n"
    body += f"Accept the invitation: {_link(settings, 'invitations/accept', token)}\n"
    return f"Join {organization.display_name} on Pivotal Flow", body


def password_setup(settings, organization: Organization, token: str) -> tuple[str, str]:
    body = ("An account was created for you. Choose your password: "
            f"{_link(settings, 'password/setup', token)}\n")
    return f"Your {organization.display_name} account on Pivotal Flow", body


def password_reset(settings, token: str) -> tuple[str, str]:
    body = ("Someone asked to reset the password of this account. If it was you: "
            f"{_link(settings, 'password/reset', token)}\n"
            "If not, ignore this mail; your password stays as it is.\n")
    return "Reset your Pivotal Flow password", body
