"""What reaches a terminal or a log line: text from CRMs and configs, shown as text and nothing else.

A team name, an error message from a CRM or a value from the YAML may hold rich markup (`[/]`,
`[link=…]`) or escape sequences (`\\x1b[2J`). `SafeConsole` never reads markup or emoji codes in
strings and escapes every control character, so such a value is printed as written; okrsync's own
colours are `Text` styles. `escape_controls` does the same for log lines.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

# C0, DEL and C1 controls, and the bidirectional overrides and isolates that reorder what a
# terminal shows ("Trojan Source"): none of them is ever meant as text in a CRM value.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What a rendered segment may still hold: rich itself splits lines at "\n" before rendering.
_RENDERED_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    char = match[0]
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\n`, `\\u202e`)."""
    return _CONTROLS.sub(_escaped, text)


def plain(value: object, style: str | Style = "") -> Text:
    """A value from a CRM or a config as a rich `Text`: never markup, controls escaped."""
    text = value if isinstance(value, str) else str(value)
    return Text(escape_controls(text), style=style)


def joined(parts: Iterable[tuple[object, str] | object]) -> Text:
    """Plain text pieces, each optionally `(value, style)`, as one `Text`."""
    text = Text()
    for part in parts:
        value, style = part if isinstance(part, tuple) else (part, "")
        text.append_text(plain(value, style))
    return text


class SafeConsole(Console):
    """A rich Console for text that may come from a CRM or a config.

    Strings are never parsed as markup or emoji codes, and control characters are escaped:
    before layout for strings (table cells, messages), and again in whatever a renderable
    yields, so a `Text` built elsewhere cannot reach the terminal with an escape sequence.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(
            **{"highlight": False, "soft_wrap": True, **options, "markup": False, "emoji": False}
        )

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(escape_controls(text), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _RENDERED_CONTROLS.search(segment.text):
                text = _RENDERED_CONTROLS.sub(_escaped, segment.text)
                yield Segment(text, segment.style, segment.control)
            else:
                yield segment


def print_error(message: str) -> None:
    """One line on stderr, `okrsync: <message>`, controls escaped: what cron mail and `kubectl logs` show."""
    print(f"okrsync: {escape_controls(message)}", file=sys.stderr)
