"""The conventions of docs/contracts.md that buf lint cannot check, as one function over a
descriptor set: `check(files) -> [Violation]`.

The test suite runs it on the descriptor set `make generate` builds and on scratch copies of
`proto/` that break one rule each; `python -m tools.contract_rules` prints what it finds.
The descriptor set must carry source info (comments): `buf build` writes it by default.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

from tools.protogen import DESCRIPTOR_SET

FieldProto = descriptor_pb2.FieldDescriptorProto
MethodOptions = descriptor_pb2.MethodOptions

WORKLOADS = frozenset({"gateway", "identity", "quotation", "project", "time", "billing"})
PERMISSION = re.compile(r"^[a-z_]+:[a-z_]+$")
# Names of fields that hold a secret: never in a URL path or query string.
SECRET = re.compile(r"password|secret|token|recovery_code")
NOT_SECRET = frozenset({"page_token", "next_page_token"})
# Events whose payload is the state a consumer replicates; they carry the aggregate's version.
REPLICATING_EVENT = re.compile(r"(Created|Updated|Registered|Added|StateChanged)$")
READ_PREFIXES = ("Get", "List", "BatchGet")
STATE_TRANSITION = ".pivotal.common.v1.StateTransition"
# Enums every domain declares for itself (docs/contracts.md, Errors).
PER_DOMAIN_NAMES = frozenset({"ErrorReason"})


@dataclass(frozen=True)
class Violation:
    rule: str
    where: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.problem}"


@dataclass(frozen=True)
class Message:
    file: descriptor_pb2.FileDescriptorProto
    proto: descriptor_pb2.DescriptorProto
    full_name: str  # without the leading dot
    path: tuple[int, ...]  # source-info path

    def field_path(self, index: int) -> tuple[int, ...]:
        return (*self.path, 2, index)


class Contracts:
    """An index over the `pivotal.*` files of a descriptor set."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.files = [f for f in files.file if f.package.startswith("pivotal.")]
        self.messages: dict[str, Message] = {}
        self._comments: dict[tuple[str, tuple[int, ...]], str] = {}
        for file in self.files:
            for loc in file.source_code_info.location:
                text = (loc.leading_comments or loc.trailing_comments).strip()
                if text:
                    self._comments[(file.name, tuple(loc.path))] = text
            self._index(file, file.message_type, file.package, (4,))

    def _index(self, file, messages, prefix: str, path: tuple[int, ...]) -> None:
        for i, message in enumerate(messages):
            full = f"{prefix}.{message.name}"
            self.messages[full] = Message(file, message, full, (*path, i))
            self._index(file, message.nested_type, full, (*path, i, 3))

    def comment(self, file, path: tuple[int, ...]) -> str:
        return self._comments.get((file.name, tuple(path)), "")

    def message(self, type_name: str) -> Message | None:
        return self.messages.get(type_name.lstrip("."))

    def methods(self) -> Iterator[tuple[descriptor_pb2.FileDescriptorProto, str,
                                        descriptor_pb2.MethodDescriptorProto]]:
        for file in self.files:
            for service in file.service:
                for method in service.method:
                    yield file, f"{file.package}.{service.name}", method

    def events(self) -> Iterator[Message]:
        from pivotal.options.v1 import options_pb2

        for message in self.messages.values():
            if message.proto.options.HasExtension(options_pb2.event):
                yield message


def _behaviors(field: FieldProto) -> list[int]:
    return list(field.options.Extensions[field_behavior_pb2.field_behavior])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _is_resource(message: Message) -> bool:
    """A resource: a top-level message (not a request, response or event) whose first field
    is its own `<resource>_id`."""
    proto = message.proto
    if len(message.path) != 2 or proto.name.endswith(("Request", "Response")):
        return False
    first = next((f for f in proto.field if f.number == 1), None)
    return first is not None and first.name == f"{_snake(proto.name)}_id"


# --- the rules -------------------------------------------------------------------------


def check_access(c: Contracts) -> Iterator[Violation]:
    from pivotal.options.v1 import options_pb2

    for _file, service, method in c.methods():
        where = f"{service}.{method.name}"
        options = method.options
        if not options.HasExtension(options_pb2.authorization):
            yield Violation("access", where, "declares no (pivotal.options.v1.authorization)")
            continue
        auth = options.Extensions[options_pb2.authorization]
        access = auth.WhichOneof("access")
        permissions = ([auth.permission] if access == "permission" else
                       list(auth.any_of.permissions) if access == "any_of" else [])
        if access is None or (access in ("public", "authenticated")
                              and not getattr(auth, access)):
            yield Violation("access", where, "sets none of public/authenticated/permission/any_of")
        if access == "any_of" and len(set(permissions)) < 2:
            yield Violation("access", where, "any_of needs at least two distinct permissions")
        for permission in permissions:
            if not PERMISSION.match(permission):
                yield Violation("access", where, f"{permission!r} is not `resource:action`")
        if not auth.callers or not set(auth.callers) <= WORKLOADS:
            yield Violation("access", where, f"callers {list(auth.callers)} must be workloads")
        if options.HasExtension(annotations_pb2.http) != ("gateway" in auth.callers):
            yield Violation("access", where,
                            "has an HTTP binding exactly when `gateway` is among its callers")


