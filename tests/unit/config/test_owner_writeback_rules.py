"""`match: owner` write-back may name per-owner, team, region and ungrouped key results; not attribute groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.config import load_settings
from syncer.errors import ConfigError

CONFIG = """\
version: 1
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth: {method: access_token, access_token: "${SF_TOKEN}"}
    owners: {team_field: Department}
    streams:
      deals: {object: Opportunity, attributes: {segment: Segment__c}}
objectives:
  - key: won
    period: current_quarter
    key_results:
      - key: kr
        metric: {kind: count, stream: deals, where: {is_won: true}}
        target: 10
GROUP
writeback:
  - source: sfdc
    object: User
    match: owner
    fields:
      Won__c: won.kr.value
"""


@pytest.mark.parametrize(
    "group", ["", "        group_by: owner", "        group_by: team", "        group_by: region"]
)
def test_a_reps_record_may_show_their_own_team_region_or_company_value(tmp_path: Path, group: str) -> None:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.replace("GROUP\n", group + "\n" if group else ""))
    settings = load_settings(path, {"SF_TOKEN": "t"})
    assert settings.writeback[0].fields == {"Won__c": "won.kr.value"}


def test_an_attribute_grouping_cannot_go_on_a_reps_record(tmp_path: Path) -> None:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.replace("GROUP", "        group_by: attributes.segment"))
    with pytest.raises(ConfigError, match=r"grouped by `attributes\.segment`: write it to a keyed target"):
        load_settings(path, {"SF_TOKEN": "t"})
