"""pydantic models of the YAML ops write: the only schema of okrsync's configuration.

Sources live in `sources.py`; this module re-exports them, so callers import from here.

Defaults live here and nowhere else; `config/okrsync.schema.json` is generated from `Settings`.
Cross-field rules (a write-back naming an unknown key result, …) are in `rules.py`, which the
loader runs on the built model: `rules.py` imports this module, never the reverse.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syncer.config.closing import (
    CLOSE_AFTER_DESCRIPTION,
    DEFAULT_CLOSE_AFTER,
    FINAL_ATTRIBUTES,
    read_close_after,
)
from syncer.config.conditions import where_problem as where_problem  # re-exported for connectors
from syncer.config.crm_targets import CrmTarget
from syncer.config.grading import (
    CONFIDENCE_DESCRIPTION,
    STRETCH_DESCRIPTION,
    TYPE_DESCRIPTION,
    OkrType,
    check_stretch_has_target,
    read_confidence,
)
from syncer.config.object_streams import register as register_stream_layouts
from syncer.config.objective_tree import (
    FROM_CHILDREN_DESCRIPTION,
    PARENT_DESCRIPTION,
    WEIGHT_DESCRIPTION,
    FromChildren,
    read_weight,
    require_key_results,
)
from syncer.config.sources import (  # re-exported: models is where callers import from
    AccessToken as AccessToken,
)
from syncer.config.sources import (
    ClientCredentials as ClientCredentials,
)
from syncer.config.sources import (
    Every as Every,
)
from syncer.config.sources import (
    HubSpotAuth as HubSpotAuth,
)
from syncer.config.sources import (
    HubSpotOAuth as HubSpotOAuth,
)
from syncer.config.sources import (
    HubSpotSource as HubSpotSource,
)
from syncer.config.sources import (
    HubSpotStream as HubSpotStream,
)
from syncer.config.sources import (
    JwtBearer as JwtBearer,
)
from syncer.config.sources import (
    OwnerFields as OwnerFields,
)
from syncer.config.sources import (
    Password as Password,
)
from syncer.config.sources import (
    PrivateApp as PrivateApp,
)
from syncer.config.sources import (
    RateLimit as RateLimit,
)
from syncer.config.sources import (
    SalesforceAuth as SalesforceAuth,
)
from syncer.config.sources import (
    SalesforceSource as SalesforceSource,
)
from syncer.config.sources import (
    SalesforceStream as SalesforceStream,
)
from syncer.config.sources import (
    Scheduled as Scheduled,
)
from syncer.config.sources import (
    Source as Source,
)
from syncer.config.sources import (
    to_timedelta as to_timedelta,
)
from syncer.config.store_url import store_url_problem
from syncer.config.strict import KEY_PATTERN as KEY_PATTERN
from syncer.config.strict import Identifier as Identifier
from syncer.config.strict import Key, Strict
from syncer.records import StreamName

# ---------------------------------------------------------------- metrics

Scalar = str | int | float | bool | date | None


class Comparison(Strict):
    """One filter condition; several keys must all hold."""

    gt: Scalar = None
    gte: Scalar = None
    lt: Scalar = None
    lte: Scalar = None
    not_: Scalar | list[Scalar] = Field(None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _not_empty(self) -> Comparison:
        if not self.model_fields_set:
            raise ValueError("a comparison needs one of gt, gte, lt, lte, not")
        return self


FilterValue = Scalar | list[Scalar] | Comparison
Filter = dict[str, FilterValue]


class MetricBase(Strict):
    # deals, calls, renewals, or a stream a source declares (README "Any object as a stream")
    stream: StreamName | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=16)]
    where: Filter = Field(default_factory=dict)
    date: str | None = Field(None, description="the date field that places a record in the period")


class CountMetric(MetricBase):
    kind: Literal["count"]


class SumMetric(MetricBase):
    kind: Literal["sum"]
    field: str


class AvgMetric(MetricBase):
    kind: Literal["avg"]
    field: str


class AvgDaysMetric(MetricBase):
    kind: Literal["avg_days"]
    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DistinctCountMetric(MetricBase):
    kind: Literal["distinct_count"]
    field: str


class RatioMetric(MetricBase):
    kind: Literal["ratio"]
    numerator: Filter
    denominator: Filter = Field(default_factory=dict)
    weight: str | None = Field(None, description="weigh each record by this field, e.g. amount")


Metric = Annotated[
    CountMetric | SumMetric | AvgMetric | AvgDaysMetric | DistinctCountMetric | RatioMetric,
    Field(discriminator="kind"),
]
MEASURED_KEYS = ("stream", "where", "date", "field", "from", "to", "numerator", "denominator", "weight")


class ManualMetric(Strict):
    """A key result no CRM knows ("hire 2 AEs"): its value is its latest check-in
    (`okrsync checkin`, README "Check-ins and manual key results"), never a stream's records."""

    kind: Literal["manual"]

    @model_validator(mode="before")
    @classmethod
    def _no_stream_keys(cls, data: Any) -> Any:
        measured = [key for key in MEASURED_KEYS if isinstance(data, dict) and key in data]
        if measured:
            keys = ", ".join(f"`{key}`" for key in measured)
            raise ValueError(
                f"a manual metric takes its value from check-ins (`okrsync checkin`), not from CRM "
                f"records: remove {keys}, or use another kind (count, sum, …) to measure a stream"
            )
        return data


