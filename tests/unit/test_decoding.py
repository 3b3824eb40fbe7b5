"""The decoding interceptor's wire walk: which field of an undecodable request is wrong."""

from __future__ import annotations

from google.protobuf.message import DecodeError
from pivotal.identity.v1 import auth_service_pb2, invitation_service_pb2
from pivotal_runtime.decoding import Undecodable, _decoding, find_problem


def test_invalid_utf8_is_named_by_its_proto_path():
    good = invitation_service_pb2.CreateInvitationRequest()
    good.invitation.email = "ada@example.com"
    data = good.SerializeToString().replace(b"ada@example.com", b"ada@exampl\xff.com")
    violation = find_problem(invitation_service_pb2.CreateInvitationRequest.DESCRIPTOR, data)
    assert violation is not None
    assert violation.field == "invitation.email" and violation.reason == "INVALID_FORMAT"


def test_a_truncated_field_is_named():
    data = auth_service_pb2.LoginRequest(email="ada@example.com").SerializeToString()[:-3]
    violation = find_problem(auth_service_pb2.LoginRequest.DESCRIPTOR, data)
    assert violation is not None
    assert violation.field == "email" and violation.reason == "INVALID_FORMAT"


def test_the_deserializer_returns_a_marker_instead_of_raising():
    decode = _decoding(auth_service_pb2.LoginRequest.FromString)
    marker = decode(b"\x0a\x05ab")
    assert isinstance(marker, Undecodable)
    assert marker.type_name == "pivotal.identity.v1.LoginRequest"
    assert decode(auth_service_pb2.LoginRequest(email="a").SerializeToString()).email == "a"
    try:
        auth_service_pb2.LoginRequest.FromString(b"\x0a\x05ab")
    except DecodeError:
        pass
    else:  # the premise: protobuf itself refuses it
        raise AssertionError("protobuf decoded a truncated message")
