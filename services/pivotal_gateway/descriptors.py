"""The descriptor set `make generate` builds (`pivotal/descriptors.binpb`), indexed for the
gateway: every externally reachable RPC with its HTTP bindings and its contract rule, the
messages and enums (for the OpenAPI spec), and the comments (for its descriptions)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.rpc import error_details_pb2, status_pb2
from pivotal_runtime.contract import MethodRule, method_rules

HTTP_BODY = "google.api.HttpBody"
# The google.rpc types the transcoder must know to print an error's details as JSON.
ERROR_FILES = (status_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR)

# FileDescriptorProto field numbers, for source-code-info paths.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM, _VALUE, _METHOD = 2, 3, 4, 2, 2


@dataclass(frozen=True)
class HttpBinding:
    verb: str  # "get", "post", "patch", "put", "delete" (or a custom verb)
    path: str  # "/v1/quotes/{quote_id}:approve"
    body: str  # "" (none), "*" (the whole request) or a request field
    response_body: str


@dataclass(frozen=True)
class Method:
    rule: MethodRule
    input_type: str  # "pivotal.quotation.v1.GetQuoteRequest"
    output_type: str
    bindings: tuple[HttpBinding, ...]
    comment: str

    @property
    def full_method(self) -> str:
        return self.rule.full_method

    @property
    def download(self) -> bool:
        return self.output_type == HTTP_BODY


@dataclass(frozen=True)
class Declaration:
    """A message or enum with the file it lives in and its source-code-info path."""

    proto: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto
    file: descriptor_pb2.FileDescriptorProto
    path: tuple[int, ...]


def _binding(rule: http_pb2.HttpRule) -> HttpBinding:
    kind = rule.WhichOneof("pattern")
    if kind == "custom":
        verb, path = rule.custom.kind.lower(), rule.custom.path
    else:
        verb, path = kind, getattr(rule, kind)
    return HttpBinding(verb=verb, path=path, body=rule.body, response_body=rule.response_body)


def http_bindings(options: descriptor_pb2.MethodOptions) -> tuple[HttpBinding, ...]:
    if not options.HasExtension(annotations_pb2.http):
        return ()
    rule = options.Extensions[annotations_pb2.http]
    return (_binding(rule), *(_binding(extra) for extra in rule.additional_bindings))


class Contracts:
    """The descriptor set, indexed by full name."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.descriptor_set = _with_error_types(descriptor_set)
        self.files = {f.name: f for f in self.descriptor_set.file}
        self.declarations: dict[str, Declaration] = {}
        for file in self.descriptor_set.file:
            prefix = f"{file.package}." if file.package else ""
            for i, message in enumerate(file.message_type):
                self._index_message(file, prefix, message, (_MESSAGE, i))
            for i, enum in enumerate(file.enum_type):
                self.declarations[prefix + enum.name] = Declaration(enum, file, (_ENUM, i))

    @classmethod
    def load(cls, path: Path) -> Contracts:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make generate` first")
        return cls(descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()))

    def _index_message(self, file, prefix: str, message, path: tuple[int, ...]) -> None:
        full = prefix + message.name
        self.declarations[full] = Declaration(message, file, path)
        for i, nested in enumerate(message.nested_type):
            self._index_message(file, full + ".", nested, (*path, _NESTED, i))
        for i, enum in enumerate(message.enum_type):
            self.declarations[f"{full}.{enum.name}"] = Declaration(enum, file,
                                                                  (*path, _NESTED_ENUM, i))

    @cached_property
    def _comments(self) -> dict[tuple[str, tuple[int, ...]], str]:
        comments = {}
        for file in self.descriptor_set.file:
            for location in file.source_code_info.location:
                text = location.leading_comments.strip()
                if text:
                    comments[(file.name, tuple(location.path))] = text
        return comments

    def comment(self, file: descriptor_pb2.FileDescriptorProto, path: tuple[int, ...]) -> str:
        return self._comments.get((file.name, tuple(path)), "")

    def declaration(self, full_name: str) -> Declaration:
        return self.declarations[full_name.lstrip(".")]

    @cached_property
    def methods(self) -> list[Method]:
        """Every RPC of the contracts whose callers include the gateway, in file order."""
        rules = method_rules()
        found = []
        for file in self.descriptor_set.file:
            if not file.package.startswith("pivotal."):
                continue
            for s, service in enumerate(file.service):
                for m, method in enumerate(service.method):
                    full = f"/{file.package}.{service.name}/{method.name}"
                    rule = rules.get(full)
                    if rule is None:
                        raise LookupError(f"{full} is in the descriptor set but not in the "
                                          "generated stubs: run `make generate`")
                    if not rule.external:
                        continue
                    found.append(Method(
                        rule=rule,
                        input_type=method.input_type.lstrip("."),
                        output_type=method.output_type.lstrip("."),
                        bindings=http_bindings(method.options),
                        comment=self.comment(file, (_SERVICE, s, _METHOD, m)),
                    ))
        return found

    @property
    def services(self) -> list[str]:
        """Full names of the gRPC services the gateway exposes."""
        return sorted({m.rule.service for m in self.methods})

    def serialized(self) -> bytes:
        return self.descriptor_set.SerializeToString()


def _with_error_types(descriptor_set: descriptor_pb2.FileDescriptorSet):
    """Makes sure google.rpc.Status and the error details (and what they import) are in the
    set: the transcoder prints error details as JSON only for types it knows."""
    present = {f.name for f in descriptor_set.file}
    missing = []

    def add(file_descriptor) -> None:
        if file_descriptor.name in present:
            return
        for dependency in file_descriptor.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        present.add(proto.name)
        missing.append(proto)

    for file_descriptor in ERROR_FILES:
        add(descriptor_pool.Default().FindFileByName(file_descriptor.name))
    if not missing:
        return descriptor_set
    extended = descriptor_pb2.FileDescriptorSet()
    extended.CopyFrom(descriptor_set)
    extended.file.extend(missing)
    return extended
