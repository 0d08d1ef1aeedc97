"""How the status page, the report and their charts write a key result's numbers.

One unit per key result, from its metric: money (a sum or average of `amount`, with the home
currency `syncer.currencies` gave it), a percent (a ratio: 0.85 reads 85 %), days (`avg_days`),
a count, or a plain number. `full` writes a value as the page's headline and tables do;
`axis_labels` writes a chart's ticks the same way, shortened (412k, 1.25M) since they are many;
`short` writes one value as the legend does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from syncer import currencies

UnitKind = Literal["money", "percent", "days", "count", "number"]
SUFFIXES = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))
SHORTEN_FROM = Decimal(10_000)  # below this a tick keeps its digits: 2,500, not 2.5k


@dataclass(frozen=True, slots=True)
class Unit:
    kind: UnitKind
    currency: str | None = None

    @property
    def caption(self) -> str:
        """What a chart writes once above its value axis: the currency, or "days"."""
        if self.kind == "money":
            return self.currency or ""
        return "days" if self.kind == "days" else ""


PLAIN = Unit("number")
COUNT = Unit("count")


def unit_of(metric_kind: str, currency: str | None) -> Unit:
    """A key result's unit from its metric kind and its value's currency (None: no money)."""
    if currency is not None:
        return Unit("money", currency)
    match metric_kind:
        case "ratio":
            return Unit("percent")
        case "avg_days":
            return Unit("days")
        case "count" | "distinct_count":
            return COUNT
        case _:
            return PLAIN


def full(value: Decimal | None, unit: Unit) -> str:
    """A value as the page writes it: "USD 1,579,274.74", "82.3 %", "58.25 days", "1,204"."""
    if value is None:
        return "—"
    if unit.kind == "money":
        return currencies.format_amount(value, unit.currency) or _grouped(value)
    if unit.kind == "percent":
        return f"{value * 100:,.1f} %"
    return f"{_grouped(value)} days" if unit.kind == "days" else _grouped(value)


def short(value: Decimal | None, unit: Unit) -> str:
    """One value, shortened for a legend: "USD 575k", "85 %", "60 days", "40"."""
    if value is None:
        return "—"
    scale, suffix = (Decimal(100), " %") if unit.kind == "percent" else (Decimal(1), "")
    number = value * scale
    if unit.kind != "percent" and abs(number) >= SHORTEN_FROM:
        divisor, suffix = next((d, s) for d, s in SUFFIXES if abs(number) >= d)
        number = _significant(number / divisor, 3)
    else:
        number = number.quantize(Decimal("0.1") if unit.kind == "percent" else Decimal("0.01"))
    label = f"{number:,.{_places(number)}f}{suffix}"
    if unit.kind == "money" and unit.currency:
        return f"{unit.currency} {label}"
    return f"{label} days" if unit.kind == "days" else label


def axis_labels(ticks: Sequence[Decimal], unit: Unit) -> list[str]:
    """Tick labels, all with the same suffix and as many decimals as the step between ticks needs.

    A percent is written ×100 with " %"; from 10,000 up, numbers shorten to the largest of
    k, M or B in which the step needs at most one decimal (0, 0.5M, 1.0M, 1.5M, 2.0M; but 0,
    250k, 500k, 750k, 1,000k); money leaves its currency to the axis caption. Zero is "0" (or "0 %").
    """
    if not ticks:
        return []
    scale, suffix = (Decimal(100), " %") if unit.kind == "percent" else (Decimal(1), "")
    scaled = [tick * scale for tick in ticks]
    step = min((abs(b - a) for a, b in pairwise(scaled)), default=abs(scaled[0]))
    if unit.kind != "percent" and max(abs(tick) for tick in scaled) >= SHORTEN_FROM:
        biggest = max(abs(tick) for tick in scaled)
        divisor, shortened = next(
            ((d, s) for d, s in SUFFIXES if biggest >= d and _places(step / d) <= 1), (Decimal(1), "")
        )
        scaled, suffix, step = [tick / divisor for tick in scaled], shortened, step / divisor
    places = max(_places(number) for number in (*scaled, step))  # the same decimals on every tick
    zero = "0 %" if unit.kind == "percent" else "0"  # not "0k" or "0.0M"
    return [f"{tick:,.{places}f}{suffix}" if tick else zero for tick in scaled]


def _places(number: Decimal) -> int:
    """The decimals `number` needs (trailing zeros dropped), at most four."""
    exponent = number.normalize().as_tuple().exponent
    return min(4, max(0, -exponent)) if isinstance(exponent, int) else 0


def _significant(number: Decimal, digits: int) -> Decimal:
    """`number` rounded to `digits` significant digits: 412.3456 → 412, 1.2345 → 1.23."""
    if not number:
        return number
    return number.quantize(Decimal(1).scaleb(number.adjusted() - digits + 1))


def _grouped(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
