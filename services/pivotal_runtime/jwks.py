"""Fetches the identity service's JWKS over gRPC (for services verifying tokens locally)."""

from __future__ import annotations

import grpc
from google.protobuf import json_format


def fetch_jwks_over_grpc(channel: grpc.Channel, timeout: float = 3.0) -> dict:
    from pivotal.identity.v1 import key_service_pb2, key_service_pb2_grpc

    stub = key_service_pb2_grpc.KeyServiceStub(channel)
    response = stub.GetJwks(key_service_pb2.GetJwksRequest(), timeout=timeout)
    return json_format.MessageToDict(response, preserving_proto_field_name=True)
