"""The status page and the report, rendered from a store a real cycle filled, in headless Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from syncer.config.models import Settings
from syncer.store.database import Store
from syncer.views.report import write_report
from syncer.views.status_html import render_status_page

MIN_COLOURS = 8  # a blank or text-only page has a handful; status colours and charts add many more

# Every SVG's drawn box, as the browser laid it out.
SVG_BOXES = """() => [...document.querySelectorAll('svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  const style = getComputedStyle(svg);
  return {cls: svg.getAttribute('class'), width: box.width, height: box.height,
          visible: style.display !== 'none' && style.visibility !== 'hidden'};
})"""


def serve(html: str) -> tuple[ThreadingHTTPServer, str]:
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture
def status_url(filled_store: tuple[Settings, Store]) -> Iterator[str]:
    settings, store = filled_store
    with store.sessions() as session:
        html = render_status_page(session, settings, now=datetime.now(UTC))
    server, url = serve(html)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def distinct_colours(png: Path) -> int:
    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def charted_key_results(settings: Settings) -> int:
    """The key results that draw a chart. A manual one without a check-in this period (the fixture
    makes none) has an article but no number and no chart (`status_html._awaiting`)."""
    return sum(kr.metric.kind != "manual" for o in settings.objectives for kr in o.key_results)


def all_key_results(settings: Settings) -> int:
    return sum(len(o.key_results) for o in settings.objectives)


def assert_charts_render(page: Any, screenshot: Path, *, key_results: int) -> None:
    assert key_results > 0
    boxes = page.evaluate(SVG_BOXES)
    charts = [b for b in boxes if b["cls"] == "progress-chart"]
    assert len(charts) == key_results
    assert [b for b in boxes if b["cls"] == "bar-chart"], "API usage chart missing"
    assert all(b["visible"] and b["width"] > 100 and b["height"] > 50 for b in charts + boxes[-1:])
    assert page.locator("svg.progress-chart polyline.value").count() == key_results
    page.screenshot(path=str(screenshot), full_page=True)
    assert distinct_colours(screenshot) > MIN_COLOURS


def test_status_page_shows_a_chart_per_key_result(
    page: Any, status_url: str, filled_store: tuple[Settings, Store], tmp_path: Path
) -> None:
    settings, _ = filled_store
    page.goto(status_url)
    assert page.title() == "okrsync status"
    # The objective tree's root comes first; its children are nested in its section.
    root = next(o for o in settings.objectives if o.parent is None)
    assert page.locator("section.objective h2").first.inner_text().startswith(root.title)
    assert page.locator("table.groups").count() >= 3  # per-rep tables of the grouped key results
    assert page.locator("#runs tbody tr").count() == 2
    assert page.locator("article.key-result").count() == all_key_results(settings)
    assert_charts_render(page, tmp_path / "status.png", key_results=charted_key_results(settings))


def test_report_file_opens_and_shows_the_charts(
    page: Any, filled_store: tuple[Settings, Store], tmp_path: Path
) -> None:
    settings, store = filled_store
    with store.sessions() as session:
        report = write_report(session, settings, tmp_path / "report.html", now=datetime.now(UTC))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    assert page.title().startswith("OKR report")
    assert page.locator("article.key-result").count() == all_key_results(settings)
    assert_charts_render(page, tmp_path / "report.png", key_results=charted_key_results(settings))
    assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
