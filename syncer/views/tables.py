"""Terminal tables that keep every number whole at 80 columns.

rich shrinks columns to fit the terminal and cuts what does not fit ("1,579,274…"). Here a
number column never shrinks below its widest cell, text columns wrap instead, and a column
holding the same value on every row is dropped and said once under the table, since it only
takes space from the columns that differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from syncer.views.terminal import plain

Cell = str | Text


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    numeric: bool = False  # right-aligned, never wrapped or cut
    whole: bool = False  # never wrapped or cut either: a short word (a status) reads badly broken
    constant_folds: bool = True  # dropped (and said once) when every row holds the same value


def fitted_table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> Group:
    """A table of `rows` under `columns`, laid out as the module docstring says, with its title
    above and the dropped columns below as lines of their own (a table's own title and caption
    would wrap at the width of a narrow table)."""
    kept = [i for i, column in enumerate(columns) if not (column.constant_folds and _constant(rows, i))]
    folded = [  # an empty column (no errors on any run) goes without a word
        f"{columns[i].name}: {_text(rows[0][i])}"
        for i in range(len(columns))
        if i not in kept and rows and _text(rows[0][i])
    ]
    table = Table()
    for i in kept:
        column = columns[i]
        if column.numeric or column.whole:
            widest = max((len(_text(row[i])) for row in rows), default=0)
            justify: JustifyMethod = "right" if column.numeric else "left"
            table.add_column(
                column.name, justify=justify, no_wrap=True, min_width=max(widest, len(column.name))
            )
        else:
            table.add_column(column.name, overflow="fold")
    for row in rows:
        table.add_row(*(row[i] if isinstance(row[i], Text) else plain(row[i]) for i in kept))
    lines: list[RenderableType] = [Text(title, style="italic"), table]
    return Group(*lines, plain("; ".join(folded))) if folded else Group(*lines)


def _constant(rows: Sequence[Sequence[Cell]], index: int) -> bool:
    return len(rows) > 1 and len({_text(row[index]) for row in rows}) == 1


def _text(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell
