"""`okrsync status`, the status page and the report show how each key result is graded: its type,
score, stretch (a relative one as the number it stands for) and the team's confidence; a plain
committed key result gets no extra line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

from rich.console import Console
from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.rollup.keyresults import compute_key_results
from syncer.store.snapshots import save_snapshot
from syncer.views.console import print_status
from syncer.views.status_data import collect_status
from syncer.views.status_html import render_document
from tests.unit.rollup.builders import Rows, sources

NOW = datetime(2026, 8, 16, tzinfo=UTC)  # halfway through Q3 2026
OBJECTIVES = [
    {
        "key": "mid-market",
        "type": "aspirational",
        "key_results": [
            {
                "key": "new-logos",
                "metric": {"kind": "count", "stream": "deals", "where": {"type": "new"}},
                "target": 40,
                "stretch": 60,
                "confidence": 0.5,
            },
            {
                "key": "revenue",
                "type": "committed",
                "metric": {"kind": "sum", "stream": "deals", "field": "amount"},
                "baseline": "previous_period",
                "target": "+15%",
                "stretch": "+30%",
            },
        ],
    },
    {
        "key": "plain",
        "key_results": [{"key": "calls", "metric": {"kind": "count", "stream": "calls"}, "target": 10}],
    },
]


def _status(session: Session) -> object:
    rows = Rows(session)
    rows.owner("005A", "ana@example.com")
    for i in range(50):
        rows.deal(f"n{i}", owner_id="005A", close_date=date(2026, 8, 3))
    rows.deal("p", owner_id="005A", type="other", amount=300_000, close_date=date(2026, 5, 20))
    rows.deal("r", owner_id="005A", type="other", amount=360_000, close_date=date(2026, 8, 4))
    rows.call("k", owner_id="005A", occurred_at=datetime(2026, 8, 5, 12, tzinfo=UTC))
    settings = Settings.model_validate(
        {"version": 1, "timezone": "UTC", "sources": sources(), "objectives": OBJECTIVES}
    )
    save_snapshot(session, None, compute_key_results(session, settings, now=NOW))
    return collect_status(session, settings, now=NOW)


def test_status_prints_type_score_stretch_and_confidence(session: Session) -> None:
    status = _status(session)
    out = StringIO()
    print_status(Console(file=out, width=120, color_system=None), status)  # type: ignore[arg-type]
    text = out.getvalue()
    grading = text[text.index("Grading") :].split("└")[0]  # the grading table alone
    logos = next(line for line in grading.splitlines() if "mid-market.new-logos" in line)
    cells = [cell.strip() for cell in logos.split("│")[2:6]]
    assert cells == ["aspirational", "0.85", "60", "50 %"]  # 50 logos: 0.7 + 0.3 × 10 / 20
    revenue = next(line for line in grading.splitlines() if "mid-market.revenue" in line)
    # 360,000 against 345,000 (+15 %) and a stretch of 390,000 (+30 % of 300,000): 0.7 + 0.3 × 1/3.
    assert [cell.strip() for cell in revenue.split("│")[2:6]] == ["committed", "0.80", "390,000", "—"]
    assert "plain.calls" not in grading


def test_page_and_report_say_how_each_key_result_is_graded(session: Session) -> None:
    html = render_document(_status(session), title="t")  # type: ignore[arg-type]
    assert (
        '<p class="grading muted">aspirational: 0.7 is success · score 0.85 · stretch 60 scores 1.0, '
        "the target 0.7 · confidence 50 %</p>"
    ) in html
    assert "committed · score 0.80 · stretch 390,000 scores 1.0, the target 0.7</p>" in html
    assert html.count('class="grading') == 2  # nothing for the plain committed key result