def check_comments(c: Contracts) -> Iterator[Violation]:
    for file in c.files:
        for path, name in _declarations(file):
            text = c.comment(file, path)
            short = name.rsplit(".", 1)[-1]
            if not text:
                yield Violation("comments", f"{file.name}: {name}", "has no comment")
            elif not re.match(rf"^(The )?`?{re.escape(short)}\b", text):
                yield Violation("comments", f"{file.name}: {name}",
                                f"comment must start with {short!r}")


def _declarations(file) -> Iterator[tuple[tuple[int, ...], str]]:
    def messages(prefix, items):
        for i, message in enumerate(items):
            path = (*prefix, i)
            yield path, message.name
            for j, field in enumerate(message.field):
                yield (*path, 2, j), f"{message.name}.{field.name}"
            yield from messages((*path, 3), message.nested_type)
            yield from enums((*path, 4), message.enum_type)

    def enums(prefix, items):
        for i, enum in enumerate(items):
            yield (*prefix, i), enum.name
            for j, value in enumerate(enum.value):
                yield (*prefix, i, 2, j), value.name

    yield from messages((4,), file.message_type)
    yield from enums((5,), file.enum_type)
    for i, service in enumerate(file.service):
        yield (6, i), service.name
        for j, method in enumerate(service.method):
            yield (6, i, 2, j), f"{service.name}.{method.name}"


def check_identifiers(c: Contracts) -> Iterator[Violation]:
    for message in c.messages.values():
        if not _is_resource(message):
            continue
        id_field = next(f for f in message.proto.field if f.number == 1)
        if field_behavior_pb2.IDENTIFIER not in _behaviors(id_field):
            yield Violation("identifier", f"{message.full_name}.{id_field.name}",
                            "a resource's id is (google.api.field_behavior) = IDENTIFIER")


def check_etags(c: Contracts) -> Iterator[Violation]:
    for message in c.messages.values():
        for field in message.proto.field:
            if field.name == "etag" and field_behavior_pb2.OUTPUT_ONLY in _behaviors(field):
                yield Violation("etag", f"{message.full_name}.etag",
                                "clients send the etag back: it is never OUTPUT_ONLY")


def check_update_masks(c: Contracts) -> Iterator[Violation]:
    for message in c.messages.values():
        if not message.proto.name.endswith("Request"):
            continue  # an event's update_mask names what changed
        for index, field in enumerate(message.proto.field):
            if field.name != "update_mask":
                continue
            where = f"{message.full_name}.update_mask"
            if field_behavior_pb2.REQUIRED in _behaviors(field):
                yield Violation("update_mask", where, "is optional, never REQUIRED")
            text = c.comment(message.file, message.field_path(index))
            if "empty" not in text or "`*`" not in text:
                yield Violation("update_mask", where,
                                "its comment says what empty (the populated fields) and `*` "
                                "(full replace) do")


def check_idempotency(c: Contracts) -> Iterator[Violation]:
    for _file, service, method in c.methods():
        level = method.options.idempotency_level
        where = f"{service}.{method.name}"
        if method.name.startswith(READ_PREFIXES) and level != MethodOptions.NO_SIDE_EFFECTS:
            yield Violation("idempotency", where, "a Get or List is NO_SIDE_EFFECTS")
        if method.name.startswith("Update") and level != MethodOptions.IDEMPOTENT:
            yield Violation("idempotency", where, "an Update is IDEMPOTENT")


def check_states(c: Contracts) -> Iterator[Violation]:
    for file in c.files:
        for enum in file.enum_type:
            if enum.name.endswith("Status"):
                yield Violation("state", f"{file.package}.{enum.name}",
                                "a lifecycle enum is `<Resource>State`, not `...Status`")
    for message in c.messages.values():
        name = message.proto.name
        listing = name.startswith("List") and name.endswith("Request")
        for field in message.proto.field:
            where = f"{message.full_name}.{field.name}"
            if field.name in ("status", "statuses"):
                yield Violation("state", where, "a lifecycle field is `state`, not `status`")
            if field.type != FieldProto.TYPE_ENUM or not field.type_name.endswith("State"):
                continue
            enum_name = field.type_name.rsplit(".", 1)[-1]
            repeated = field.label == FieldProto.LABEL_REPEATED
            if listing and not (repeated and field.name.endswith("states")):
                yield Violation("state", where, f"a list filter is `repeated {enum_name} states`")
            if enum_name == f"{name}State" and field.name != "state":
                yield Violation("state", where, f"{name}'s lifecycle field is named `state`")


