"""The report and the status page in headless Chromium at an e-mail client's 600 px and at a
desktop's 1400 px: nothing wider than the window, and every chart with its legend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncer.config.models import Settings
from syncer.store.database import Store
from syncer.views.report import write_report
from syncer.views.status_html import render_status_page
from tests.browser.test_status_page_browser import serve

WIDTHS = (600, 1400)

# Elements whose right edge lies beyond the window: what makes a page scroll sideways.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName + '.' + (e.getAttribute('class') || ''))"""
CHART_WIDTHS = """() => [...document.querySelectorAll('svg.progress-chart')]
  .map(svg => svg.getBoundingClientRect().width)"""


@pytest.fixture(scope="module")
def report_file(filled_store: tuple[Settings, Store], tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings, store = filled_store
    with store.sessions() as session:
        return write_report(
            session, settings, tmp_path_factory.mktemp("report") / "report.html", now=datetime.now(UTC)
        )


def open_at(browser: Any, width: int, url: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    return page


def assert_fits(page: Any, width: int) -> None:
    assert page.evaluate("window.innerWidth") == width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(TOO_WIDE) == []
    charts = page.evaluate(CHART_WIDTHS)
    assert charts
    assert all(100 < chart <= width for chart in charts)


@pytest.mark.parametrize("width", WIDTHS)
def test_report_fits_the_window_and_names_every_line_of_its_charts(
    browser: Any, report_file: Path, width: int, tmp_path: Path
) -> None:
    page = open_at(browser, width, report_file.as_uri())
    try:
        assert_fits(page, width)
        charts = page.locator("svg.progress-chart").count()
        legends = page.locator("figure.chart ul.legend")
        assert legends.count() == charts
        texts = [legends.nth(n).inner_text() for n in range(charts)]
        assert all("Value now:" in text and "Target:" in text and "Today:" in text for text in texts)
        revenue = page.locator('article[id="q-revenue.revenue"] ul.legend').inner_text()
        assert "Value now: USD" in revenue
        assert "Pace: USD" in revenue
        rate = page.locator('article[id="retention.renewal-rate"] ul.legend').inner_text()
        assert "Pace" not in rate
        assert "Target: 85 %" in rate
        assert page.locator('article[id="q-revenue.revenue"] svg text.unit').text_content() == "USD"
        page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_status_page_fits_the_window(browser: Any, filled_store: tuple[Settings, Store], width: int) -> None:
    settings, store = filled_store
    with store.sessions() as session:
        html = render_status_page(session, settings, now=datetime.now(UTC))
    server, url = serve(html)
    page = open_at(browser, width, url)
    try:
        assert_fits(page, width)
        assert page.locator("ul.legend").count() == page.locator("svg.progress-chart").count()
    finally:
        page.close()
        server.shutdown()
        server.server_close()
