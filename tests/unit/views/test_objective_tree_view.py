"""The objective tree as people see it (README "Objective tree"): the page and the report nest each
child objective's section inside its parent's, under an outline of the tree with every score;
`okrsync status` indents children under their parent."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from io import StringIO

from syncer.views.console import print_status
from syncer.views.status_data import ObjectiveStatus, Status
from syncer.views.status_html import render_document
from syncer.views.terminal import SafeConsole

NOW = datetime(2026, 11, 16, 12, tzinfo=UTC)
OBJECTIVES = [  # tree order, as collect_status gives it
    ObjectiveStatus(
        "company", "Win the quarter", 0.6, (), depth=0, from_children="weighted", children=("emea",)
    ),
    ObjectiveStatus(
        "emea", "EMEA sales", 0.5, (), depth=1, parent="company", from_children="mean", children=("ana",)
    ),
    ObjectiveStatus("ana", "Ana's pipeline", None, (), depth=2, parent="emea"),
    ObjectiveStatus("ops", "Run a clean CRM", 0.9, ()),
]
STATUS = Status(generated_at=NOW, objectives=OBJECTIVES, runs=(), failed_writes=())


class Sections(HTMLParser):
    """Each objective section's id → the ids of the objective sections it sits in, outermost first."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.within: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "section":
            return
        named = dict(attrs)
        key = named.get("id") if named.get("class") == "objective" else None
        if key is not None:
            self.within[key] = [k for k in self.stack if k is not None]
        self.stack.append(key)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.stack.pop()


def test_the_page_nests_each_child_in_its_parents_section() -> None:
    html = render_document(STATUS, title="okrsync status")
    parser = Sections()
    parser.feed(html)
    assert parser.within == {"company": [], "emea": ["company"], "ana": ["company", "emea"], "ops": []}
    assert (
        html.index('id="company"') < html.index('id="emea"') < html.index('id="ana"') < html.index('id="ops"')
    )


def test_the_page_says_each_score_and_how_a_parent_is_scored() -> None:
    html = render_document(STATUS, title="OKR report")
    outline = html[html.index('<nav class="objective-tree">') : html.index("</nav>")]
    assert outline.count("<ul>") == 3  # company's list, emea's under it, ana's under that
    assert '<a href="#company">Win the quarter</a> <span class="score">score 0.60</span>' in outline
    assert "(weighted mean of 1 child objective)" in outline
    assert '<a href="#ana">Ana&#x27;s pipeline</a> <span class="score">score —</span>' in outline
    assert (
        'EMEA sales <span class="score">score 0.50</span> <span class="score">(mean of 1 child objective)'
        in html
    )


def test_a_page_without_parents_has_no_outline() -> None:
    flat = Status(generated_at=NOW, objectives=[OBJECTIVES[3]], runs=(), failed_writes=())
    assert "objective-tree" not in render_document(flat, title="okrsync status").split("<body>")[1]


def test_status_indents_children_under_their_parent() -> None:
    out = StringIO()
    print_status(SafeConsole(file=out, width=120, color_system=None), STATUS)
    lines = out.getvalue().splitlines()[:4]
    assert lines == [
        "Win the quarter  score 0.60  (weighted mean of 1 child objective)",
        "└ EMEA sales  score 0.50  (mean of 1 child objective)",
        "  └ Ana's pipeline  score —",
        "Run a clean CRM  score 0.90",
    ]
