"""Builders for rollup tests: store rows by plain inserts, and Settings from YAML snippets.

Every row has documented defaults; a test names only what it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy import insert
from sqlalchemy.orm import Session

from syncer.config.models import Settings
from syncer.store.tables import CallRow, DealRow, OwnerRow, RenewalRow

MODIFIED_AT = datetime(2026, 1, 1, tzinfo=UTC)
ATTRIBUTES = {
    "segment": "Segment__c",
    "seats": "Seats__c",
    "strategic": "Strategic__c",
    "signed": "Signed__c",
}

# A won, closed new-business deal in Salesforce with no owner, amount or dates.
DEAL_DEFAULTS: dict[str, Any] = {
    "source": "sfdc",
    "owner_id": None,
    "account_id": None,
    "amount": None,
    "currency": "USD",
    "stage": "Closed Won",
    "pipeline": "default",
    "type": "new",
    "is_closed": True,
    "is_won": True,
    "created_at": None,
    "close_date": None,
    "modified_at": MODIFIED_AT,
    "deleted": False,
    "attributes": {},
}
CALL_DEFAULTS: dict[str, Any] = {
    "source": "sfdc",
    "owner_id": None,
    "occurred_at": None,
    "duration_seconds": None,
    "outcome": "connected",
    "direction": "outbound",
    "modified_at": MODIFIED_AT,
    "deleted": False,
    "attributes": {},
}
RENEWAL_DEFAULTS: dict[str, Any] = {
    "source": "sfdc",
    "owner_id": None,
    "account_id": None,
    "amount": None,
    "due_date": None,
    "status": "open",
    "closed_at": None,
    "modified_at": MODIFIED_AT,
    "deleted": False,
    "attributes": {},
}


def _money(fields: dict[str, Any]) -> dict[str, Any]:
    amount = fields.get("amount")
    if amount is not None and not isinstance(amount, Decimal):
        fields["amount"] = Decimal(str(amount))
    return fields


@dataclass
class Rows:
    """Inserts rows into the store the way the pull would leave them."""

    session: Session

    def owner(
        self,
        id: str,
        email: str | None = None,
        *,
        source: str = "sfdc",
        active: bool = True,
        team: str | None = None,
        region: str | None = None,
    ) -> None:
        row = {
            "source": source,
            "id": id,
            "name": id,
            "email": email.lower() if email else None,  # the pull stores e-mails lower-case
            "active": active,
            "team": team,
            "region": region,
            "record_id": f"U-{id}",
            "modified_at": MODIFIED_AT,
        }
        self.session.execute(insert(OwnerRow), [row])

    def deal(self, id: str, **fields: Any) -> None:
        self.session.execute(insert(DealRow), [_money({**DEAL_DEFAULTS, "id": id, **fields})])

    def call(self, id: str, **fields: Any) -> None:
        self.session.execute(insert(CallRow), [{**CALL_DEFAULTS, "id": id, **fields}])

    def renewal(self, id: str, **fields: Any) -> None:
        self.session.execute(insert(RenewalRow), [_money({**RENEWAL_DEFAULTS, "id": id, **fields})])


def sources() -> dict[str, Any]:
    """sfdc pulls every stream; hub pulls deals and renewals but no calls."""
    return {
        "sfdc": {
            "kind": "salesforce",
            "instance_url": "https://example.my.salesforce.com",
            "auth": {"method": "access_token", "access_token": "token"},
            "streams": {
                "deals": {"object": "Opportunity", "attributes": ATTRIBUTES},
                "calls": {"object": "Task"},
                "renewals": {"object": "Opportunity"},
            },
        },
        "hub": {
            "kind": "hubspot",
            "auth": {"method": "private_app", "access_token": "token"},
            "streams": {"deals": {}, "renewals": {"pipelines": ["renewals"]}},
        },
    }


def settings_with(objectives: list[dict[str, Any]], **overrides: Any) -> Settings:
    """Settings with the test sources (New York time unless overridden) and these objectives."""
    document = {"version": 1, "timezone": "America/New_York", "sources": sources(), "objectives": objectives}
    return Settings.model_validate({**document, **overrides})


def settings_from(objectives_yaml: str, **overrides: Any) -> Settings:
    """Settings with the objectives written as in the YAML ops write."""
    return settings_with(yaml.safe_load(objectives_yaml), **overrides)


def key_result_settings(metric: dict[str, Any], **key_result: Any) -> Settings:
    """Settings with one objective `o` holding one key result `kr` over `metric`.

    `period` and `settings` (overrides of the Settings document) are taken out of the
    key-result fields; the target is 1 unless given.
    """
    period = key_result.pop("period", "current_quarter")
    overrides = key_result.pop("settings", {})
    kr = {"key": "kr", "metric": metric, "target": 1, **key_result}
    return settings_with([{"key": "o", "period": period, "key_results": [kr]}], **overrides)
