"""Update masks (AIP-134), applied once for every domain. Pure code.

- an empty mask means the fields the client populated in the resource;
- `*` means a full replace: every updatable field, the unset ones cleared;
- a path that is not an updatable field is INVALID_ARGUMENT on `update_mask`, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit import field_reasons

FULL_REPLACE = "*"


def mask_fields(paths: Iterable[str], updatable: Iterable[str], populated: Iterable[str] = ()
                ) -> list[str]:
    """The fields an update changes, in the order of `updatable`; raises INVALID_ARGUMENT
    for every path that cannot be updated."""
    paths, updatable = list(paths), list(updatable)
    if not paths:
        chosen = set(populated)
        return [name for name in updatable if name in chosen]
    if FULL_REPLACE in paths:
        if paths != [FULL_REPLACE]:
            v = ViolationCollector()
            v.add("update_mask", "`*` cannot be combined with other paths",
                  field_reasons.UNKNOWN_MASK_PATH)
            v.raise_if_any()
        return updatable
    v = ViolationCollector()
    for path in paths:
        if path not in updatable:
            v.add("update_mask", f"{path!r} is not an updatable field; updatable: "
                  f"{', '.join(updatable)}", field_reasons.UNKNOWN_MASK_PATH)
    v.raise_if_any()
    chosen = set(paths)
    return [name for name in updatable if name in chosen]


@dataclass(frozen=True)
class UpdateMask:
    """An update request's mask, the resource fields the client populated (for an empty
    mask) and the resource's `IMMUTABLE` fields; servicers build it
    (`pivotal_runtime.kit.proto_types.update_mask_of`)."""

    paths: tuple[str, ...] = ()
    populated: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()

    def fields(self, updatable: Iterable[str]) -> list[str]:
        return mask_fields(self.paths, updatable, self.populated)

    def check_unchanged(self, stored: object, requested: Mapping[str, object],
                        prefix: str = "") -> None:
        """INVALID_ARGUMENT (reason IMMUTABLE) for every immutable field the update names
        (by its mask, or by populating it) with a value other than the stored one."""
        named = set(self.paths) if self.paths and FULL_REPLACE not in self.paths \
            else set(self.populated) if not self.paths else set(requested)
        v = ViolationCollector()
        for name in self.immutable:
            if name in named and name in requested and requested[name] != getattr(stored, name):
                v.add(f"{prefix}{name}", "cannot be changed once set", field_reasons.IMMUTABLE)
        v.raise_if_any()
