"""What ops see of quarantined records and skipped undated records: `status`, the page, `check`.

Data is read by `collect_quarantine`; the functions below only format it. Every text here
came from a CRM: the console gets it as rich `Text` (never markup), the page escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from rich.console import Group
from rich.text import Text
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.errors import StoreError
from syncer.rollup.undated import Undated, count_backwards, count_undated
from syncer.store import quarantine
from syncer.store.database import create_store_engine
from syncer.store.quarantine import Quarantined, ReasonCount
from syncer.views.tables import Column, fitted_table

TOP_RECORDS = 20  # the newest quarantined records shown; the total is always given


@dataclass(frozen=True, slots=True)
class QuarantineStatus:
    total: int
    records: Sequence[Quarantined]
    undated: Sequence[Undated]  # only key results that skipped some records


def collect_quarantine(session: Session, settings: Settings, *, limit: int = TOP_RECORDS) -> QuarantineStatus:
    skipped = [*count_undated(session, settings), *count_backwards(session, settings)]
    undated = [u for u in skipped if u.records]
    return QuarantineStatus(quarantine.count(session), quarantine.top(session, limit=limit), undated)


def console_tables(status: QuarantineStatus) -> list[Group | Text]:
    """`okrsync status`: quarantined records (top N, newest first) and skipped undated records."""
    shown: list[Group | Text] = []
    if not status.total:
        shown.append(Text("quarantined records: none"))
    else:
        title = f"Quarantined records ({len(status.records)} of {status.total}, newest first)"
        rows = [
            (r.source, r.stream, r.record_id, r.field or "", r.reason, f"{r.last_seen:%Y-%m-%d %H:%M}")
            for r in status.records
        ]
        columns = [Column(name) for name in ("source", "stream", "id", "field", "reason", "last seen")]
        table = fitted_table(title, columns, rows)
        shown.append(table)
    for item in status.undated:
        shown.append(Text(f"{item.objective}.{item.key_result}: {item.note}"))
    return shown


def html_section(status: QuarantineStatus | None) -> str:
    """The status page's section: quarantined records and skipped undated records."""
    if status is None:
        return ""
    notes = "".join(
        f"<li>{escape(u.objective)}.{escape(u.key_result)}: {escape(u.note)}</li>" for u in status.undated
    )
    undated = f"<ul>{notes}</ul>" if notes else ""
    if not status.total:
        body = '<p class="muted">none</p>'
    else:
        rows = "".join(
            f"<tr><td>{escape(r.source)}</td><td>{escape(r.stream)}</td><td>{escape(r.record_id)}</td>"
            f"<td>{escape(r.field or '')}</td><td>{escape(r.reason)}</td>"
            f"<td>{escape(f'{r.last_seen:%Y-%m-%d %H:%M}')}</td></tr>"
            for r in status.records
        )
        body = (
            f"<p>{status.total} records kept out of every number until the CRM changes them.</p>"
            "<table><thead><tr><th>source</th><th>stream</th><th>record</th><th>field</th>"
            f"<th>reason</th><th>last seen</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return f'<section id="quarantine"><h2>Quarantined records</h2>{body}{undated}</section>'


def reason_lines(reasons: Sequence[ReasonCount]) -> list[str]:
    """`okrsync check`: the top reasons per source and stream, one line each."""
    return [f"{r.source}: QUARANTINE {r.stream}: {r.records} × {r.reason}" for r in reasons]


def check_lines(store_url: str, *, per_stream: int = 3) -> list[str]:
    """The top quarantine reasons per stream in the store, for `okrsync check`; a store that does
    not exist yet (or predates quarantine) has none, and is not created by looking."""
    if (
        store_url.startswith("sqlite:///")
        and not Path(store_url.removeprefix("sqlite:///")).expanduser().exists()
    ):
        return []
    engine = create_store_engine(store_url)
    try:
        if "rejected_records" not in inspect(engine).get_table_names():
            return []
        with Session(engine) as session:
            return reason_lines(quarantine.top_reasons(session, per_stream=per_stream))
    except (StoreError, SQLAlchemyError) as exc:  # driver errors arrive as StoreError (store.faults)
        return [f"store: WARNING cannot read quarantined records: {type(exc).__name__}"]
    finally:
        engine.dispose()
