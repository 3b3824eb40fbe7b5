"""The files the gateway reads, found inside the installed packages (never in a checkout):
the descriptor set that the generator writes into the generated package `pivotal`
(`make generate`, or the wheel build), and the static Lua script shipped with this package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DESCRIPTOR_SET = "descriptors.binpb"
UNKNOWN_FIELDS_SCRIPT = "lua/reject_unknown_fields.lua"


def descriptor_set() -> Path:
    """The packaged descriptor set (with imports): `pivotal/descriptors.binpb`."""
    try:
        path = Path(str(resources.files("pivotal") / DESCRIPTOR_SET))
    except ModuleNotFoundError:
        raise FileNotFoundError("the generated package `pivotal` is missing: run `make generate`"
                                ) from None
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make generate`")
    return path


def unknown_fields_script() -> str:
    """The static part of the Lua filter that refuses unknown JSON fields."""
    return (resources.files("pivotal_gateway") / UNKNOWN_FIELDS_SCRIPT).read_text()
