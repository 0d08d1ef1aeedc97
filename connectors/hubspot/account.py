"""The portal behind a source: its portal id and company currency, from the account-info API.

`GET /account-info/v3/details` answers `portalId`, `companyCurrency`, `additionalCurrencies`,
`timeZone`, …; okrsync reads deal amounts from `amount_in_home_currency`, which HubSpot keeps in
the company currency, so that currency is the source's home currency.

The answer is kept between runs (kept.py) with a pin of the credential it was read with: a
private app's token, or an OAuth refresh token, belongs to one portal, so while the pin is the same
the portal is too, and a cycle need not ask (issue #14: an unchanged portal costs one search per
object). Another token or base URL reads it before the pull, so the engine's check that the store
belongs to this portal still holds; a company currency change is seen when the copy is due again
(`deletes_every`) and recorded by the next cycle.
"""

from __future__ import annotations

import hashlib
from typing import Any

from connectors.hubspot.client import RAW, Apis, PortalClient
from syncer.config.models import HubSpotSource, PrivateApp
from syncer.contract import SourceIdentity
from syncer.errors import RejectedRequestError

ACCOUNT_DETAILS_PATH = "/account-info/v3/details"
KEY = "account details"  # this source's key in the metadata cache (kept.py)
PIN_HEX_DIGITS = 16  # enough to tell credentials apart; too short to test guesses of a token against


def credential_pin(config: HubSpotSource) -> str:
    """A short SHA-256 of the base URL and the credential that names one portal (never the secret)."""
    auth = config.auth
    secret = auth.access_token if isinstance(auth, PrivateApp) else auth.refresh_token
    text = f"{config.base_url.rstrip('/')}\n{secret.get_secret_value()}"
    return hashlib.sha256(text.encode()).hexdigest()[:PIN_HEX_DIGITS]


def read_details(client: PortalClient) -> Any:
    """The account details as the portal answers them (JSON)."""
    return client.call("read account details", _account_details)


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
