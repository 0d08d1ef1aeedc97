"""The e-mailed report: the status page's content as one self-contained HTML file.

Nothing in it points outside the file (CSS inline, charts inline SVG, no script), so it reads the
same as an attachment as in a browser. It is written through a temporary file in the same
directory and renamed into place: a reader never sees half a report, and a symbolic link at the
path is refused, never followed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.errors import OutputError
from syncer.views.status_data import collect_status
from syncer.views.status_html import render_document

NEW_FILE_MODE = 0o644  # a report is for reading and mailing; the temporary file starts as 0600


def write_report(session: Session, settings: Settings, path: Path, *, now: datetime) -> Path:
    """Write the report to `path` (replacing a regular file) and return the path.

    Raises OutputError, having written nothing, when `path` is a directory, a symbolic link or
    in a directory that does not exist or cannot be written.
    """
    check_output_path(path)
    title = f"OKR report — {now.astimezone(settings.zone):%Y-%m-%d}"
    html = render_document(collect_status(session, settings, now=now), title=title)
    write_atomically(path, html)
    return path


def check_output_path(path: Path) -> None:
    """OutputError when `path` cannot be a file okrsync replaces."""
    name = str(path)
    if not name or name == "." or path.is_dir():
        raise OutputError(f"`{name}` is a directory: give the report's file name, like report.html")
    if path.is_symlink():
        raise OutputError(
            f"`{name}` is a symbolic link: okrsync does not write through links; remove it or choose another name"
        )
    if path.exists() and not path.is_file():
        raise OutputError(f"`{name}` exists and is not a regular file: choose another name")
    if not path.parent.is_dir():
        raise OutputError(f"the directory of `{name}` does not exist: create it or choose another path")


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    mode = path.stat().st_mode & 0o777 if path.is_file() else NEW_FILE_MODE
    temporary: str | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temporary = handle.name
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)  # a rename replaces a link placed meanwhile, never follows it
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write `{path}`: {reason}; nothing was written") from None
