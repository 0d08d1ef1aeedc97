"""The status page: objectives, key results, reps, weekly charts, runs and API usage, as HTML.

Server-rendered from a `Status` (`syncer.views.status_data`): no script, no external URL, CSS
inline, charts as inline SVG from `syncer.views.charts`. Every text from the store or the YAML is
escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from html import escape

from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.store.ledger import FailedWrite
from syncer.store.runs import RunInfo
from syncer.values import KeyResultValue
from syncer.views import (
    charts,
    checkins,
    closed_periods,
    grading,
    objective_tree,
    quarantined_records,
    stale_key_results,
    units,
)
from syncer.views.status_data import AwaitingCheckin, KeyResultStatus, ObjectiveStatus, Status, collect_status


def render_status_page(session: Session, settings: Settings, *, now: datetime) -> str:
    """The whole status page as one HTML document."""
    return render_document(collect_status(session, settings, now=now), title="okrsync status")


def render_document(status: Status, *, title: str) -> str:
    """A complete HTML document of `status`; the status page and the report share it."""
    zone = status.zone or UTC
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="generated">as of {escape(_instant(status.generated_at))}</p>',
        stale_key_results.html_section(status.stale),
        objective_tree.html_outline(status.objectives),
        *(
            _objective(o, today=status.today or status.generated_at.date(), zone=zone, tree=status.objectives)
            for o in status.objectives
            if o.parent is None  # children are nested in their parent's section
        ),
        closed_periods.html_section(status.closed_periods, zone=zone),
        _runs_section(status.runs),
        _usage_section(status.runs),
        _failed_section(status.failed_writes),
        quarantined_records.html_section(status.quarantine),
    ]
    if not status.objectives or not any(o.key_results for o in status.objectives):
        sections.insert(2, '<p class="empty">No key results yet: run a cycle (<code>okrsync run</code>).</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )


def _objective(
    objective: ObjectiveStatus, *, today: date, zone: tzinfo, tree: Sequence[ObjectiveStatus] = ()
) -> str:
    score = "—" if objective.score is None else f"{objective.score:.2f}"
    items = "".join(_key_result(objective.key, kr, today=today, zone=zone) for kr in objective.key_results)
    items += "".join(_awaiting(waiting, zone=zone) for waiting in objective.awaiting)
    children = [o for key in objective.children for o in tree if o.key == key]  # README "Objective tree"
    items += "".join(_objective(child, today=today, zone=zone, tree=tree) for child in children)
    return (
        f'<section class="objective" id="{escape(objective.key)}">'
        f'<h2>{escape(objective.title)} <span class="score">score {score}</span>'
        f"{objective_tree.html_heading_note(objective)}</h2>{items}</section>"
    )


def progress_chart(kr: KeyResultStatus, *, today: date) -> charts.ProgressChart:
    """The chart of a key result: a count or sum's running total per day when the store has it
    (`rollup.burn_up`), else its weekly snapshots; a pace line for counts and sums only."""
    total = kr.total
    series = "running total by day" if kr.burn_up else "value by week"
    return charts.ProgressChart(
        title=f"{kr.title}: {series} against the target",
        period_start=total.period.start,
        period_end=total.period.end,
        target=total.target,
        value=total.value,
        points=kr.burn_up or kr.weeks,
        unit=kr.unit,
        pace_from=kr.pace_from,
        origin=Decimal(0) if kr.cumulative else None,
        today=today,
        daily=bool(kr.burn_up),
    )


def _awaiting(waiting: AwaitingCheckin, *, zone: tzinfo) -> str:
    """A manual key result without a value this period: no number and no chart, how to give one."""
    return (
        f'<article class="key-result status-none" id="{escape(waiting.key)}">'
        f'<h3>{escape(waiting.title)}</h3><p class="numbers"><b>—</b> {_waiting_for(waiting)} '
        f'{_badge(None)} <span class="muted">(okrsync checkin -c FILE {escape(waiting.key)} --value N)</span></p>'
        f"{checkins.html_table(waiting.checkins, units.PLAIN, zone=zone)}</article>"
    )


def _waiting_for(waiting: AwaitingCheckin) -> str:
    if any(c.value is not None for c in waiting.checkins):
        return "checked in: scored and written by the next cycle"
    return "no check-in yet this period"


def _key_result(objective: str, kr: KeyResultStatus, *, today: date, zone: tzinfo) -> str:
    total = kr.total
    return (
        f'<article class="key-result status-{escape(total.status or "none")}" id="{escape(total.key)}">'
        f"<h3>{escape(kr.title)}</h3>"
        f'<p class="numbers"><b>{_number(total.value, kr.unit)}</b> of {_number(total.target, kr.unit)} '
        f"{charts.progress_bar(total.progress, total.status)} {_pct(total)} {_badge(total.status)}"
        f' <span class="muted">{escape(total.period.start.isoformat())} – '
        f"{escape(total.period.end.isoformat())}</span></p>{grading.html_note(kr.grading)}"
        f"{stale_key_results.html_note(kr.stale)}"
        f"{charts.progress_figure(progress_chart(kr, today=today))}{_groups_table(kr.groups, kr.unit)}"
        f"{checkins.html_table(kr.checkins, kr.unit, zone=zone)}</article>"
    )


def _groups_table(groups: Sequence[KeyResultValue], unit: units.Unit) -> str:
    if not groups:
        return ""
    rows = "".join(
        f"<tr><td>{escape(g.group_key)}</td><td class=num>{_number(g.value, unit)}</td>"
        f"<td class=num>{_number(g.target, unit)}</td><td class=progress>{charts.progress_bar(g.progress, g.status, width=100)} "
        f"{_pct(g)}</td><td>{_badge(g.status)}</td></tr>"
        for g in groups
    )
    kind = escape(groups[0].group_kind)
    return (
        f'<table class="groups"><thead><tr><th>{kind}</th><th>value</th><th>target</th>'
        f"<th>progress</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _runs_section(last: Sequence[RunInfo]) -> str:
    rows = "".join(
        f'<tr class="run-{escape(r.status)}"><td>{r.id}</td><td>{escape(_instant(r.started_at))}</td>'
        f"<td>{escape(r.status)}</td><td>{escape(r.sources)}</td><td class=num>{r.counts.pulled}</td>"
        f"<td class=num>{r.counts.written}</td><td class=num>{r.counts.write_errors}</td>"
        f'<td class="error">{escape(_run_errors(r))}</td></tr>'
        for r in last
    )
    return (
        '<section id="runs"><h2>Last runs</h2><table><thead><tr><th>run</th><th>started</th>'
        "<th>status</th><th>sources</th><th>pulled</th><th>written</th><th>rejected</th>"
        f"<th>errors</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _run_errors(run: RunInfo) -> str:
    write_errors = run.counts.details.get("write_errors") or []
    return "; ".join([*([run.counts.error] if run.counts.error else []), *map(str, write_errors[:3])])


def _usage_section(last: Sequence[RunInfo]) -> str:
    oldest_first = list(reversed(last))
    bars = [(f"#{r.id}", float(r.counts.api_calls)) for r in oldest_first]
    rows = "".join(
        f"<tr><td>{r.id}</td><td class=num>{r.counts.api_calls}</td><td class=num>{r.counts.retries}</td></tr>"
        for r in last
    )
    return (
        '<section id="api-usage"><h2>API usage</h2>'
        f'<div class="chart">{charts.bar_chart("API calls per run", bars)}</div>'
        "<table><thead><tr><th>run</th><th>API calls</th><th>retries</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _failed_section(failed: Sequence[FailedWrite]) -> str:
    if not failed:
        return '<section id="failed-writes"><h2>Failed writes</h2><p class="muted">none</p></section>'
    rows = "".join(
        f"<tr><td>{escape(f.source)}</td><td>{escape(f.object)}</td><td>{escape(f.target)}</td>"
        f"<td>{escape(f.field)}</td><td>{escape(f.error_code or '')}</td><td>{escape(f.error or '')}</td>"
        f"<td class=num>{f.attempts}</td></tr>"
        for f in failed
    )
    return (
        '<section id="failed-writes"><h2>Failed writes</h2><table><thead><tr><th>source</th>'
        "<th>object</th><th>record</th><th>field</th><th>code</th><th>error</th><th>attempts</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _badge(status: str | None) -> str:
    label = (status or "no status").replace("_", " ")
    return f'<span class="badge" style="background:{charts.status_colour(status)}">{escape(label)}</span>'


def _pct(value: KeyResultValue) -> str:
    return "" if value.progress_pct is None else f"{value.progress_pct:.1f} %"


def _number(value: Decimal | None, unit: units.Unit) -> str:
    return escape(units.full(value, unit))  # "USD 1,579,274.74", "74.1 %", "67.98 days", "1,204"


def _instant(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when.utcoffset() is not None else when.isoformat()


# Narrow windows (a phone, a mail client's 600 px) get smaller margins; tables wrap their text
# columns anywhere (long e-mails, errors) and keep each number on one line, so no element is
# wider than the window. Charts size themselves (see syncer.views.charts).
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa;margin:0}
main{max-width:960px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}h2{margin:28px 0 8px;font-size:20px}h3{margin:0 0 6px;font-size:16px}
.objective,section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:16px 0}
.key-result{border-top:1px solid #eaeef2;padding:12px 0}
.objective .objective{margin:12px 0 0 12px;border-left:3px solid #d0d7de}.objective .objective h2{font-size:17px}
nav.objective-tree{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:0 16px 12px;margin:16px 0}
nav.objective-tree ul{margin:4px 0;padding-left:20px}nav.objective-tree li{margin:2px 0}
.score{font-size:14px;font-weight:normal;color:#57606a;margin-left:8px}
.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
.muted,.generated{color:#57606a}.numbers svg{vertical-align:middle}
figure.chart{margin:8px 0 12px}figure.chart svg{max-width:100%;height:auto}
.legend{font-size:13px;color:#1f2328}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}td.progress{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}
td.error{color:#cf222e}table.checkins caption{text-align:left;color:#57606a;font-size:13px}
tr.superseded td.num{text-decoration:line-through;color:#57606a}tr.note td.num{color:#57606a}
tr.run-failed td,tr.run-interrupted td,tr.run-abandoned td{background:#fff8f8}p.stale{color:#57606a}
@media (max-width:640px){main{padding:8px}.objective,section{padding:10px;margin:10px 0}
th,td{padding:4px}h1{font-size:24px}td.progress svg{width:56px}td.num{white-space:normal}}
"""
