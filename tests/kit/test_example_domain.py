"""The docs' example domain (tests/kit/example_tax_rates.py) served over real gRPC: what the
kit gives a domain, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.type import decimal_pb2
from pivotal.quotation.v1 import tax_rate_pb2, tax_rate_service_pb2_grpc
from pivotal.quotation.v1 import tax_rate_service_pb2 as pb
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import host_of
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.kit.tables import add_runtime_tables

from tests.kit import example_tax_rates
from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter

# A database of its own (not quotation's, whose migrations create the real tax rates).
EXAMPLE_DATABASE = "kit_example"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def stub(request):
    settings = request.getfixturevalue(f"{request.param}_settings")
    database = open_database(settings, EXAMPLE_DATABASE)
    if database.schema:
        with database.engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{database.schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{database.schema}"')
    runtime_tables = sa.MetaData()
    add_runtime_tables(runtime_tables)
    runtime_tables.create_all(database.engine)
    example_tax_rates.metadata.create_all(database.engine)
    signer = TokenMinter()
    deps = ServiceDeps(settings=settings, name="quotation", database=database)
    host = host_of(deps, example_tax_rates.build(deps),
                   TokenVerifier(StaticKeySource(signer.keys()), issuer=ISSUER,
                                 audience=AUDIENCE), port=0)
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    stub = tax_rate_service_pb2_grpc.TaxRateServiceStub(channel)

    def as_org(org: str):
        return (("authorization", f"Bearer {signer.mint(roles=['owner'], org=org)}"),)

    yield stub, as_org
    channel.close()
    host.drain().wait(5)
    database.dispose()


def rate(name: str, percent: str, **extra) -> tax_rate_pb2.TaxRate:
    return tax_rate_pb2.TaxRate(display_name=name, rate_percent=decimal_pb2.Decimal(
        value=percent), **extra)


def test_create_get_list_update_with_the_kit(stub):
    stub, as_org = stub
    a = as_org("org-a")
    request_id = str(uuid.uuid4())
    created = stub.CreateTaxRate(pb.CreateTaxRateRequest(tax_rate=rate("VAT", "19"),
                                                         request_id=request_id), metadata=a)
    again = stub.CreateTaxRate(pb.CreateTaxRateRequest(tax_rate=rate("VAT", "19"),
                                                       request_id=request_id), metadata=a)
    assert again == created and created.tax_rate.etag == 'W/"1"'
    for name in ("Reduced", "Zero"):
        stub.CreateTaxRate(pb.CreateTaxRateRequest(tax_rate=rate(name, "7")), metadata=a)

    rate_id = created.tax_rate.tax_rate_id
    with pytest.raises(grpc.RpcError) as other_tenant:
        stub.GetTaxRate(pb.GetTaxRateRequest(tax_rate_id=rate_id), metadata=as_org("org-b"))
    assert other_tenant.value.code() == grpc.StatusCode.NOT_FOUND

    names, token = [], ""
    while True:
        page = stub.ListTaxRates(pb.ListTaxRatesRequest(page_size=2, page_token=token),
                                 metadata=a)
        names += [r.display_name for r in page.tax_rates]
        if not (token := page.next_page_token):
            break
    assert names == ["Reduced", "VAT", "Zero"]

    updated = stub.UpdateTaxRate(pb.UpdateTaxRateRequest(  # empty mask: the populated fields
        tax_rate=rate("", "20", tax_rate_id=rate_id, etag=created.tax_rate.etag)), metadata=a)
    assert (updated.tax_rate.rate_percent.value, updated.tax_rate.display_name) == ("20.0000",
                                                                                    "VAT")
    assert updated.tax_rate.etag == 'W/"2"'
    with pytest.raises(grpc.RpcError) as stale:
        stub.UpdateTaxRate(pb.UpdateTaxRateRequest(
            tax_rate=rate("Old", "1", tax_rate_id=rate_id, etag=created.tax_rate.etag)),
            metadata=a)
    assert stale.value.code() == grpc.StatusCode.ABORTED
    with pytest.raises(grpc.RpcError) as unknown:
        stub.UpdateTaxRate(pb.UpdateTaxRateRequest(
            tax_rate=rate("X", "1", tax_rate_id=rate_id),
            update_mask=field_mask_pb2.FieldMask(paths=["colour"])), metadata=a)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in unknown.value.details() and "colour" in unknown.value.details()
    with pytest.raises(grpc.RpcError) as missing:
        stub.CreateTaxRate(pb.CreateTaxRateRequest(tax_rate=tax_rate_pb2.TaxRate()), metadata=a)
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tax_rate.display_name" in missing.value.details()
    assert "tax_rate.rate_percent" in missing.value.details()
