"""Configuration of the CRM sources: Salesforce and HubSpot connections, auth, streams, schedules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator

from syncer.config.object_streams import ObjectStream
from syncer.config.strict import Identifier, Strict
from syncer.records import StreamName

# ---------------------------------------------------------------- schedules

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def to_timedelta(text: str) -> timedelta:
    """'10m' → 10 minutes; raises ValueError with the accepted forms."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


class Every(Strict):
    every: str = Field(description="Interval between cycles: 30s, 10m, 2h, 1d")

    @field_validator("every")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        if to_timedelta(value) < timedelta(seconds=1):
            raise ValueError("the interval must be at least 1s")
        return value

    @property
    def interval(self) -> timedelta:
        return to_timedelta(self.every)


def _check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"'{value}' is not a cron expression: it needs 5 fields (minute hour day month weekday), "
            "like '*/15 * * * *', or write {every: 15m}"
        )
    from apscheduler.triggers.cron import CronTrigger  # the parser the scheduler will use

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid cron expression: {exc}") from None
    return value


Schedule = Every | Annotated[str, Field(description="cron expression: '*/15 * * * *'")]


class Scheduled(Strict):
    schedule: Schedule = Field(default_factory=lambda: Every(every="15m"))

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: Schedule) -> Schedule:
        return _check_cron(value) if isinstance(value, str) else value


# Any object as a stream (README): name → object, owner field, named dates, mapped fields.
OBJECT_STREAMS_DESCRIPTION = "more streams, on any CRM object (Lead, Event, meetings, tickets…)"

# ---------------------------------------------------------------- Salesforce


class ClientCredentials(Strict):
    method: Literal["client_credentials"]
    client_id: SecretStr
    client_secret: SecretStr


class JwtBearer(Strict):
    method: Literal["jwt"]
    client_id: SecretStr = Field(description="the connected app's consumer key")
    username: str
    private_key_file: str
    login_url: str = Field(
        "https://login.salesforce.com",
        description="https://login.salesforce.com, https://test.salesforce.com for sandbox orgs, or My Domain",
    )


class Password(Strict):
    method: Literal["password"]
    username: str
    password: SecretStr
    security_token: SecretStr | None = None
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    login_url: str = "https://login.salesforce.com"


class AccessToken(Strict):
    method: Literal["access_token"]
    access_token: SecretStr


SalesforceAuth = Annotated[
    ClientCredentials | JwtBearer | Password | AccessToken, Field(discriminator="method")
]


class SalesforceStream(Strict):
    object: Identifier
    where: str | None = Field(None, description="a SOQL condition added to every pull")
    fields: dict[str, str] = Field(
        default_factory=dict, description="canonical field → CRM field, overriding the default mapping"
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="extra CRM fields kept as attributes: name → CRM field"
    )


class OwnerFields(Strict):
    team_field: str | None = Field(None, description="CRM user field holding the team")
    region_field: str | None = Field(None, description="CRM user field holding the region")
    where: str | None = Field(
        None,
        description="SOQL condition choosing the users who are reps (e.g. Department != null); "
        "records of other users count in totals only",
    )


class SalesforceSource(Scheduled):
    kind: Literal["salesforce"]
    instance_url: Annotated[str, Field(pattern=r"^https://[^/\s]+/?$")]
    ca_bundle: str | None = Field(None, description="PEM bundle to trust (a private CA; the sandbox)")
    api_version: Annotated[str, Field(pattern=r"^\d{2}\.0$")] = "59.0"
    auth: SalesforceAuth
    streams: dict[StreamName, SalesforceStream]
    object_streams: dict[str, ObjectStream] = Field(
        default_factory=dict, description=OBJECT_STREAMS_DESCRIPTION
    )
    owners: OwnerFields = Field(default_factory=OwnerFields)
    page_size: int = Field(
        2_000, ge=200, le=2_000, description="rows per REST query page (Sforce-Query-Options batchSize)"
    )
    lookback_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description="incremental pulls start this much before the cursor, to catch late-committed rows",
    )
    bulk_threshold: int = Field(50_000, ge=2_000, description="rows above which a pull uses Bulk API 2.0")
    api_budget_share: float = Field(
        0.10, gt=0, le=1, description="largest share of the org's daily API allocation one run may use"
    )
    convert_currency: bool | None = Field(
        None,
        description="multi-currency org: amounts in the corporate currency, converted with the org's own "
        "rates (dated rates where Advanced Currency Management is on); the default. false: take amounts "
        "as they are, in each record's own currency",
    )


# ---------------------------------------------------------------- HubSpot


class PrivateApp(Strict):
    method: Literal["private_app"]
    access_token: SecretStr


class HubSpotOAuth(Strict):
    method: Literal["oauth"]
    client_id: SecretStr
    client_secret: SecretStr
    refresh_token: SecretStr


HubSpotAuth = Annotated[PrivateApp | HubSpotOAuth, Field(discriminator="method")]


class HubSpotStream(Strict):
    pipelines: list[str] = Field(default_factory=list, description="pipeline ids or labels; empty = all")
    deal_types: list[str] = Field(default_factory=list, description="dealtype values, e.g. existingbusiness")
    fields: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=dict)


class RateLimit(Strict):
    requests_per_10s: int = Field(90, ge=1, description="kept under HubSpot's per-app 10-second limit")
    search_per_second: float = Field(4.0, gt=0, le=5, description="HubSpot allows 5 search calls a second")


class HubSpotSource(Scheduled):
    kind: Literal["hubspot"]
    base_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+/?$")] = "https://api.hubapi.com"
    auth: HubSpotAuth
    streams: dict[StreamName, HubSpotStream]
    object_streams: dict[str, ObjectStream] = Field(
        default_factory=dict, description=OBJECT_STREAMS_DESCRIPTION
    )
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    deletes_every: str = Field(
        "1h",
        description="how often deleted (archived) records are listed, a call that reads every one of "
        "them: 30m, 1h, 1d; a record deleted in between is stored as deleted by the next listing",
    )

    @field_validator("deletes_every")
    @classmethod
    def _deletes_every_is_duration(cls, value: str) -> str:
        if to_timedelta(value) < timedelta(seconds=1):
            raise ValueError("deletes_every must be at least 1s")
        return value

    @property
    def deletes_interval(self) -> timedelta:
        return to_timedelta(self.deletes_every)


Source = Annotated[SalesforceSource | HubSpotSource, Field(discriminator="kind")]
