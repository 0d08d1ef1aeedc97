"""Alerts: a Slack-compatible webhook post when a cycle fails or a key result's total changes status.

Posting is best effort: a webhook that is down or slow is logged, never raised, so an alert can
never fail a cycle. The issue asks for `requests` here (the one use outside `connectors/`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from syncer.config.models import Settings
from syncer.cycle import CycleResult
from syncer.values import KeyResultValue

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10  # a hung webhook must not hold the next cycle back for long

Post = Callable[..., Any]  # requests.post's shape: post(url, json=..., timeout=...)


@dataclass(frozen=True, slots=True)
class StatusChange:
    objective: str
    key_result: str
    before: str | None
    after: str | None


def status_changes(
    previous: Sequence[KeyResultValue], current: Sequence[KeyResultValue]
) -> list[StatusChange]:
    """Totals whose status differs from the previous snapshot (new key results are not changes)."""
    before = {(v.objective, v.key_result): v.status for v in previous if v.group_kind == "total"}
    return [
        StatusChange(v.objective, v.key_result, before[(v.objective, v.key_result)], v.status)
        for v in current
        if v.group_kind == "total"
        and (v.objective, v.key_result) in before
        and before[(v.objective, v.key_result)] != v.status
    ]


def alert_texts(settings: Settings, report: CycleResult, previous: Sequence[KeyResultValue]) -> list[str]:
    """The messages this cycle deserves under `alerts.on`."""
    texts: list[str] = []
    if "cycle_failed" in settings.alerts.on and report.status == "failed":
        reason = "; ".join(report.errors) or "a source failed to pull"
        texts.append(f"okrsync: cycle {report.run_id} failed: {reason}")
    if "status_changed" in settings.alerts.on:
        texts.extend(
            f"okrsync: {c.objective}.{c.key_result} is now {_words(c.after)} (was {_words(c.before)})"
            for c in status_changes(previous, report.values)
        )
    return texts


def send_alerts(
    settings: Settings,
    report: CycleResult,
    previous: Sequence[KeyResultValue],
    *,
    post: Post = requests.post,
) -> int:
    """Post each alert to `alerts.webhook_url`; returns how many the webhook accepted."""
    if settings.alerts.webhook_url is None:
        return 0
    url = settings.alerts.webhook_url.get_secret_value()
    accepted = 0
    for text in alert_texts(settings, report, previous):
        try:
            response = post(url, json={"text": text}, timeout=WEBHOOK_TIMEOUT_SECONDS)
            response.raise_for_status()
            accepted += 1
        except requests.RequestException as exc:
            # The URL is a secret (it authorizes posting): log the error's kind and status only.
            status = getattr(getattr(exc, "response", None), "status_code", None)
            log.warning("alert not delivered", extra={"error": type(exc).__name__, "status": status})
    return accepted


def _words(status: str | None) -> str:
    return (status or "unknown").replace("_", " ")
