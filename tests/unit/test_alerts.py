"""Webhook alerts, received by a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from syncer.config.models import Settings
from syncer.cycle import CycleResult
from syncer.serve.alerts import send_alerts, status_changes
from tests.unit.test_web import kr_value

T0 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


class Webhook:
    """A Slack-like incoming webhook: records each JSON body, answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(hook.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def settings(url: str | None, on: list[str] | None = None) -> Settings:
    alerts: dict[str, object] = {"webhook_url": url} if url else {}
    if on is not None:
        alerts["on"] = on
    return Settings.model_validate(
        {
            "version": 1,
            "sources": {
                "sfdc": {
                    "kind": "salesforce",
                    "instance_url": "https://example.my.salesforce.com",
                    "auth": {"method": "access_token", "access_token": "tok-123456"},
                    "streams": {"deals": {"object": "Opportunity"}},
                }
            },
            "alerts": alerts,
        }
    )


def failed_report() -> CycleResult:
    report = CycleResult(run_id=3, started_at=T0)
    report.errors.append("sfdc: authentication refused (HTTP 401)")
    return report


def changed_report() -> CycleResult:
    report = CycleResult(run_id=4, started_at=T0)
    report.values.extend(
        [replace(kr_value(), status="at_risk"), replace(kr_value("owner", "a@x.io"), status="done")]
    )
    return report


def test_a_failed_cycle_is_posted_as_slack_text(webhook: Webhook) -> None:
    assert send_alerts(settings(webhook.url), failed_report(), []) == 1
    assert webhook.received == [{"text": "okrsync: cycle 3 failed: sfdc: authentication refused (HTTP 401)"}]


def test_a_total_changing_status_is_posted_but_not_a_group(webhook: Webhook) -> None:
    previous = [kr_value(), kr_value("owner", "a@x.io")]  # both on_track
    assert send_alerts(settings(webhook.url), changed_report(), previous) == 1
    assert webhook.received == [{"text": "okrsync: q-revenue.revenue is now at risk (was on track)"}]


def test_no_alert_for_a_first_value_or_an_unchanged_one() -> None:
    assert status_changes([], [kr_value()]) == []
    assert status_changes([kr_value()], [kr_value()]) == []


def test_alerts_on_limits_what_is_sent(webhook: Webhook) -> None:
    assert send_alerts(settings(webhook.url, on=["status_changed"]), failed_report(), []) == 0
    assert webhook.received == []


def test_without_a_webhook_nothing_is_posted() -> None:
    assert send_alerts(settings(None), failed_report(), []) == 0


def test_a_failing_webhook_is_logged_never_raised(webhook: Webhook, caplog: pytest.LogCaptureFixture) -> None:
    webhook.status = 500
    assert send_alerts(settings(webhook.url), failed_report(), []) == 0
    assert webhook.received  # it was tried
    assert "alert not delivered" in caplog.text
    assert "secret" not in caplog.text


def test_an_unreachable_webhook_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    hook = Webhook()
    url = hook.url
    hook.server.shutdown()
    hook.server.server_close()
    assert send_alerts(settings(url), failed_report(), []) == 0
    assert "alert not delivered" in caplog.text
