"""The sandbox refuses a request URI over 16,384 bytes with 414, as the REST API does."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from sandbox.salesforce import SalesforceSandbox


def in_list(n: int) -> str:
    return ", ".join(f"'nobody{i:06d}@example.com'" for i in range(n))


def test_a_query_whose_uri_is_too_long_is_refused_with_414(client: Salesforce, sf: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceError) as refused:
        client.query(f"SELECT Id FROM User WHERE Email IN ({in_list(600)})")  # ~21,000 bytes encoded
    assert refused.value.status == 414
    assert sf.requests[-1].status == 414

    assert client.query(f"SELECT Id FROM User WHERE Email IN ({in_list(300)})")["totalSize"] == 0
