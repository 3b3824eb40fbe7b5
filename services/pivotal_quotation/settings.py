"""Quotation's own settings, environment prefix `PIVOTAL_QUOTATION_`, read once at bootstrap."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class QuotationSettings(BaseSettings):
    """Environment: `PIVOTAL_QUOTATION_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_QUOTATION_", extra="ignore",
                                      frozen=True)

    # How often the expiry sweep moves approved and sent quotes past valid_until to EXPIRED.
    expiry_interval_seconds: float = Field(300.0, ge=1, le=86400)
