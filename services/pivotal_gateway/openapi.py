"""OpenAPI 3 description of the REST surface, generated from the same descriptor set as the
gateway (so it describes exactly what the transcoder accepts and prints).

`python -m pivotal_gateway.openapi [output]` writes it (default: docs/openapi.json).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from pivotal_gateway.descriptors import Contracts, HttpBinding, Method

F = descriptor_pb2.FieldDescriptorProto
REF = "#/components/schemas/"
STATUS = "google.rpc.Status"
PATH_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")
_MESSAGE_PATH_FIELD = 2  # DescriptorProto.field
_ENUM_VALUE = 2
INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
INT64 = {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,19}$"}
UINT64 = {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,20}$"}
SCALARS = {
    F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    F.TYPE_FLOAT: {"type": "number", "format": "float"},
    F.TYPE_INT32: INT32, F.TYPE_SINT32: INT32, F.TYPE_SFIXED32: INT32,
    F.TYPE_UINT32: UINT32, F.TYPE_FIXED32: UINT32,
    F.TYPE_INT64: INT64, F.TYPE_SINT64: INT64, F.TYPE_SFIXED64: INT64,
    F.TYPE_UINT64: UINT64, F.TYPE_FIXED64: UINT64,
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
# Well-known types have their own JSON form (proto3 JSON mapping).
WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string",
                                  "description": "Comma-separated lowerCamelCase field paths."},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {"type": "object", "required": ["@type"],
                            "properties": {"@type": {"type": "string"}},
                            "additionalProperties": True},
    "google.protobuf.StringValue": {"type": "string", "nullable": True},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte", "nullable": True},
    "google.protobuf.BoolValue": {"type": "boolean", "nullable": True},
    "google.protobuf.Int32Value": {**INT32, "nullable": True},
    "google.protobuf.UInt32Value": {**UINT32, "nullable": True},
    "google.protobuf.Int64Value": {**INT64, "nullable": True},
    "google.protobuf.UInt64Value": {**UINT64, "nullable": True},
    "google.protobuf.DoubleValue": {"type": "number", "nullable": True},
    "google.protobuf.FloatValue": {"type": "number", "nullable": True},
}
QUERY_DEPTH = 3

DESCRIPTION = """\
Pivotal Flow's REST API, transcoded by the Envoy gateway from the gRPC contracts in `proto/`
(the same RPCs are reachable as gRPC and gRPC-Web on the same port).

JSON conventions (proto3 JSON mapping): field names in lowerCamelCase (the proto names are
accepted on input too); enums as their names; fields holding their default value are
omitted; 64-bit integers as strings; timestamps as RFC 3339 strings in UTC; money as
`google.type.Money` (`{"currencyCode": "EUR", "units": "12", "nanos": 500000000}`);
quantities and rates as `google.type.Decimal` (`{"value": "7.5"}`).

