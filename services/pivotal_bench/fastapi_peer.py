"""The peer a user would otherwise pick: FastAPI + uvicorn serving `GET /v1/users/me` with
the same identity code (token verification by identity's key ring, `UsersService.me`, the
same units of work on the same database), rendered as the gateway renders it (proto JSON).

    python -m pivotal_bench.fastapi_peer <port>   (PIVOTAL_* settings, PIVOTAL_WORKERS)

Needs the `bench` extra: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import sys
from functools import cache

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

app = FastAPI()


@cache
def _identity():
    from pivotal_identity.bootstrap import build_identity
    from pivotal_runtime.auth import TokenVerifier
    from pivotal_runtime.channels import ChannelFactory
    from pivotal_runtime.db import open_database
    from pivotal_runtime.kit.domain import ServiceDeps
    from pivotal_runtime.settings import load_settings

    settings = load_settings()
    deps = ServiceDeps(settings=settings, name="identity",
                       database=open_database(settings, "identity"),
                       channels=ChannelFactory(settings))
    identity = build_identity(deps)
    verifier = TokenVerifier(identity.keyring, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience, leeway=settings.jwt_leeway_seconds)
    return identity, verifier


@app.get("/v1/users/me")
def get_me(authorization: str = Header(default="")) -> JSONResponse:
    from google.protobuf.json_format import MessageToDict
    from pivotal.identity.v1 import user_service_pb2 as user_pb
    from pivotal_identity.application.access import current_user
    from pivotal_identity.servicers import convert as c
    from pivotal_runtime.errors import DomainError, Unauthenticated
    from pivotal_runtime.kit.caller import Caller

    identity, verifier = _identity()
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("this call needs a bearer token")
        # What the gRPC path does: the token, then identity's current-state access check
        # (revocations, current roles), then the use case.
        principal = identity.access.current(verifier.verify(token), "GetMe")
        caller = Caller.of(principal)
        user, organization, permissions = identity.users.me(caller,
                                                            current_user(caller.subject))
    except Unauthenticated as error:
        return JSONResponse({"message": error.message}, status_code=401)
    except DomainError as error:
        return JSONResponse({"message": error.message}, status_code=403)
    reply = user_pb.GetMeResponse(user=c.user(user), organization=c.organization(organization),
                                  permissions=permissions)
    return JSONResponse(MessageToDict(reply))


def main(port: int) -> None:
    import uvicorn
    from pivotal_runtime.settings import load_settings
    from pivotal_runtime.workers import worker_count

    settings = load_settings()
    uvicorn.run("pivotal_bench.fastapi_peer:app", host=settings.host, port=port,
                workers=worker_count(settings), log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
