"""Admission rules on canonical records, and the rollup's guard against non-finite numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from syncer.admission import Rules, admit, excerpt, first_fault, fit_cursor, rules_from
from syncer.config import load_settings
from syncer.contract import Cursor
from syncer.errors import BadRecordError, ConfigError
from syncer.records import Call
from syncer.rollup import scoring
from tests.fakes import T0, deal
from tests.unit.rollup.builders import key_result_settings

RULES = Rules()


def call(**overrides: object) -> Call:
    values: dict[str, object] = {
        "source": "crm", "id": "c1", "owner_id": "u1", "occurred_at": T0, "duration_seconds": 60,
        "outcome": None, "direction": None, "modified_at": T0,
    }  # fmt: skip
    return Call(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (deal("d", amount=Decimal("NaN")), "amount", "amount is not a finite number"),
        (deal("d", amount=Decimal("sNaN")), "amount", "amount is not a finite number"),
        (deal("d", amount=Decimal("-Infinity")), "amount", "amount is not a finite number"),
        (deal("d", amount=Decimal("1e16")), "amount", "amount is 10^16 or more"),
        (deal("d", amount=Decimal("-9999999999999999.995")), "amount", "amount is 10^16 or more"),
        (deal("d", currency="DOLLARS!!"), "currency", "currency is longer than 8 characters (9)"),
        (deal("x" * 65), "id", "id is longer than 64 characters (65)"),
        (deal("d", owner_id="o" * 300), "owner_id", "owner_id is longer than 64 characters (300)"),
        (deal("d", stage="Won\x00"), "stage", "stage holds a NUL character"),
        (deal("d", created_at=datetime(9999, 12, 31, tzinfo=UTC)), "created_at", "created_at is outside"),
        (deal("d", close_date=date(1989, 12, 31)), "close_date", "close_date is outside"),
        (
            deal("d", attributes={"score": float("nan")}),
            "attributes.score",
            "attributes.score is not a finite number",
        ),
        (call(duration_seconds=-1), "duration_seconds", "duration_seconds is negative"),
        (call(duration_seconds=86_401), "duration_seconds", "duration_seconds is over 86400"),
        (call(occurred_at=datetime(2101, 1, 1, tzinfo=UTC)), "occurred_at", "occurred_at is outside"),
    ],
)
def test_a_value_that_cannot_be_true_is_a_fault(record: object, field: str, reason: str) -> None:
    fault = first_fault(record, RULES)  # type: ignore[arg-type]

    assert fault is not None
    assert fault.field == field
    assert fault.reason.startswith(reason)


@pytest.mark.parametrize(
    "record",
    [
        deal("d", amount=Decimal("9999999999999999.99"), stage="s" * 5000),
        call(duration_seconds=0),
        call(duration_seconds=86_400, outcome="x" * 300),
    ],
)
def test_legal_values_pass(record: object) -> None:
    assert first_fault(record, RULES) is None  # type: ignore[arg-type]


def test_a_deal_closed_before_it_was_created_is_admitted() -> None:
    # Reps log deals they already won, migrations keep old close dates: the amount is real.
    # Only a day-span average leaves it out (tests/unit/rollup/test_skipped.py).
    assert first_fault(deal("d", close_date=(T0 - timedelta(days=400)).date()), RULES) is None


def test_a_deleted_record_is_admitted_with_its_bad_values_cleared() -> None:
    deleted = deal("d", deleted=True, amount=Decimal("Infinity"), created_at=datetime(9999, 1, 1, tzinfo=UTC))

    checked = admit("crm", "deals", [deleted], [], RULES)

    assert checked.rejections == []
    [kept] = checked.records
    assert (kept.amount, kept.created_at, kept.deleted) == (None, None, True)


def test_mapping_errors_become_rejections_with_an_escaped_excerpt() -> None:
    error = BadRecordError(
        "calls",
        "c9",
        "duration_seconds is not a finite number",
        field="duration_seconds",
        value="\x1b[2J" + "9" * 400,
    )

    [rejection] = admit("crm", "calls", [], [error], RULES).rejections

    assert (rejection.record_id, rejection.field) == ("c9", "duration_seconds")
    assert rejection.value is not None
    assert rejection.value.startswith("\\x1b[2J99")
    assert len(rejection.value) == 200
    assert rejection.value.endswith("…")


def test_excerpt_escapes_control_characters_and_keeps_short_text() -> None:
    assert excerpt("a\x00b\nc") == "a\\x00b\\nc"
    assert excerpt(Decimal("NaN")) == "Decimal('NaN')"
    assert len(excerpt("é" * 300)) == 200


def test_a_cursor_whose_id_is_too_long_resumes_at_its_instant() -> None:
    assert fit_cursor(Cursor(T0, "9" * 300)) == Cursor(T0)
    assert fit_cursor(Cursor(T0, "006A")) == Cursor(T0, "006A")


def test_plausible_dates_come_from_the_yaml(tmp_path: Path) -> None:
    settings = key_result_settings(
        {"kind": "count", "stream": "deals"},
        settings={"plausible_dates": {"from": "2026-01-01", "to": "2026-12-31"}},
    )
    rules = rules_from(settings)

    assert (rules.earliest, rules.latest) == (date(2026, 1, 1), date(2026, 12, 31))
    fault = first_fault(deal("d", created_at=datetime(2025, 12, 31, 12, tzinfo=UTC)), rules)
    assert fault is not None
    assert fault.reason == "created_at is outside the plausible dates (2026-01-01 to 2026-12-31)"


def test_a_plausible_window_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "okr.yaml"
    path.write_text(
        "version: 1\nplausible_dates: {from: 2000-01-01, to: 1999-01-01}\n"
        "sources:\n  hub:\n    kind: hubspot\n    auth:\n      method: private_app\n      access_token: ${T}\n"
        "    streams: {deals: {}}\n"
    )

    with pytest.raises(ConfigError, match="must come after"):
        load_settings(path, {"T": "x"})


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "sNaN", "1e30"])
def test_quantize_gives_no_value_for_what_is_not_a_storable_number(value: str) -> None:
    assert scoring.quantize(Decimal(value), Decimal("0.01")) is None


def test_a_non_finite_target_from_the_yaml_is_no_target() -> None:
    """validate refuses such a target; a config built another way must still not reach a CRM with it."""
    settings = key_result_settings({"kind": "count", "stream": "deals"})
    kr = settings.objectives[0].key_results[0].model_copy(update={"target": float("inf")})

    assert scoring.total_goal(kr, None).target is None
