"""The e-mailed report: the status page's content as one self-contained HTML file.

Nothing in it points outside the file (CSS inline, charts inline SVG, no script), so it reads the
same as an attachment as in a browser.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.status_page import collect_status, render_document


def write_report(session: Session, settings: Settings, path: Path, *, now: datetime) -> Path:
    """Write the report to `path` (replacing it) and return the path."""
    title = f"OKR report — {now.astimezone(settings.zone):%Y-%m-%d}"
    html = render_document(collect_status(session, settings, now=now), title=title)
    path.write_text(html, encoding="utf-8")
    return path