# A key result's metric: measured in the store's records, or manual (from check-ins).
KeyResultMetric = Annotated[
    CountMetric | SumMetric | AvgMetric | AvgDaysMetric | DistinctCountMetric | RatioMetric | ManualMetric,
    Field(discriminator="kind"),
]

# ---------------------------------------------------------------- periods, targets

RELATIVE_PERIODS = (
    "current_quarter",
    "current_month",
    "current_year",
    "previous_quarter",
    "previous_month",
    "previous_year",
)
NAMED_PERIOD = re.compile(r"^(FY)?(\d{4})(?:-Q([1-4]))?$")


class DateRange(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        return self


def _check_period(value: str) -> str:
    if value in RELATIVE_PERIODS or NAMED_PERIOD.match(value):
        return value
    raise ValueError(
        f"'{value}' is not a period: use one of {', '.join(RELATIVE_PERIODS)}, a quarter like 2026-Q4 "
        "or FY2027-Q1, a year like FY2027, or {start: 2026-10-01, end: 2026-12-31}"
    )


Period = DateRange | str
RELATIVE_TARGET = re.compile(r"^([+-])(\d+(?:\.\d+)?)(%|pp)$")
GroupBy = Literal["owner", "team", "region"] | Annotated[str, Field(pattern=r"^attributes\.\w+$")]


class KeyResult(Strict):
    key: Key
    title: str | None = None
    metric: KeyResultMetric
    baseline: float | Literal["previous_period"] | None = None
    target: float | str | CrmTarget  # CrmTarget: README "Targets from the CRM"
    direction: Literal["increase", "decrease"] | None = Field(
        None, description="inferred from target vs baseline when omitted"
    )
    group_by: GroupBy | None = None
    owner_targets: Literal["even"] | dict[str, float] | None = None
    weight: float = Field(1.0, gt=0)
    type: OkrType | None = Field(None, description=TYPE_DESCRIPTION)
    stretch: float | str | None = Field(None, description=STRETCH_DESCRIPTION)
    confidence: float | None = Field(None, description=CONFIDENCE_DESCRIPTION)

    @model_validator(mode="before")
    @classmethod
    def _stretch_has_target(cls, data: Any) -> Any:
        return check_stretch_has_target(data)

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence(cls, value: Any) -> Any:
        return read_confidence(value)

    @field_validator("stretch")
    @classmethod
    def _relative_stretch(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str) and not RELATIVE_TARGET.match(value.strip()):
            raise ValueError(
                f"'{value}' is not a stretch: write it as the target is written, a number (60) or a "
                "change relative to the baseline ('+30%', '-20%', '+8pp')"
            )
        return value

    @field_validator("target")
    @classmethod
    def _relative_target(cls, value: float | str | CrmTarget) -> float | str | CrmTarget:
        if isinstance(value, str) and not RELATIVE_TARGET.match(value.strip()):
            raise ValueError(
                f"'{value}' is not a target: write a number (575000), a change relative to the baseline "
                "('+15%', '-5%'), or percentage points for a ratio ('+5pp')"
            )
        return value


class Objective(Strict):
    key: Key
    title: str | None = None
    period: Period = "current_quarter"
    type: OkrType = Field("committed", description=TYPE_DESCRIPTION)
    # The objective tree (README "Objective tree"), before key_results: their check reads from_children.
    parent: Key | None = Field(None, description=PARENT_DESCRIPTION)
    from_children: FromChildren | None = Field(None, description=FROM_CHILDREN_DESCRIPTION)
    weight: Annotated[float | None, BeforeValidator(read_weight)] = Field(
        None, description=WEIGHT_DESCRIPTION
    )
    key_results: list[KeyResult] = Field(default_factory=list, validate_default=True)
    close_after: Annotated[str | None, BeforeValidator(read_close_after)] = Field(
        None, description=CLOSE_AFTER_DESCRIPTION
    )

    @field_validator("period")
    @classmethod
    def _period(cls, value: Period) -> Period:
        return _check_period(value) if isinstance(value, str) else value

    @field_validator("key_results")
    @classmethod
    def _key_results(cls, value: list[KeyResult], info: ValidationInfo) -> list[KeyResult]:
        return require_key_results(value, info.data.get("from_children"))


# ---------------------------------------------------------------- write-back

KR_VALUE_ATTRIBUTES = (
    "value",
    "baseline",
    "target",
    "progress",
    "progress_pct",
    "score",
    "expected",
    "status",
    "projected",
    "updated_at",
    "currency",
    "confidence",
    *FINAL_ATTRIBUTES,  # the last frozen period's (README "Closing a period")
)
RECORD_ATTRIBUTES = ("key", "title", "group", "period_start", "period_end")


# How often the written fields are read back from the CRM and drifted ones rewritten (README
# "Drift repair"): a field edited by hand, reset by a deploy or restored by a sandbox refresh.
def _off_is_not_false(value: Any) -> Any:
    return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


Verify = Annotated[Literal["every_cycle", "hourly", "daily", "off"], BeforeValidator(_off_is_not_false)]
VERIFY_DESCRIPTION = (
    "how often the written fields are read back and those that differ rewritten: "
    "every_cycle, hourly, daily (default) or off"
)


class OwnerTarget(Strict):
    """One row per owner: the rep's own record (Salesforce User), matched by owner id."""

    source: str
    object: Identifier
    match: Literal["owner"]
    fields: dict[str, str] = Field(min_length=1)
    verify: Verify = Field("daily", description=VERIFY_DESCRIPTION)


class KeyedTarget(Strict):
    """One record per key result and group, found or created by a unique field."""

    source: str
    object: Identifier
    upsert_on: str
    fields: dict[str, str] = Field(min_length=1)
    verify: Verify = Field("daily", description=VERIFY_DESCRIPTION)


# What a weekly snapshot record holds (README "History as CRM records"); `name` is the record's
# display name, written on Salesforce only (a custom object's Name).
HistoryAttribute = Literal[
    "key", "name", "key_result", "group", "week", "week_start", "value", "target", "progress", "score", "status"
]  # fmt: skip


class History(Strict):
    """One record per key result, group and ISO week, upserted on `<kr>|<group>|<week>`."""

    object: Identifier | None = Field(
        None, description="default OKR_Snapshot__c (Salesforce), p_okr_snapshots (HubSpot)"
    )
    key_results: list[str] | None = Field(
        None, description="objective.key_result of each key result kept; default every one"
    )
    fields: dict[HistoryAttribute, str] = Field(
        default_factory=dict, description="attribute → CRM field name, for names other than the defaults"
    )


class HistoryTarget(Strict):
    """Weekly history records of key results (syncer/config/history.py resolves the names)."""

    source: str
    history: History
    verify: Verify = Field("daily", description=VERIFY_DESCRIPTION)


def _target_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "history" in value:
            return "history"
        return "keyed" if "upsert_on" in value else "owner"
    if isinstance(value, HistoryTarget):
        return "history"
    return "keyed" if isinstance(value, KeyedTarget) else "owner"


WritebackTarget = Annotated[
    Annotated[OwnerTarget, Tag("owner")]
    | Annotated[KeyedTarget, Tag("keyed")]
    | Annotated[HistoryTarget, Tag("history")],
    Discriminator(_target_kind),
]


# ---------------------------------------------------------------- settings


AlertEvent = Literal["cycle_failed", "status_changed"]
ALERT_EVENTS: tuple[AlertEvent, ...] = ("cycle_failed", "status_changed")


class Alerts(Strict):
    webhook_url: SecretStr | None = Field(None, description="Slack-compatible incoming webhook")
    on: list[AlertEvent] = Field(default_factory=lambda: list(ALERT_EVENTS))


class Serve(Strict):
    port: int = Field(8080, ge=1, le=65535)
    # Loopback by default: the status page shows every rep's numbers. A container or pod sets
    # 0.0.0.0 with an auth_token (rules in `serve_access.py`).
    host: str = Field("127.0.0.1", description="address to listen on; a non-loopback one needs auth_token")
    auth_token: SecretStr | None = Field(
        None,
        description="bearer token the status page and /metrics require (/healthz stays open): ${OKRSYNC_SERVE_TOKEN}",
    )
    stale_after: str = Field("1h", description="/healthz turns 503 when the last cycle is older")


class PlausibleDates(Strict):
    """Dates and instants a CRM record may hold; a record with one outside is quarantined."""

    start: date = Field(date(1990, 1, 1), alias="from")
    end: date = Field(date(2100, 12, 31), alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> PlausibleDates:
        if self.end <= self.start:
            raise ValueError(f"plausible_dates: `to` ({self.end}) must come after `from` ({self.start})")
        return self


class Settings(Strict):
    version: Literal[1]
    store: str = "sqlite:///okrsync.db"
    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    sources: dict[Key, Source] = Field(min_length=1)
    teams: dict[str, list[str]] = Field(default_factory=dict)
    objectives: list[Objective] = Field(default_factory=list)
    writeback: list[WritebackTarget] = Field(default_factory=list)
    alerts: Alerts = Field(default_factory=Alerts)
    serve: Serve = Field(default_factory=Serve)
    plausible_dates: PlausibleDates = Field(default_factory=PlausibleDates)
    close_after: Annotated[str, BeforeValidator(read_close_after)] = Field(
        DEFAULT_CLOSE_AFTER, description=CLOSE_AFTER_DESCRIPTION
    )
    _masked: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _stream_layouts(self) -> Settings:
        # The rollup finds a declared stream's date columns by the stream's name (README "Any object
        # as a stream"; syncer.rollup.stream_tables).
        register_stream_layouts(self.sources)
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not an IANA time zone: use a name like America/New_York or Europe/Berlin"
            ) from None
        return value

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        problem = store_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def masked_values(self) -> frozenset[str]:
        """Values read from `${VAR}`s that messages must not show, beyond secrets (the store's host)."""
        return self._masked

    def with_masked(self, values: frozenset[str]) -> Settings:
        """A copy whose `masked_values` are `values` (set by the loader, which knows what was a variable)."""
        copy = self.model_copy()
        copy._masked = values
        return copy

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def key_result(self, objective: str, key_result: str) -> KeyResult | None:
        for obj in self.objectives:
            if obj.key == objective:
                return next((kr for kr in obj.key_results if kr.key == key_result), None)
        return None
