"""Billing's own settings, environment prefix `PIVOTAL_BILLING_`, read once at bootstrap."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BillingSettings(BaseSettings):
    """Environment: `PIVOTAL_BILLING_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_BILLING_", extra="ignore",
                                      frozen=True)

    # How often the period clock runs: trial ends, renewals, cancellations at period end.
    period_job_interval_seconds: float = Field(300.0, ge=1, le=86400)