Unknown JSON fields and unknown query parameters are refused with 400. Every error is a
`google.rpc.Status` JSON body with its details (`ErrorInfo` always; `BadRequest` field
violations, `PreconditionFailure`, `ResourceInfo` where they apply). See docs/gateway.md.
"""


def _summary(comment: str) -> str:
    first = comment.split("\n\n")[0].replace("\n", " ").strip()
    sentence = first.split(". ")[0].rstrip(".")
    return sentence[:200]


def _clean(comment: str) -> str:
    return "\n".join(line.strip() for line in comment.splitlines()).strip()


class SpecBuilder:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.schemas: dict[str, dict] = {}

    # ----- schemas ------------------------------------------------------------------------
    def ref(self, full_name: str) -> dict:
        full_name = full_name.lstrip(".")
        if full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[full_name])
        if full_name not in self.schemas:
            self.schemas[full_name] = {}  # placeholder: recursion stops here
            declaration = self.contracts.declaration(full_name)
            if isinstance(declaration.proto, descriptor_pb2.EnumDescriptorProto):
                self.schemas[full_name] = self._enum(declaration)
            else:
                self.schemas[full_name] = self._message(declaration)
        return {"$ref": REF + full_name}

    def _enum(self, declaration) -> dict:
        values = [v.name for v in declaration.proto.value]
        lines = [_clean(self.contracts.comment(declaration.file, declaration.path))]
        for i, value in enumerate(declaration.proto.value):
            text = _clean(self.contracts.comment(declaration.file,
                                                 (*declaration.path, _ENUM_VALUE, i)))
            if text:
                lines.append(f"- `{value.name}`: {text}")
        return {"type": "string", "enum": values,
                "description": "\n".join(line for line in lines if line)}

    def _message(self, declaration, skip: frozenset[str] = frozenset()) -> dict:
        message = declaration.proto
        properties = {}
        for i, field in enumerate(message.field):
            if field.name in skip:
                continue
            schema = self.field_schema(field)
            text = _clean(self.contracts.comment(declaration.file,
                                                 (*declaration.path, _MESSAGE_PATH_FIELD, i)))
            behaviors = set(field.options.Extensions[field_behavior_pb2.field_behavior])
            if field_behavior_pb2.OUTPUT_ONLY in behaviors:
                schema["readOnly"] = True
            if field_behavior_pb2.INPUT_ONLY in behaviors:
                schema["writeOnly"] = True
            if text:
                schema = ({"allOf": [schema], "description": text} if "$ref" in schema
                          else {**schema, "description": text})
                if "allOf" in schema:
                    for flag in ("readOnly", "writeOnly"):
                        if schema["allOf"][0].pop(flag, None):
                            schema[flag] = True
            properties[field.json_name or field.name] = schema
        result = {"type": "object", "properties": properties, "additionalProperties": False}
        text = _clean(self.contracts.comment(declaration.file, declaration.path))
        if text:
            result["description"] = text
        return result

    def _map_entry(self, field) -> descriptor_pb2.DescriptorProto | None:
        if field.type != F.TYPE_MESSAGE:
            return None
        entry = self.contracts.declaration(field.type_name).proto
        return entry if entry.options.map_entry else None

    def field_schema(self, field) -> dict:
        entry = self._map_entry(field)
        if entry is not None:
            return {"type": "object", "additionalProperties": self.field_schema(entry.field[1])}
        if field.type in (F.TYPE_MESSAGE, F.TYPE_GROUP, F.TYPE_ENUM):
            single = self.ref(field.type_name)
        else:
            single = dict(SCALARS[field.type])
        if field.label == F.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    # ----- operations ---------------------------------------------------------------------
    def _path_fields(self, binding: HttpBinding) -> list[str]:
        return PATH_VARIABLE.findall(binding.path)

    def _field_at(self, message_name: str, dotted: str):
        message = self.contracts.declaration(message_name).proto
        field = None
        for part in dotted.split("."):
            field = next(f for f in message.field if f.name == part)
            if field.type == F.TYPE_MESSAGE:
                message = self.contracts.declaration(field.type_name).proto
        return field

    def _query_parameters(self, message_name: str, prefix: str, bound: set[str],
                          depth: int = 0, json_prefix: str = "") -> list[dict]:
        """Every request field not bound to the path or the body, as a query parameter
        (nested messages as `parent.child`, by their lowerCamelCase names)."""
        declaration = self.contracts.declaration(message_name)
        found = []
        for i, field in enumerate(declaration.proto.field):
            proto_path = f"{prefix}{field.name}"
            json_path = f"{json_prefix}{field.json_name or field.name}"
            if proto_path in bound:
                continue
            behaviors = set(field.options.Extensions[field_behavior_pb2.field_behavior])
            if field_behavior_pb2.OUTPUT_ONLY in behaviors:
                continue
            type_name = field.type_name.lstrip(".")
            is_message = field.type == F.TYPE_MESSAGE and type_name not in WELL_KNOWN
            if is_message:
                if field.label == F.LABEL_REPEATED or self._map_entry(field) is not None:
                    continue  # not expressible as query parameters
                if depth < QUERY_DEPTH:
                    found += self._query_parameters(type_name, f"{proto_path}.", bound, depth + 1,
                                                    f"{json_path}.")
                continue
            schema = self.field_schema(field)
            if type_name in WELL_KNOWN:
                schema = {k: v for k, v in schema.items() if k != "nullable"}
            text = _clean(self.contracts.comment(declaration.file,
                                                 (*declaration.path, _MESSAGE_PATH_FIELD, i)))
            parameter = {"name": json_path, "in": "query",
                         "required": False, "schema": schema}
            if schema.get("type") == "array":
                parameter.update(style="form", explode=True)
            if text:
                parameter["description"] = text
            found.append(parameter)
        return found

    def openapi_path(self, method: Method, binding: HttpBinding) -> str:
        """`/v1/customers/{customer.customer_id}` → `/v1/customers/{customerId}`: path
        parameters by the JSON name of the field they fill (dotted names trip up tools)."""
        return PATH_VARIABLE.sub(
            lambda m: "{" + path_parameter(self._field_at(method.input_type, m.group(1))) + "}",
            binding.path)

    def operation(self, method: Method, binding: HttpBinding) -> dict:
        rule = method.rule
        service = rule.service.rsplit(".", 1)[1]
        path_fields = self._path_fields(binding)
        parameters = []
        for dotted in path_fields:
            field = self._field_at(method.input_type, dotted)
            schema = self.field_schema(field)
            if "$ref" in schema:  # an enum in the path
                schema = dict(self.schemas[schema["$ref"][len(REF):]])
                schema.pop("description", None)
            if schema.get("type") == "string" and "pattern" not in schema:
                schema = {**schema, "pattern": "^[^/]+$"}
            parameters.append({"name": path_parameter(field), "in": "path", "required": True,
                               "schema": schema,
                               "description": f"The request field `{dotted}`."})
        operation = {
            "operationId": f"{service}_{rule.method}",
            "tags": [service],
            "summary": _summary(method.comment),
            "description": _clean(method.comment),
            "x-grpc-method": rule.full_method,
        }
        bound = set(path_fields)
        if binding.body == "*":
            declaration = self.contracts.declaration(method.input_type)
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": self._message(declaration, skip=frozenset(
                    p for p in path_fields if "." not in p))}}}
        elif binding.body:
            field = self._field_at(method.input_type, binding.body)
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": self.field_schema(field)}}}
            bound.add(binding.body)
            parameters += self._query_parameters(method.input_type, "", bound)
        else:
            parameters += self._query_parameters(method.input_type, "", bound)
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = self._responses(method, binding)
        operation["security"] = [] if rule.public else [{"bearer": []}]
        if rule.permission:
            operation["x-permission"] = rule.permission
        elif rule.permissions:
            operation["x-permission-any-of"] = list(rule.permissions)
        return operation

    def _responses(self, method: Method, binding: HttpBinding) -> dict:
        if method.download or binding.response_body:
            ok = {"description": "The file.",
                  "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
        else:
            ok = {"description": "OK",
                  "content": {"application/json": {"schema": self.ref(method.output_type)}}}
        return {"200": ok, "default": {"$ref": "#/components/responses/Error"}}

    def build(self) -> dict:
        paths: dict[str, dict] = {}
        tags: dict[str, str] = {}
        for method in self.contracts.methods:
            for binding in method.bindings:
                path = self.openapi_path(method, binding)
                paths.setdefault(path, {})[binding.verb] = self.operation(method, binding)
            service = method.rule.service
            tags.setdefault(service.rsplit(".", 1)[1], self._service_comment(service))
        status = self.ref(STATUS)
        return {
            "openapi": "3.0.3",
            "info": {"title": "Pivotal Flow API", "version": "v1", "description": DESCRIPTION},
            "tags": [{"name": name, "description": text} for name, text in tags.items()],
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {
                "securitySchemes": {"bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "An access token from POST /v1/auth:login."}},
                "responses": {"Error": {
                    "description": "A google.rpc.Status with its details; the HTTP status "
                                   "follows the gRPC code (see docs/gateway.md).",
                    "content": {"application/json": {"schema": status}}}},
                "schemas": dict(sorted(self.schemas.items())),
            },
        }

    def _service_comment(self, full_name: str) -> str:
        package, _, name = full_name.rpartition(".")
        for file in self.contracts.descriptor_set.file:
            if file.package != package:
                continue
            for i, service in enumerate(file.service):
                if service.name == name:
                    return _clean(self.contracts.comment(file, (6, i)))
        return ""


def path_parameter(field) -> str:
    return field.json_name or field.name


def build_spec(contracts: Contracts) -> dict:
    return SpecBuilder(contracts).build()


def dumps(spec: dict) -> str:
    return json.dumps(spec, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    from pivotal_runtime.settings import load_settings

    from pivotal_gateway.settings import GatewaySettings

    argv = sys.argv[1:] if argv is None else argv
    output = Path(argv[0]) if argv else Path("docs/openapi.json")
    gateway = load_settings(GatewaySettings)
    output.write_text(dumps(build_spec(Contracts.load(gateway.descriptor_set))))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
