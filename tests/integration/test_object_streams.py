"""Declared streams (README "Any object as a stream") through real cycles against both sandboxes.

- Salesforce Lead: "lead-to-opportunity conversion rate ≥ 25 %", the leads created this quarter
  and the share of them converted. The rate and progress written to OKR_Key_Result__c must be
  what this test works out from the sandbox's raw Lead rows; a lead converted after the first
  cycle must change them in the next one (an incremental pull by SystemModstamp).
- HubSpot meetings: "meetings booked +20 %" over last quarter. The count, the target (last
  quarter's count + 20 %) and the progress written to the key-result object must match the raw
  meetings; a meeting deleted (archived) after the first cycle drops out of the next one.

The expected values are computed in plain Python from the sandboxes' records, without okrsync's
mapping, SQL or scoring.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.demo import DemoOrg, start_demo_org
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.config import load_settings
from tests.integration.test_hubspot_cycle import KEY_RESULTS, ZONE, ensure_fields, next_second, sandbox_env
from tests.integration.test_hubspot_cycle import cycle as hub_cycle
from tests.integration.test_salesforce_cycle import current_quarter
from tests.integration.test_salesforce_cycle import cycle as sf_cycle

pytestmark = pytest.mark.integration
SALESFORCE = """\
version: 1
store: sqlite:///unused.db
timezone: America/New_York
sources:
  sfdc:
    kind: salesforce
    instance_url: ${OKRSYNC_SANDBOX_SF_URL}
    ca_bundle: ${OKRSYNC_SANDBOX_CA}
    auth:
      method: client_credentials
      client_id: ${OKRSYNC_SANDBOX_SF_CLIENT_ID}
      client_secret: ${OKRSYNC_SANDBOX_SF_CLIENT_SECRET}
    streams: {}
    object_streams:
      leads:
        object: Lead
        owner: OwnerId
        dates: {created: CreatedDate, converted: ConvertedDate}
        fields: {is_converted: IsConverted, status: Status}
objectives:
  - key: funnel
    key_results:
      - key: lead-conversion
        metric: {kind: ratio, stream: leads, numerator: {is_converted: true}, date: created}
        target: 0.25
      - key: converted
        metric: {kind: count, stream: leads, date: converted}
        target: 40
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Value__c: "*.value"
      Progress__c: "*.progress_pct"
"""
HUBSPOT = """\
version: 1
store: sqlite:///unused.db
timezone: America/New_York
sources:
  hub:
    kind: hubspot
    base_url: ${HS_URL}
    auth: {method: private_app, access_token: "${HS_TOKEN}"}
    deletes_every: 1s
    streams: {}
    object_streams:
      meetings:
        object: meetings
        owner: hubspot_owner_id
        dates: {starts: hs_meeting_start_time}
        fields: {outcome: hs_meeting_outcome}
objectives:
  - key: activity
    key_results:
      - key: meetings
        metric: {kind: count, stream: meetings, date: starts}
        baseline: previous_period
        target: "+20%"
writeback:
  - source: hub
    object: p_key_results
    upsert_on: okr_key
    fields:
      okr_name: "*.key"
      okr_value: "*.value"
      okr_target: "*.target"
      okr_progress: "*.progress_pct"
