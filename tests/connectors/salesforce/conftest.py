"""Fixtures for Salesforce connector unit tests: a `responses` mock of one org, injected sleep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from connectors.salesforce import SalesforceConnector
from syncer.config.models import SalesforceSource
from syncer.contract import Cursor, Page
from syncer.pull import pull_window
from syncer.records import StreamName
from tests.connectors.salesforce.builders import (
    API,
    HOST,
    OPPORTUNITY_FIELDS,
    TASK_FIELDS,
    TOKEN_URL,
    USER_FIELDS,
    describe,
    token_body,
)

SECRET = "SECRET-never-logged"
UNTIL = datetime(2026, 10, 5, 12, 0, 0, 250_000, tzinfo=UTC)  # a cycle start, with a fraction of a second


def make_source(**overrides: Any) -> SalesforceSource:
    data: dict[str, Any] = {
        "kind": "salesforce",
        "instance_url": HOST,
        "auth": {"method": "client_credentials", "client_id": "cid", "client_secret": SECRET},
        "streams": {
            "deals": {"object": "Opportunity"},
            "calls": {"object": "Task", "where": "TaskSubtype = 'Call'"},
            "renewals": {"object": "Opportunity", "where": "Type = 'Renewal'"},
        },
        "lookback_seconds": 0,  # exact resumes; the overlap window has its own tests
    }
    data.update(overrides)
    return SalesforceSource.model_validate(data)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def waits() -> list[float]:
    """What the retry policy would have slept: no test sleeps."""
    return []


@pytest.fixture
def org(rsps: responses.RequestsMock) -> responses.RequestsMock:
    """A token endpoint and the describes of Opportunity, Task and User."""
    rsps.post(TOKEN_URL, json=token_body())
    rsps.get(f"{API}/sobjects/Opportunity/describe/", json=describe("Opportunity", OPPORTUNITY_FIELDS))
    rsps.get(f"{API}/sobjects/Task/describe/", json=describe("Task", TASK_FIELDS))
    rsps.get(f"{API}/sobjects/User/describe/", json=describe("User", USER_FIELDS))
    return rsps


@pytest.fixture
def sf_connector(waits: list[float]) -> Iterator[SalesforceConnector]:
    connector = SalesforceConnector("sfdc", make_source(), sleep=waits.append)
    yield connector
    connector.close()


def pulled(
    connector: SalesforceConnector, stream: StreamName = "deals", since: Cursor | None = None
) -> list[Page]:
    """Every page of one pull up to UNTIL, under the engine's cursor rules."""
    return list(pull_window(connector, stream, since=since, until=UNTIL))


def soql_of(call: responses.Call) -> str:
    """The SOQL a query call sent."""
    return str(call.request.params["q"])  # type: ignore[attr-defined]