def check_state_transitions(c: Contracts) -> Iterator[Violation]:
    for event in c.events():
        name = event.proto.name
        if name.endswith("StatusChanged"):
            yield Violation("state_transition", event.full_name, "is named `...StateChanged`")
        if name.endswith(("StateChanged", "StatusChanged")) and not any(
                f.type_name == STATE_TRANSITION for f in event.proto.field):
            yield Violation("state_transition", event.full_name,
                            "carries a pivotal.common.v1.StateTransition")


def check_request_ids(c: Contracts) -> Iterator[Violation]:
    for message in c.messages.values():
        for index, field in enumerate(message.proto.field):
            if field.name != "request_id":
                continue
            text = c.comment(message.file, message.field_path(index))
            if field.type != FieldProto.TYPE_STRING or "UUID" not in text:
                yield Violation("request_id", f"{message.full_name}.request_id",
                                "is a string whose comment says it is a UUID")


def check_event_versions(c: Contracts) -> Iterator[Violation]:
    for event in c.events():
        if not REPLICATING_EVENT.search(event.proto.name):
            continue
        if not any(f.name == "version" and f.type == FieldProto.TYPE_INT64
                   for f in event.proto.field):
            yield Violation("event_version", event.full_name,
                            "replicates its aggregate's state: carries `int64 version`")


def check_shared_shapes(c: Contracts) -> Iterator[Violation]:
    packages: dict[str, set[str]] = defaultdict(set)
    for file in c.files:
        for item in (*file.message_type, *file.enum_type):
            packages[item.name].add(file.package)
    for name, where in sorted(packages.items()):
        if len(where) > 1 and name not in PER_DOMAIN_NAMES:
            yield Violation("shared_shapes", name,
                            f"declared in {sorted(where)}: shared shapes live once in "
                            "pivotal.common.v1")


def _http_rules(method) -> list[http_pb2.HttpRule]:
    if not method.options.HasExtension(annotations_pb2.http):
        return []
    rule = method.options.Extensions[annotations_pb2.http]
    return [rule, *rule.additional_bindings]


def _leaf_paths(c: Contracts, message: Message | None, prefix: str = "",
                depth: int = 0) -> Iterator[str]:
    if message is None or depth > 4:
        return
    for field in message.proto.field:
        path = f"{prefix}{field.name}"
        yield path
        if field.type == FieldProto.TYPE_MESSAGE and field.label != FieldProto.LABEL_REPEATED:
            yield from _leaf_paths(c, c.message(field.type_name), f"{path}.", depth + 1)


def check_secrets_over_rest(c: Contracts) -> Iterator[Violation]:
    for _file, service, method in c.methods():
        request = c.message(method.input_type)
        for rule in _http_rules(method):
            kind = rule.WhichOneof("pattern")
            pattern = rule.custom.path if kind == "custom" else getattr(rule, kind)
            path_vars = {v.split("=")[0] for v in re.findall(r"\{([^}]+)\}", pattern)}
            exposed = set(path_vars)
            if rule.body != "*":
                for leaf in _leaf_paths(c, request):
                    outside_body = not rule.body or not (
                        leaf == rule.body or leaf.startswith(rule.body + "."))
                    if outside_body and not any(leaf == v or leaf.startswith(v + ".")
                                                for v in path_vars):
                        exposed.add(leaf)
            for leaf in sorted(exposed):
                last = leaf.rsplit(".", 1)[-1]
                if SECRET.search(last) and last not in NOT_SECRET:
                    yield Violation("secrets", f"{service}.{method.name}",
                                    f"`{leaf}` would travel in the URL path or query string")


RULES: dict[str, Callable[[Contracts], Iterator[Violation]]] = {
    "access": check_access,
    "comments": check_comments,
    "identifier": check_identifiers,
    "etag": check_etags,
    "update_mask": check_update_masks,
    "idempotency": check_idempotency,
    "state": check_states,
    "state_transition": check_state_transitions,
    "request_id": check_request_ids,
    "event_version": check_event_versions,
    "shared_shapes": check_shared_shapes,
    "secrets": check_secrets_over_rest,
}


def check(files: descriptor_pb2.FileDescriptorSet) -> list[Violation]:
    """Every violation of the conventions in a descriptor set (with source info)."""
    import pivotal.options.v1.options_pb2  # noqa: F401  (registers the custom options)

    # Parsed again, so that custom options parsed before the import become extensions.
    contracts = Contracts(descriptor_pb2.FileDescriptorSet.FromString(files.SerializeToString()))
    return [v for rule in RULES.values() for v in rule(contracts)]


def load(path: Path = DESCRIPTOR_SET) -> descriptor_pb2.FileDescriptorSet:
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


def main() -> int:
    violations = check(load(Path(sys.argv[1]) if len(sys.argv) > 1 else DESCRIPTOR_SET))
    for violation in violations:
        print(violation)
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
