"""The common reasons of field violations (`google.rpc.BadRequest` carries them in
`FieldViolation.reason`): module-level constants, in one place, named and valued as
`pivotal.common.v1.FieldViolationReason` lists them (without its prefix). The kit sends them
and domains re-export the ones they use."""

INVALID_FIELD = "INVALID_FIELD"
REQUIRED = "REQUIRED"
TOO_LONG = "TOO_LONG"
INVALID_FORMAT = "INVALID_FORMAT"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNKNOWN_ENUM_VALUE = "UNKNOWN_ENUM_VALUE"
UNKNOWN_MASK_PATH = "UNKNOWN_MASK_PATH"
OUTPUT_ONLY = "OUTPUT_ONLY"
IMMUTABLE = "IMMUTABLE"
PAGE_SIZE_OUT_OF_RANGE = "PAGE_SIZE_OUT_OF_RANGE"
PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
REQUEST_ID_INVALID = "REQUEST_ID_INVALID"
