import pytest
from pivotal_runtime.settings import Settings, SettingsError, load_settings


def test_bad_value_stops_start_up_naming_the_variable(monkeypatch):
    monkeypatch.setenv("PIVOTAL_GRACE_PERIOD_SECONDS", "soon")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "PIVOTAL_GRACE_PERIOD_SECONDS" in str(error.value)


def test_unsupported_database_url_is_refused(monkeypatch):
    monkeypatch.setenv("PIVOTAL_DATABASE_URL", "mysql://localhost/x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "PIVOTAL_DATABASE_URL" in str(error.value)


def test_embedded_mode_uses_one_sqlite_file_per_service(tmp_path):
    settings = Settings(state_dir=tmp_path)
    assert settings.database_url_for("quotation") == f"sqlite:///{tmp_path / 'quotation.db'}"
    assert settings.schema_for("quotation") is None


def test_postgres_gives_each_service_its_own_schema():
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:5432/pivotal")
    assert settings.database_url_for("time").startswith("postgresql+psycopg://")
    assert settings.schema_for("time") == "time"


def test_a_bad_secret_is_named_but_not_echoed(monkeypatch):
    monkeypatch.setenv("PIVOTAL_DATABASE_URL", "mysql://admin:s3cr3t-pw@db/x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "PIVOTAL_DATABASE_URL" in str(error.value)
    assert "s3cr3t-pw" not in str(error.value)
