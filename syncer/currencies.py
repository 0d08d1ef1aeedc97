"""Money carries its currency: a key result over amounts is in the home currency of its sources.

A sum or average of `amount` is money; its currency is the home currency the store recorded for
the sources the key result reads (Salesforce: the corporate currency; HubSpot: the company
currency). When those sources disagree, adding their amounts would mix currencies: such a key
result is not snapshotted or written (its CRM fields keep their last values), and the run reports
why, so a wrong sum never reaches a rep. Counts, durations and ratios (amount-weighted ones
included) have no currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.config.models import AvgMetric, KeyResult, Settings, SumMetric
from syncer.staleness import reading_sources
from syncer.store import identities
from syncer.values import KeyResultValue

MONEY_FIELD = "amount"


def is_money(kr: KeyResult) -> bool:
    metric = kr.metric
    return isinstance(metric, SumMetric | AvgMetric) and metric.field == MONEY_FIELD


def key_result_currency(
    settings: Settings, kr: KeyResult, homes: Mapping[str, str | None]
) -> tuple[str | None, str | None]:
    """(currency, problem): the sources' shared home currency, or a sentence saying they disagree.

    Sources the store has not identified yet do not count; no identified source gives no currency.
    """
    if not is_money(kr):
        return None, None
    found = {name: homes[name] for name in reading_sources(settings, kr) if name in homes}
    codes = set(found.values())
    if len(codes) <= 1:
        return (next(iter(codes)) if codes else None), None
    listed = ", ".join(f"{code or 'unconverted'} ({name})" for name, code in sorted(found.items()))
    return None, (
        f"key result {{}} adds amounts in different currencies: {listed}; not written. "
        "Give it a `source` filter, or convert the sources to one home currency"
    )


def with_currencies(
    session: Session, settings: Settings, values: Sequence[KeyResultValue]
) -> tuple[list[KeyResultValue], list[str]]:
    """`values` with each money value's currency set, minus the key results that mix currencies,
    and one problem sentence per key result left out."""
    homes = identities.home_currencies(session)
    currency: dict[tuple[str, str], str | None] = {}
    problems: dict[tuple[str, str], str] = {}
    for objective in settings.objectives:
        for kr in objective.key_results:
            code, problem = key_result_currency(settings, kr, homes)
            currency[(objective.key, kr.key)] = code
            if problem:
                problems[(objective.key, kr.key)] = problem.format(f"{objective.key}.{kr.key}")
    kept = [
        replace(value, currency=currency.get((value.objective, value.key_result)))
        for value in values
        if (value.objective, value.key_result) not in problems
    ]
    return kept, list(problems.values())


def format_amount(value: Decimal | float | None, currency: str | None) -> str | None:
    """Money as "USD 1,579,274.74" with a currency; None when `value` is no money (caller formats)."""
    if value is None or currency is None:
        return None
    return f"{currency} {Decimal(str(value)):,.2f}"
