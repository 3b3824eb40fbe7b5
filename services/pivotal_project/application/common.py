"""What project's use cases share: the wired ports and loading a project for a change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pivotal_runtime.kit.paging import after_in_memory, page_request
from pivotal_runtime.kit.resources import load_for_change

from pivotal_project.domain.projects import Project

MAX_PROJECTS = "max_projects"


class Entitlements(Protocol):
    """Billing's plan limits (`pivotal_runtime.kit.entitlements.EntitlementClient`)."""

    def check(self, organization_id: str, key: str, current_usage: int, requested: int = 1
              ) -> None: ...


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Deps:
    uow: Callable[..., Any]  # uow(read_only=False) -> ProjectUnitOfWork
    clock: Callable[[], datetime]
    entitlements: Entitlements
    new_id: Callable[[], str] = field(default=new_id)


def project_of(uow, organization_id: str, project_id: str, etag: str = "", *,
               lock: bool = False) -> Project:
    """The caller's project (NOT_FOUND for another tenant's), its etag checked; `lock`
    holds its row until the commit (changes to its children are serialized)."""
    get = uow.projects.lock if lock else uow.projects.get
    return load_for_change(lambda i: get(organization_id, i), organization_id, "project",
                           project_id, etag)


def _created(item) -> tuple:
    return (item.create_time, item.id)


def page_in_memory(items: list, page_size: int, page_token: str, *filters
                   ) -> tuple[list, str, int]:
    """One page of a project's children (few per project), in creation order."""
    page = page_request(page_size, page_token, *filters)
    found, token = page.slice(after_in_memory(items, page, _created), key=_created)
    return found, token, len(items)
