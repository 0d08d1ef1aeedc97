"""The sample org's sales quotas, CRM-neutral: what each rep must sell, month by month or per quarter.

Both sandboxes load these (Salesforce as ForecastingQuota, HubSpot as goal_targets), so a key result
with `target: {from: crm_quota}` or `{from: crm_goal}` has the same per-rep targets in either CRM.

- Every active rep in a sales team has a revenue quota and a new-deal quota for each quarter from
  the previous one to the next one, except the last active rep, who has none (a rep without a
  quota: `okrsync check` lists them).
- The first active rep's quotas are set per quarter, the others' per month, as sales teams mix both.
- Amounts differ by rep and by month, so a sum taken over the wrong months shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sandbox.sample_calendar import add_quarters
from sandbox.sample_records import SampleOrg

REVENUE_GOAL = "Quarterly revenue quota"  # HubSpot's hs_goal_name of the revenue goal_targets
DEALS_GOAL = "New deals quota"


@dataclass(frozen=True, slots=True)
class SampleQuota:
    """One rep's quota for one span: a month (`months` 1) or a quarter (3) starting on `start`."""

    owner_key: str
    start: date
    months: int
    amount: Decimal  # revenue, in the org's home currency
    deals: int  # new-business deals to win

    @property
    def end(self) -> date:
        """The span's last day."""
        month = self.start.month - 1 + self.months
        following = date(self.start.year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)


def quota_reps(sample: SampleOrg) -> list[str]:
    """The keys of the active reps in a sales team, in the sample's order."""
    return [user.key for user in sample.users if user.active and user.team is not None]


def rep_without_quota(sample: SampleOrg) -> str:
    """The one active rep the sample gives no quota."""
    return quota_reps(sample)[-1]


def sample_quotas(sample: SampleOrg) -> list[SampleQuota]:
    """Every quota of the sample org, rep by rep, oldest first."""
    reps = quota_reps(sample)[:-1]
    quarters = [add_quarters(sample.calendar.quarter_start, n) for n in (-1, 0, 1)]
    quotas: list[SampleQuota] = []
    for ordinal, rep in enumerate(reps):
        monthly = Decimal(40_000 + 10_000 * (ordinal % 4))
        for quarter in quarters:
            if ordinal == 0:
                quotas.append(SampleQuota(rep, quarter, 3, monthly * 3 + 7_500, 3 + ordinal % 3 * 3))
                continue
            for month in range(3):
                start = date(quarter.year, quarter.month + month, 1)
                quotas.append(SampleQuota(rep, start, 1, monthly + 2_500 * month, 1 + (ordinal + month) % 3))
    return quotas
