"""The reasons of the field violations the kit sends (`google.rpc.BadRequest` carries them in
`FieldViolation.reason`): module-level constants, in one place, named and valued as
`pivotal.common.v1.FieldViolationReason` lists them (without its prefix). Once
`pivotal_runtime.errors.FieldReason` holds the whole list, these are its values."""

REQUIRED = "REQUIRED"
INVALID_FORMAT = "INVALID_FORMAT"
UNKNOWN_ENUM_VALUE = "UNKNOWN_ENUM_VALUE"
UNKNOWN_MASK_PATH = "UNKNOWN_MASK_PATH"
IMMUTABLE = "IMMUTABLE"
PAGE_SIZE_OUT_OF_RANGE = "PAGE_SIZE_OUT_OF_RANGE"
PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
REQUEST_ID_INVALID = "REQUEST_ID_INVALID"
