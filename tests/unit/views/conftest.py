"""A store whose records and snapshots agree, as after a cycle, and its report made by the CLI.

The records are dated relative to today (the CLI reads the clock), in the configured zone. The
key results cover each kind a chart treats differently: a money sum and a count (running totals
with a pace line), a ratio and a day average (weekly snapshots, no pace line), and a count whose
period starts today (a first day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import yaml

from syncer import currencies
from syncer.cli import main
from syncer.config import load_settings
from syncer.contract import SourceIdentity
from syncer.rollup.keyresults import compute_key_results
from syncer.store import identities
from syncer.store.database import open_store
from syncer.store.snapshots import save_snapshot
from tests.unit.rollup.builders import Rows

ZONE = "America/New_York"
SVG = "{http://www.w3.org/2000/svg}"


def quarter_start(today: date) -> date:
    return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)


def config_document(store_url: str, today: date) -> dict[str, Any]:
    quarter = "current_quarter"
    return {
        "version": 1,
        "store": store_url,
        "timezone": ZONE,
        "sources": {
            "sfdc": {
                "kind": "salesforce",
                "instance_url": "https://127.0.0.1:1",
                "auth": {"method": "access_token", "access_token": "${SFDC_ACCESS_TOKEN}"},
                "streams": {
                    "deals": {"object": "Opportunity"},
                    "calls": {"object": "Task"},
                    "renewals": {"object": "Opportunity"},
                },
            }
        },
        "objectives": [
            {
                "key": "sales",
                "title": "Sales",
                "period": quarter,
                "key_results": [
                    {
                        "key": "revenue",
                        "title": "Revenue",
                        "metric": {"kind": "sum", "stream": "deals", "field": "amount", "date": "close_date"},
                        "target": 100000,
                    },
                    {
                        "key": "deals",
                        "title": "Deals",
                        "metric": {"kind": "count", "stream": "deals", "date": "close_date"},
                        "target": 40,
                    },
                    {
                        "key": "cycle",
                        "title": "Cycle",
                        "metric": {
                            "kind": "avg_days",
                            "stream": "deals",
                            "from": "created_at",
                            "to": "close_date",
                            "date": "close_date",
                        },
                        "baseline": 75,
                        "target": 60,
                    },
                    {
                        "key": "renewal-rate",
                        "title": "Renewal rate",
                        "metric": {
                            "kind": "ratio",
                            "stream": "renewals",
                            "numerator": {"status": "renewed"},
                            "denominator": {"status": ["renewed", "churned"]},
                            "date": "due_date",
                        },
                        "target": 0.85,
                    },
                ],
            },
            {
                "key": "launch",
                "title": "Launch",
                "period": {"start": today.isoformat(), "end": (today + timedelta(days=89)).isoformat()},
                "key_results": [
                    {
                        "key": "calls",
                        "title": "Launch calls",
                        "metric": {"kind": "count", "stream": "calls", "date": "occurred_at"},
                        "target": 300,
                    }
                ],
            },
        ],
    }


def fill(rows: Rows, today: date) -> None:
    """Deals on several days of the quarter up to today, renewals, and calls made today."""
    start = quarter_start(today)
    for n, back in enumerate((60, 45, 30, 20, 9, 3, 0)):
        closed = max(start, today - timedelta(days=back))
        rows.deal(
            f"D{n}",
            amount=10000 + 1000 * n,
            close_date=closed,
            created_at=datetime.combine(closed - timedelta(days=70), datetime.min.time(), tzinfo=UTC),
        )
    for n, status in enumerate(("renewed", "renewed", "renewed", "churned")):
        rows.renewal(f"R{n}", status=status, due_date=max(start, today - timedelta(days=n)))
    noon = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=17)  # noon in New York
    for n in range(5):
        rows.call(f"C{n}", occurred_at=noon - timedelta(minutes=n))


def roll_up(session: Any, settings: Any, now: datetime) -> None:
    """What a cycle's rollup saves (syncer.cycle._roll_up), with a week-old snapshot before it."""
    values, _ = currencies.with_currencies(session, settings, compute_key_results(session, settings, now=now))
    earlier = now - timedelta(days=7)
    save_snapshot(
        session,
        None,
        [replace(v, updated_at=earlier) for v in values if v.key_result in ("renewal-rate", "cycle")],
    )
    save_snapshot(session, None, values)


@dataclass(frozen=True)
class Report:
    html: str
    today: date

    def article(self, key: str) -> str:
        found = re.search(rf'<article [^>]*id="{re.escape(key)}">(.*?)</article>', self.html, re.S)
        assert found is not None, key
        return found[1]

    def chart(self, key: str) -> ElementTree.Element:
        svg = re.search(r'<svg class="progress-chart".*?</svg>', self.article(key), re.S)
        assert svg is not None, key
        return ElementTree.fromstring(svg[0])

    def legend(self, key: str) -> str:
        found = re.search(r'<ul class="legend".*?</ul>', self.article(key), re.S)
        assert found is not None, f"{key}: no legend"
        return re.sub(r"<[^>]+>", " ", found[0])


def elements(svg: ElementTree.Element, tag: str, css_class: str | None = None) -> list[ElementTree.Element]:
    return [e for e in svg.iter(SVG + tag) if css_class is None or e.get("class") == css_class]


@pytest.fixture
def report(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    """`okrsync report` of the store above (the CLI reads the clock, so does the fixture)."""
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    path = tmp_path / "okrsync.yaml"
    path.write_text(yaml.safe_dump(config_document(store_url, today), sort_keys=False))
    monkeypatch.setenv("SFDC_ACCESS_TOKEN", "token")  # never used: report reads the store only
    settings = load_settings(path, {"SFDC_ACCESS_TOKEN": "token"})
    store = open_store(store_url)
    try:
        with store.sessions.begin() as session:
            Rows(session).owner("U1", "ana@example.com")
            identities.record_identity(session, "sfdc", "salesforce", SourceIdentity("00D1", "USD"), now=now)
            fill(Rows(session), today)
        with store.sessions.begin() as session:
            roll_up(session, settings, now)
    finally:
        store.close()
    output = tmp_path / "report.html"
    assert main(["report", "-c", str(path), "-o", str(output)]) == 0
    return Report(output.read_text(encoding="utf-8"), today)
