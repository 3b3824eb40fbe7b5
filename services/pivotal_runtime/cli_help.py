"""Help text without Python type tags.

Typer prints the Python type of every parameter (`--gateway <bool>`, `service...
<list[str]>`, `--help <bool>`), which means nothing to an operator. Options show their
`metavar` (`--events N`) and nothing else; flags and arguments (whose name says it) show none.
"""

from __future__ import annotations

from typer.core import TyperArgument, TyperOption


def _option_type(self: TyperOption, ctx) -> str | None:
    return self.metavar


def _argument_type(self: TyperArgument, ctx) -> str | None:
    return None


def hide_type_tags() -> None:
    TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign]
