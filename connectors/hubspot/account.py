"""The portal behind a source: its portal id and company currency, from the account-info API.

`GET /account-info/v3/details` answers `portalId`, `companyCurrency`, `additionalCurrencies`,
`timeZone`, …; okrsync reads deal amounts from `amount_in_home_currency`, which HubSpot keeps in
the company currency, so that currency is the source's home currency. One call per run.
"""

from __future__ import annotations

from typing import Any

from connectors.hubspot.client import RAW, Apis, PortalClient
from syncer.contract import SourceIdentity
from syncer.errors import RejectedRequestError

ACCOUNT_DETAILS_PATH = "/account-info/v3/details"


def read_identity(client: PortalClient) -> SourceIdentity:
    """The portal id and company currency; RejectedRequestError when the answer has no portal id."""
    raw = client.call("read account details", _account_details)
    return to_identity(raw, source=client.source)


def to_identity(raw: Any, *, source: str) -> SourceIdentity:
    fields = raw if isinstance(raw, dict) else {}
    portal = fields.get("portalId")
    if portal is None or isinstance(portal, bool) or str(portal).strip() == "":
        raise RejectedRequestError("the account-info API returned no portalId", source=source)
    currency = fields.get("companyCurrency")
    home = str(currency) if isinstance(currency, str) and currency else None
    extra = [str(c) for c in fields.get("additionalCurrencies") or [] if isinstance(c, str) and c != home]
    notes = [f"portal {portal}, company currency {home or 'unknown'}"]
    if extra:
        notes.append(
            f"multi-currency portal ({', '.join(extra)}): amounts come from amount_in_home_currency, "
            "HubSpot's conversion into the company currency"
        )
    return SourceIdentity(org_id=str(portal), home_currency=home, notes=tuple(notes))


def _account_details(api: Apis) -> Any:
    # The generated client has no account-info API; any sub-client's ApiClient sends an
    # authenticated GET to the same host (and raises its ApiException, which `translated` maps).
    return api.owners.api_client.call_api(
        ACCOUNT_DETAILS_PATH,
        "GET",
        {},
        [],
        {"Accept": "application/json"},
        auth_settings=["oauth2"],
        _return_http_data_only=True,
        **RAW,
    )
