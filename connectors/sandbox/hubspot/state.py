"""The sandbox state the route handlers read and change."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.sandbox.hubspot.auth import TokenStore
from connectors.sandbox.hubspot.faults import FaultPlan
from connectors.sandbox.hubspot.limits import RateLimits
from connectors.sandbox.hubspot.portal import Portal
from connectors.sandbox.hubspot.request_log import RequestLog


@dataclass(slots=True)
class SandboxState:
    portal: Portal
    tokens: TokenStore
    limits: RateLimits
    faults: FaultPlan
    log: RequestLog
    base_url: str = ""  # http://127.0.0.1:PORT, for paging links
