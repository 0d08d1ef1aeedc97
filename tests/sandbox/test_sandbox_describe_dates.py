"""The sandbox answers If-Modified-Since on describes as Salesforce documents (docs/crm-apis.md §1.12).

304 with no body when nothing described changed since the date; 200 with the describe when it
did; Describe Global looks at every object. Dates are HTTP dates in the sandbox clock's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import requests

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.clients import NOW, fetch_token, open_session

API = "/services/data/v59.0"


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=NOW) as sandbox:  # frozen clock; seeded metadata a day older
        yield sandbox


def get(sb: SalesforceSandbox, path: str, since: datetime | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {fetch_token(sb)}"}
    if since is not None:
        headers["If-Modified-Since"] = format_datetime(since, usegmt=True)
    return open_session(sb).get(f"{sb.instance_url}{API}/{path}", headers=headers)


def test_every_answer_is_dated_by_the_sandbox_clock(sb: SalesforceSandbox) -> None:
    answer = get(sb, "sobjects/Task/describe")

    assert parsedate_to_datetime(answer.headers["Date"]) == NOW


def test_an_unchanged_object_answers_304_without_a_body(sb: SalesforceSandbox) -> None:
    before = get(sb, "sobjects/Task/describe", since=NOW - timedelta(hours=1))

    assert before.status_code == 304
    assert before.content == b""
    assert get(sb, "sobjects/Task/describe", since=NOW - timedelta(days=2)).status_code == 200


def test_a_changed_object_answers_200_from_the_moment_of_its_change(sb: SalesforceSandbox) -> None:
    seen = get(sb, "sobjects/Task/describe")
    sb.clock.advance(timedelta(minutes=5))
    sb.schema.add_field("Task", "Call_Queue__c", "string", length=80)  # at NOW + 5 min
    sb.clock.advance(timedelta(minutes=5))

    changed = get(sb, "sobjects/Task/describe", since=NOW)
    later = get(sb, "sobjects/Task/describe", since=NOW + timedelta(minutes=5))

    assert seen.status_code == 200
    assert changed.status_code == 200
    assert "Call_Queue__c" in {field["name"] for field in changed.json()["fields"]}
    assert later.status_code == 304  # the change is dated when it happened, to the second
    assert get(sb, "sobjects/Opportunity/describe", since=NOW).status_code == 304


def test_describe_global_answers_304_only_when_no_object_changed(sb: SalesforceSandbox) -> None:
    assert get(sb, "sobjects/", since=NOW).status_code == 304
    sb.clock.advance(timedelta(minutes=5))
    sb.schema.update_field("User", "Department", updateable=False)  # access changes count too

    answer = get(sb, "sobjects/", since=NOW)

    assert answer.status_code == 200
    assert "sobjects" in answer.json()
    assert get(sb, "sobjects/", since=NOW + timedelta(minutes=5)).status_code == 304
