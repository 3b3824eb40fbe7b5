"""The `google.rpc` details of a failed call, by type name."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

KINDS = (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo,
         error_details_pb2.PreconditionFailure, error_details_pb2.ResourceInfo)


def details(error: grpc.RpcError) -> dict:
    status = rpc_status.from_call(error)
    found = {}
    for detail in status.details if status else ():
        for kind in KINDS:
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def reason(error: grpc.RpcError) -> str:
    return details(error)["ErrorInfo"].reason


def fields(error: grpc.RpcError) -> set[str]:
    return {v.field for v in details(error)["BadRequest"].field_violations}
