"""Structured logs: one event per line, JSON when not on a terminal, secrets masked.

Every record passes through `Redactor`, which replaces the configured secrets (every
`SecretStr` of the settings) wherever they appear, so a token echoed by a library or an
exception text never reaches a log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from syncer.views.terminal import escape_controls

MASK = "***"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def secret_values(model: BaseModel) -> set[str]:
    """Every SecretStr value in a settings tree."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            if len(value.get_secret_value()) >= 4:  # masking 1-3 characters would garble every log line
                found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(model)
    return found


class Redactor(logging.Filter):
    """Masks known secrets in the message and in every extra field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)
        self.names: list[re.Pattern[str]] = []

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted(set(self.secrets) | set(secrets), key=len, reverse=True)

    def add_names(self, names: Iterable[str]) -> None:
        """Mask whole host names only (`db` in `okrsync.db` is not the host `db`)."""
        self.names += [re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-]|\.\w)") for name in names]

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for name in self.names:
            text = name.sub(MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets or self.names:
            record.msg = self.mask(record.getMessage())
            record.args = None
            for key, value in list(vars(record).items()):
                if key not in _STANDARD and isinstance(value, str):
                    setattr(record, key, self.mask(value))
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_extras(record),
        }
        if record.exc_text or record.exc_info:
            event["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(event, default=str)


class ConsoleFormatter(logging.Formatter):
    """One line per event; control characters escaped, so a CRM value cannot forge a line or
    send an escape sequence to the terminal (JSON lines escape them by themselves)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={escape_controls(str(v))}" for k, v in _extras(record).items())
        message = escape_controls(record.getMessage())
        line = f"{record.levelname.lower():7} {message}" + (f"  {fields}" if fields else "")
        if record.exc_text:
            line += "\n" + "\n".join(escape_controls(part) for part in record.exc_text.splitlines())
        return line


def configure_logging(
    *, level: str = "INFO", as_json: bool | None = None, secrets: Iterable[str] = ()
) -> Redactor:
    """Route every okrsync log to stderr; returns the redactor so new secrets can be added."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = not sys.stderr.isatty() if as_json is None else as_json
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    redactor = Redactor(secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "alembic", "apscheduler", "simple_salesforce"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return redactor
