"""Both mappings read a CRM instant's calendar day in the YAML's zone; a calendar day stays as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.hubspot import mapping as hs
from connectors.salesforce import mapping as sf
from syncer.config.models import HubSpotStream
from syncer.records import Deal, Renewal

TOKYO, LOS_ANGELES = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles")
MODIFIED = "2026-04-02T00:00:00Z"
WON = hs.Pipelines(stages={("renewals", "won"): hs.Stage(is_closed=True, is_won=True)})


def _hs(stream: Any, zone: ZoneInfo, **props: Any) -> Any:
    plan = hs.plan_stream(stream, HubSpotStream(), WON, zone=zone)
    row = {"id": "1", "properties": {"hs_lastmodifieddate": MODIFIED, **props}}
    return hs.to_record("hub", row, plan, pipelines=WON)


@pytest.mark.parametrize(
    ("closedate", "zone", "day"),
    [
        ("2026-03-31T15:30:00Z", TOKYO, date(2026, 4, 1)),  # 00:30 on 1 April in Tokyo
        ("2026-03-31T15:30:00Z", LOS_ANGELES, date(2026, 3, 31)),  # 08:30 on 31 March in LA
        ("2026-04-01T06:30:00.000Z", LOS_ANGELES, date(2026, 3, 31)),  # 23:30 on 31 March in LA
        ("1774971000000", TOKYO, date(2026, 4, 1)),  # the same instant as epoch milliseconds
        ("2026-03-31", TOKYO, date(2026, 3, 31)),  # a `date` property: a day in no zone
        ("2026-03-31", LOS_ANGELES, date(2026, 3, 31)),
    ],
)
def test_hubspot_closedate_is_its_local_day(closedate: str, zone: ZoneInfo, day: date) -> None:
    deal = _hs("deals", zone, closedate=closedate)
    assert isinstance(deal, Deal)
    assert deal.close_date == day


def test_hubspot_renewal_closed_at_is_the_closedate_instant() -> None:
    renewal = _hs(
        "renewals", LOS_ANGELES, closedate="2026-03-31T15:30:00Z", pipeline="renewals", dealstage="won"
    )
    assert isinstance(renewal, Renewal)
    assert (renewal.due_date, renewal.status) == (date(2026, 3, 31), "renewed")
    assert renewal.closed_at == datetime(2026, 3, 31, 15, 30, tzinfo=UTC)


PATHS = {"id": "Id", "modified_at": "SystemModstamp", "close_date": "CloseDate", "due_date": "CloseDate",
         "is_closed": "IsClosed", "is_won": "IsWon"}  # fmt: skip


def _sf(stream: Any, zone: ZoneInfo, close: str) -> Any:
    row = {"Id": "006A", "SystemModstamp": "2026-04-02T00:00:00.000+0000", "CloseDate": close,
           "IsClosed": True, "IsWon": True}  # fmt: skip
    page = sf.to_page("sfdc", stream, [row], sf.RowMap(PATHS, {}, zone), start=None)
    assert not page.rejected, page.rejected
    return page.records[0]


@pytest.mark.parametrize(
    ("close", "zone", "day"),
    [
        ("2026-03-31", TOKYO, date(2026, 3, 31)),  # CloseDate is a date: as it is, in every zone
        ("2026-03-31", LOS_ANGELES, date(2026, 3, 31)),
        ("2026-03-31T15:30:00.000+0000", TOKYO, date(2026, 4, 1)),  # a datetime mapped onto close_date
        ("2026-04-01T06:30:00.000+0000", LOS_ANGELES, date(2026, 3, 31)),
    ],
)
def test_salesforce_dates_stay_and_datetimes_take_their_local_day(
    close: str, zone: ZoneInfo, day: date
) -> None:
    assert _sf("deals", zone, close).close_date == day


@pytest.mark.parametrize(
    ("zone", "closed_at"),
    [
        (LOS_ANGELES, datetime(2026, 4, 1, 7, 0, tzinfo=UTC)),  # midnight PDT; midnight UTC is 31 March there
        (TOKYO, datetime(2026, 3, 31, 15, 0, tzinfo=UTC)),
    ],
)
def test_salesforce_renewal_closes_at_local_midnight_of_its_close_date(
    zone: ZoneInfo, closed_at: datetime
) -> None:
    renewal = _sf("renewals", zone, "2026-04-01")
    assert isinstance(renewal, Renewal)
    assert renewal.closed_at == closed_at
    assert renewal.closed_at.astimezone(zone).date() == date(2026, 4, 1)
