"""What several bench tools need: an identity user with a token, a throwaway database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PASSWORD = "correct horse battery staple"


def register_and_login(address: str) -> str:
    """Registers an organization through identity at `address`; returns its owner's token."""
    import grpc
    from pivotal.identity.v1 import (
        auth_service_pb2,
        auth_service_pb2_grpc,
        organization_pb2,
        user_pb2,
    )
    from pivotal.identity.v1 import organization_service_pb2 as org_pb
    from pivotal.identity.v1 import organization_service_pb2_grpc as org_grpc

    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    with grpc.insecure_channel(address) as channel:
        org_grpc.OrganizationServiceStub(channel).RegisterOrganization(
            org_pb.RegisterOrganizationRequest(
                organization=organization_pb2.Organization(display_name="Bench Ltd"),
                owner=user_pb2.User(email=email, given_name="Ada", family_name="Lovelace"),
                password=PASSWORD), timeout=30)
        return auth_service_pb2_grpc.AuthServiceStub(channel).Login(
            auth_service_pb2.LoginRequest(email=email, password=PASSWORD),
            timeout=30).access_token


@contextmanager
def throwaway_database(server_url: str, prefix: str = "pivotal_bench") -> Iterator[str]:
    """A new database on the PostgreSQL server of `server_url` (its URL), dropped afterwards."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool,
                             connect_args={"connect_timeout": 3})
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
