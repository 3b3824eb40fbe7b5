"""The Lua filter that refuses unknown JSON fields in REST bodies (the transcoder would drop
them silently). The script is static (`pivotal_gateway/lua/reject_unknown_fields.lua`); the tables
it checks against are generated here from the descriptor set."""

from __future__ import annotations

import re

from google.protobuf import descriptor_pb2

from pivotal_gateway.assets import unknown_fields_script
from pivotal_gateway.descriptors import Contracts, HttpBinding

F = descriptor_pb2.FieldDescriptorProto
# Free-form JSON in the proto3 mapping: never descended into.
OPAQUE = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
          "google.protobuf.Any"}
_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")
_LUA_MAGIC = re.compile(r"([\^$()%.\[\]*+\-?])")


def lua_pattern(template: str) -> str:
    """`/v1/quotes/{quote_id}:approve` → `^/v1/quotes/[^/]+:approve$` (a Lua pattern)."""
    out, position = [], 0
    for match in _VARIABLE.finditer(template):
        out.append(_LUA_MAGIC.sub(r"%\1", template[position:match.start()]))
        segments = (match.group(2) or "*").split("/")
        out.append("/".join(".+" if s == "**" else "[^/]+" if s == "*"
                            else _LUA_MAGIC.sub(r"%\1", s) for s in segments))
        position = match.end()
    out.append(_LUA_MAGIC.sub(r"%\1", template[position:]))
    return "^" + "".join(out) + "$"


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Tables:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.index: dict[str, int] = {}
        # (message, JSON or proto name, 0 | +msg | -map msg, proto name)
        self.fields: list[tuple[int, str, int, str]] = []

    def message(self, full_name: str) -> int | None:
        """The table index of a message (None for a leaf: well-known or opaque types)."""
        full_name = full_name.lstrip(".")
        if full_name.startswith("google.protobuf."):
            return None
        if full_name in self.index:
            return self.index[full_name]
        number = len(self.index) + 1
        self.index[full_name] = number
        for field in self.contracts.declaration(full_name).proto.field:
            kind = self._kind(field)
            for name in sorted({field.json_name or field.name, field.name}):
                self.fields.append((number, name, kind, field.name))
        return number

    def _kind(self, field) -> int:
        if field.type != F.TYPE_MESSAGE:
            return 0
        entry = self.contracts.declaration(field.type_name).proto
        if entry.options.map_entry:
            value = entry.field[1]
            if value.type != F.TYPE_MESSAGE:
                return 0
            target = self.message(value.type_name)
            return -target if target else 0
        return self.message(field.type_name) or 0


def _body_prefix(binding: HttpBinding) -> str:
    """Where the body sits in the request message (violations name proto paths from there)."""
    return "" if binding.body in ("", "*") else binding.body + "."


def _body_message(contracts: Contracts, input_type: str, binding: HttpBinding) -> str | None:
    if not binding.body:
        return None
    if binding.body == "*":
        return input_type
    message = contracts.declaration(input_type).proto
    field = next(f for f in message.field if f.name == binding.body)
    return field.type_name.lstrip(".") if field.type == F.TYPE_MESSAGE else None


def lua_source(contracts: Contracts) -> str:
    tables = _Tables(contracts)
    bindings = []
    for method in contracts.methods:
        for binding in method.bindings:
            body = _body_message(contracts, method.input_type, binding)
            if body is None or body in OPAQUE:
                continue
            number = tables.message(body)
            if number is None:
                continue
            variables = len(_VARIABLE.findall(binding.path))
            bindings.append((variables, -len(binding.path), binding.verb.upper(),
                             lua_pattern(binding.path), number, _body_prefix(binding)))
    bindings.sort()
    lines = ["-- Generated from the descriptor set by pivotal_gateway.unknown_fields.",
             "local MESSAGES = {}",
             f"for i = 1, {len(tables.index)} do MESSAGES[i] = {{}} end",
             "NAMES = {}",
             "for i = 1, #MESSAGES do NAMES[MESSAGES[i]] = {} end",
             "local FIELDS = {"]
    lines += [f"  {{{m}, {_lua_string(n)}, {k}, {_lua_string(proto)}}},"
              for m, n, k, proto in tables.fields]
    lines += ["}",
              "for _, f in ipairs(FIELDS) do",
              "  local kind = true",
              "  if f[3] > 0 then kind = MESSAGES[f[3]]",
              "  elseif f[3] < 0 then kind = {map = MESSAGES[-f[3]]} end",
              "  MESSAGES[f[1]][f[2]] = kind",
              "  NAMES[MESSAGES[f[1]]][f[2]] = f[4]",
              "end",
              "FIELDS = nil",
              "BINDINGS = {"]
    lines += [f"  {{{_lua_string(verb)}, {_lua_string(pattern)}, MESSAGES[{number}], "
              f"{_lua_string(prefix)}}},"
              for _, _, verb, pattern, number, prefix in bindings]
    lines.append("}")
    return "\n".join(lines) + "\n\n" + unknown_fields_script()