"""


@pytest.fixture
def demo() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle
        yield started


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(key_results_schema=True) as sandbox:
        yield sandbox


# ---------------------------------------------------------------- the independent computation


def _local_day(value: object) -> date:
    instant = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return instant.astimezone(ZONE).date()


def conversion(sf: SalesforceSandbox) -> tuple[float, int]:
    """(converted / created, converted) of the live leads created this quarter, and the leads
    converted this quarter, from the raw Lead rows."""
    start, end = current_quarter()
    live = [lead for lead in sf.org.records("Lead") if not lead["IsDeleted"]]
    created = [lead for lead in live if start <= _local_day(lead["CreatedDate"]) <= end]
    rate = sum(1 for lead in created if lead["IsConverted"]) / len(created)
    converted = sum(1 for lead in live if lead["ConvertedDate"] and start <= lead["ConvertedDate"] <= end)
    return rate, converted


def meetings_in(hs: HubSpotSandbox, start: date, end: date) -> int:
    return sum(
        1 for m in hs.records("meetings") if start <= _local_day(m.properties["hs_meeting_start_time"]) <= end
    )


def previous_quarter() -> tuple[date, date]:
    start, _ = current_quarter()
    end = start - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


def written_sf(sf: SalesforceSandbox, key: str) -> dict:
    return next(r for r in sf.org.records("OKR_Key_Result__c") if r["OKR_Key__c"] == key)


def written_hub(hs: HubSpotSandbox, key: str) -> dict:
    return next(r.properties for r in hs.records(KEY_RESULTS) if r.properties["okr_key"] == key)


# ---------------------------------------------------------------- tests


def test_lead_conversion_rate_written_to_salesforce_follows_the_leads(
    demo: DemoOrg, store_url: str, tmp_path: Path
) -> None:
    sf = demo.salesforce
    config = tmp_path / "leads.yaml"
    config.write_text(SALESFORCE)
    settings = load_settings(config, demo.env).model_copy(update={"store": store_url})

    report = sf_cycle(settings)

    assert report.exit_code == 0, report.errors
    rate, converted = conversion(sf)
    assert 0 < rate < 1
    assert converted > 0
    written = written_sf(sf, "funnel.lead-conversion")
    assert written["Value__c"] == pytest.approx(round(rate, 2), abs=1e-9)  # Value__c keeps 2 places
    assert written["Progress__c"] == pytest.approx(rate / 0.25 * 100, abs=0.051)  # one decimal place
    assert written_sf(sf, "funnel.converted")["Value__c"] == converted

    # A lead of this quarter is converted in the CRM: the next cycle reads it, and only it.
    start, end = current_quarter()
    lead = next(
        lead
        for lead in sf.org.records("Lead")
        if not lead["IsDeleted"]
        and not lead["IsConverted"]
        and start <= _local_day(lead["CreatedDate"]) <= end
    )
    today = datetime.now(ZONE).date()
    sf.org.update(
        "Lead", lead["Id"], {"IsConverted": True, "ConvertedDate": today, "Status": "Closed - Converted"}
    )
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)

    again = sf_cycle(settings)

    assert again.exit_code == 0, again.errors
    new_rate, new_converted = conversion(sf)
    assert new_rate > rate
    assert new_converted == converted + 1
    pulled = {s.stream: s for p in again.pulls for s in p.streams}
    assert pulled["leads"].changed == 1  # incremental: the one changed lead, not the whole object
    assert written_sf(sf, "funnel.lead-conversion")["Value__c"] == pytest.approx(round(new_rate, 2), abs=1e-9)
    assert written_sf(sf, "funnel.converted")["Value__c"] == new_converted


def test_meetings_booked_written_to_hubspot_follow_the_meetings(
    hs: HubSpotSandbox, store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "meetings.yaml"
    config.write_text(HUBSPOT)
    settings = load_settings(config, sandbox_env(hs)).model_copy(update={"store": store_url})
    ensure_fields(settings)
    next_second()

    report = hub_cycle(settings)

    assert report.exit_code == 0, report.errors
    this_quarter, last_quarter = meetings_in(hs, *current_quarter()), meetings_in(hs, *previous_quarter())
    assert this_quarter > 0
    assert last_quarter > 0
    target = last_quarter * 1.2
    written = written_hub(hs, "activity.meetings")
    assert float(written["okr_value"]) == this_quarter
    assert float(written["okr_target"]) == pytest.approx(target, abs=0.005)
    assert float(written["okr_progress"]) == pytest.approx(this_quarter / target * 100, abs=0.051)

    # A meeting of this quarter is deleted in HubSpot: the next cycle's archived listing drops it.
    start, end = current_quarter()
    meeting = next(
        m for m in hs.records("meetings") if start <= _local_day(m.properties["hs_meeting_start_time"]) <= end
    )
    hs.archive("meetings", meeting.id)
    time.sleep(1)  # `deletes_every: 1s`: the archived listing is due a second after the last one
    next_second()

    again = hub_cycle(settings)

    assert again.exit_code == 0, again.errors
    assert meetings_in(hs, *current_quarter()) == this_quarter - 1
    assert float(written_hub(hs, "activity.meetings")["okr_value"]) == this_quarter - 1
