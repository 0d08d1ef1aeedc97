"""Generated orgs, a full cycle each, every written field against the oracle's computation.

`OKRSYNC_DIFFERENTIAL_ORGS=1000` runs 1,000 orgs per CRM (default 50);
`OKRSYNC_DIFFERENTIAL_SEED=17` runs that one seed, to reproduce a failure. With a PostgreSQL
server (`OKRSYNC_TEST_PG_SERVER`), every fifth org runs on PostgreSQL too (its local dates are
SQL of their own).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.differential.harness import Crm, describe, run_scenario
from tests.differential.scenario import generate

pytestmark = pytest.mark.differential


# Seeds beyond the first 50 that once found a product bug, kept in every run.
REGRESSIONS = {
    # progress_pct 366000.0 did not fit the Percent(7, 2) field `fields ensure` created: Salesforce
    # refused the rep's whole User record (NUMBER_OUTSIDE_VALID_RANGE).
    # 692 / 83: a team whose reps have all left lost its last deal between two cycles; its keyed
    # record kept the old value (the write-back now blanks a group the rollup no longer yields).
    "salesforce": [99, 692],
    "hubspot": [83],
}


def seeds(crm: str) -> list[int]:
    one = os.environ.get("OKRSYNC_DIFFERENTIAL_SEED")
    if one:
        return [int(one)]
    count = int(os.environ.get("OKRSYNC_DIFFERENTIAL_ORGS", "50"))
    return [*range(count), *(seed for seed in REGRESSIONS[crm] if seed >= count)]


@pytest.mark.parametrize("seed", seeds("salesforce"))
def test_salesforce_org_matches_the_oracle(salesforce_crm: Crm, seed: int, tmp_path: Path) -> None:
    outcome = run_scenario(salesforce_crm, generate(seed, "salesforce"), tmp_path)
    assert not outcome.mismatches, describe(outcome)


@pytest.mark.parametrize("seed", seeds("hubspot"))
def test_hubspot_org_matches_the_oracle(hubspot_crm: Crm, seed: int, tmp_path: Path) -> None:
    outcome = run_scenario(hubspot_crm, generate(seed, "hubspot"), tmp_path)
    assert not outcome.mismatches, describe(outcome)


@pytest.mark.parametrize("seed", seeds("salesforce")[::5])
def test_salesforce_org_on_postgresql(
    salesforce_crm: Crm, seed: int, tmp_path: Path, pg_store_url: str
) -> None:
    scenario = generate(seed, "salesforce")
    outcome = run_scenario(salesforce_crm, scenario, tmp_path, store_url=pg_store_url)
    assert not outcome.mismatches, describe(outcome)


@pytest.mark.parametrize("seed", seeds("hubspot")[::5])
def test_hubspot_org_on_postgresql(hubspot_crm: Crm, seed: int, tmp_path: Path, pg_store_url: str) -> None:
    outcome = run_scenario(hubspot_crm, generate(seed, "hubspot"), tmp_path, store_url=pg_store_url)
    assert not outcome.mismatches, describe(outcome)
