"""Filters: canonical columns and attributes, scalars, lists and comparisons, as SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results

from .builders import Rows, key_result_settings

NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)


def _deals(rows: Rows) -> None:
    rows.deal(
        "a",
        close_date=DAY,
        amount=100,
        type="new",
        stage="Won",
        attributes={"segment": "smb", "seats": 5, "strategic": True},
    )
    rows.deal(
        "b",
        close_date=DAY,
        amount=250,
        type="expansion",
        attributes={"segment": "mid", "seats": "12", "strategic": "true"},
    )
    rows.deal(
        "c",
        close_date=DAY,
        amount=None,
        type="other",
        attributes={"segment": "ENT", "seats": "lots", "strategic": False},
    )
    rows.deal(
        "d",
        close_date=DAY,
        amount=1000,
        type="new",
        stage=None,
        attributes={"seats": 40.5, "signed": "2026-10-20"},
    )
    rows.deal(
        "e",
        close_date=DAY,
        amount=0,
        type="renewal",
        is_won=False,
        attributes={"segment": None, "signed": "2026-09-30"},
    )


@pytest.fixture
def seeded(session: Session) -> Session:
    _deals(Rows(session))
    return session


def _matching(session: Session, where: dict[str, Any]) -> int:
    settings = key_result_settings({"kind": "count", "stream": "deals", "where": where})
    [total] = compute_key_results(session, settings, now=NOW)
    assert total.value is not None
    return int(total.value)


@pytest.mark.parametrize(
    ("where", "count"),
    [
        ({}, 5),
        ({"type": "new"}, 2),
        ({"type": ["new", "expansion"]}, 3),
        ({"is_won": True}, 4),
        ({"is_won": "false"}, 1),  # a quoted boolean still compares as one
        ({"amount": {"gt": 100}}, 2),
        ({"amount": {"gte": 100, "lt": 1000}}, 2),
        ({"amount": {"lte": "100"}}, 2),  # 100 and 0; the deal without amount never compares
        ({"amount": None}, 1),
        ({"amount": {"not": None}}, 4),
        ({"stage": {"not": "Won"}}, 4),  # `not` keeps records without a stage
        ({"type": {"not": ["new", "other"]}}, 2),
        ({"stage": [None, "Won"]}, 2),  # the others are "Closed Won"
        ({"type": []}, 0),
        # Attributes: bare names and attributes.x alike; the filter value's type decides the cast.
        ({"segment": "smb"}, 1),
        ({"attributes.segment": ["smb", "mid"]}, 2),
        ({"segment": None}, 2),  # missing or JSON null
        ({"segment": {"not": "smb"}}, 4),
        ({"seats": {"gt": 10}}, 2),  # "12" (a HubSpot-style string) and 40.5; "lots" is not a number
        ({"attributes.seats": 5}, 1),
        ({"seats": {"not": 5}}, 4),
        ({"strategic": True}, 2),  # JSON true and the string "true"
        ({"strategic": False}, 1),
        ({"signed": {"gte": date(2026, 10, 1)}}, 1),  # ISO dates compare as text
        ({"signed": {"lt": date(2026, 10, 1)}}, 1),
        ({"is_won": True, "seats": {"gte": 5}, "segment": {"not": "mid"}}, 2),
    ],
)
def test_filter_counts(seeded: Session, where: dict[str, Any], count: int) -> None:
    assert _matching(seeded, where) == count
