"""The reasons of the field violations the kit sends (`google.rpc.BadRequest` carries them in
`FieldViolation.reason`). Module-level constants, in one place; listed in
`pivotal.common.v1` errors.proto by the contracts."""

INVALID_FIELD = "INVALID_FIELD"
REQUIRED = "REQUIRED"
OUTPUT_ONLY = "OUTPUT_ONLY"
IMMUTABLE = "IMMUTABLE"
UNKNOWN_MASK_PATH = "UNKNOWN_MASK_PATH"
OUT_OF_RANGE = "OUT_OF_RANGE"
INVALID_FORMAT = "INVALID_FORMAT"
UNKNOWN_ENUM_VALUE = "UNKNOWN_ENUM_VALUE"
INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
TOO_LONG = "TOO_LONG"
