"""Service accounts and their tokens (OAuth 2.0 client credentials).

Organizations create their own accounts through the API. The platform's workloads have
accounts provisioned from settings (`PIVOTAL_IDENTITY_PLATFORM_CLIENT_SECRETS`): the client
id is the workload name, the permissions are those the contracts' `callers` give the workload
(carried by the permission catalog), and the token acts in the organization the request
names.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pivotal_runtime.errors import AlreadyExists, NotFound, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.paging import page_request
from pivotal_runtime.kit.resources import check_etag, load_for_change

from pivotal_identity.application import revocations
from pivotal_identity.application.auth import TokenIssuer
from pivotal_identity.application.common import (
    Deps,
    guard_acting_on,
    invalid,
    text,
)
from pivotal_identity.application.roles import check_grants
from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.model import ServiceAccount, new_id
from pivotal_identity.domain.tokens import hash_secret, new_secret, secrets_equal

ACCOUNT_FIELDS = ("display_name", "description", "permissions")
PLATFORM_SUBJECT_PREFIX = "platform-"
# The `org` claim of the operator's tokens when it names no organization.
PLATFORM_ORGANIZATION = "platform"


@dataclass
class AccountInput:
    display_name: str = ""
    description: str = ""
    permissions: list[str] = field(default_factory=list)


@dataclass
class ServiceToken:
    access_token: str
    expires_in: int


def guard_account_target(caller: Caller, account: ServiceAccount) -> None:
    guard_acting_on(caller, rbac.Standing(frozenset(), frozenset(account.permissions)))


class ServiceAccountsService:
    def __init__(self, deps: Deps, issuer: TokenIssuer) -> None:
        self._deps = deps
        self._issuer = issuer

    def _validated(self, uow, caller, data: AccountInput, fields, except_id: str = "") -> dict:
        v = ViolationCollector()
        values = {}
        if "display_name" in fields:
            name = text(v, "service_account.display_name", data.display_name, required=True,
                        max_length=100)
            if name and uow.service_accounts.name_taken(caller.organization_id, name, except_id):
                raise AlreadyExists("a service account with this name exists")
            values["display_name"] = name
        if "description" in fields:
            values["description"] = text(v, "service_account.description", data.description,
                                         max_length=1000)
        if "permissions" in fields:
            values["permissions"] = check_grants(v, self._deps, caller,
                                                 "service_account.permissions",
                                                 data.permissions)
        v.raise_if_any()
        return values

    def _get(self, uow, caller, account_id: str) -> ServiceAccount:
        return load_for_change(
            lambda found: uow.service_accounts.get(caller.organization_id, found),
            caller.organization_id, "service account", account_id)

    def create(self, caller: Caller, data: AccountInput, request_id: str
               ) -> tuple[ServiceAccount, str]:
        deps = self._deps
        now = deps.clock()
        key = RequestKey(f"service_account:{caller.organization_id}", request_id,
                         fingerprint(data.display_name, data.description,
                                     sorted(data.permissions)))
        with deps.uow() as uow:
            existing = uow.requests.reserve(key, now)
            if existing:
                return self._get(uow, caller, existing), ""
            values = self._validated(uow, caller, data, ACCOUNT_FIELDS)
            secret = new_secret("pfs_")
            account = ServiceAccount(id=new_id(), organization_id=caller.organization_id,
                                     client_id=f"sa_{secrets.token_hex(12)}",
                                     secret_hash=hash_secret(secret), secret_create_time=now,
                                     create_time=now, update_time=now, **values)
            uow.service_accounts.add(account)
            uow.requests.complete(key, account.id)
            uow.commit()
        return account, secret

    def get(self, caller: Caller, account_id: str) -> ServiceAccount:
        with self._deps.uow(read_only=True) as uow:
            return self._get(uow, caller, account_id)

    def list(self, caller: Caller, page_size: int, page_token: str, show_deleted: bool):
        page = page_request(page_size, page_token, show_deleted)
        with self._deps.uow(read_only=True) as uow:
            found, total = uow.service_accounts.list(caller.organization_id,
                                                     show_deleted=show_deleted,
                                                     after=page.after, limit=page.size + 1)
        found, token = page.slice(found, key=lambda account: (account.display_name, account.id))
        return found, token, total

    def update(self, caller: Caller, account_id: str, data: AccountInput, paths: list[str],
               etag: str) -> ServiceAccount:
        now = self._deps.clock()
        v = ViolationCollector()
        fields = paths.fields(ACCOUNT_FIELDS)
        v.raise_if_any()
        with self._deps.uow() as uow:
            account = self._get(uow, caller, account_id)
            check_etag(etag, account.etag, f"serviceAccounts/{account_id}")
            guard_account_target(caller, account)
            before = set(account.permissions)
            for name, value in self._validated(uow, caller, data, fields, account.id).items():
                setattr(account, name, value)
            account.touch(now)
            uow.service_accounts.update(account)
            if before != set(account.permissions):
                revocations.revoke_principal(uow, account.organization_id, account.id,
                                             "SERVICE_ACCOUNT_PERMISSIONS_CHANGED", now)
            uow.commit()
            return account

    def delete(self, caller: Caller, account_id: str, etag: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            account = self._get(uow, caller, account_id)
            check_etag(etag, account.etag, f"serviceAccounts/{account_id}")
            guard_account_target(caller, account)
            if account.active:
                account.delete(now)
                uow.service_accounts.update(account)
                revocations.revoke_principal(uow, account.organization_id, account.id,
                                             "SERVICE_ACCOUNT_DELETED", now)
                uow.commit()

    def rotate_secret(self, caller: Caller, account_id: str, etag: str
                      ) -> tuple[ServiceAccount, str]:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            account = self._get(uow, caller, account_id)
            check_etag(etag, account.etag, f"serviceAccounts/{account_id}")
            guard_account_target(caller, account)
            secret = new_secret("pfs_")
            account.rotate_secret(hash_secret(secret), now)
            uow.service_accounts.update(account)
            revocations.revoke_principal(uow, account.organization_id, account.id,
                                         "SERVICE_ACCOUNT_SECRET_ROTATED", now)
            uow.commit()
        return account, secret

    def issue_token(self, client_id: str, client_secret: str, organization_id: str
                    ) -> ServiceToken:
        deps = self._deps
        now = deps.clock()
        client_id, organization_id = client_id.strip(), organization_id.strip()
        presented = hash_secret(client_secret)
        platform = deps.settings.platform_client_secrets.get(client_id)
        if platform is not None and client_id in deps.catalog.platform_accounts:
            if not client_secret or not secrets_equal(
                    presented, hash_secret(platform.get_secret_value())):
                raise errors.client_credentials_invalid()
            if organization_id:
                with deps.uow() as uow:
                    organization = uow.organizations.get(organization_id)
                if organization is None or not organization.active:
                    raise NotFound("organization", organization_id)
            # Without an organization, a token of no tenant ("platform"): what the operator
            # and a workload's own platform calls (ListRevocations) use.
            token = self._issuer.sign(self._issuer.service_claims(
                PLATFORM_SUBJECT_PREFIX + client_id, organization_id or PLATFORM_ORGANIZATION,
                deps.catalog.platform_accounts[client_id], client_id, now))
            return ServiceToken(token, int(deps.tokens.access_ttl.total_seconds()))
        with deps.uow() as uow:
            account = uow.service_accounts.by_client_id(client_id) if client_id else None
            right = account is not None and bool(client_secret) and \
                secrets_equal(presented, account.secret_hash)
            organization = uow.organizations.get(account.organization_id) if right else None
            if not right or not account.active or organization is None \
                    or not organization.active:
                raise errors.client_credentials_invalid()
            if organization_id:
                raise invalid("organization_id", "must be empty for an organization's account")
            uow.service_accounts.record_use(account, now)
            uow.commit()
        token = self._issuer.sign(self._issuer.service_claims(account.id, account.organization_id,
                                                      account.permissions, client_id, now))
        return ServiceToken(token, int(deps.tokens.access_ttl.total_seconds()))
