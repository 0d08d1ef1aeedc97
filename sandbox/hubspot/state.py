"""The sandbox state the route handlers read and change."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.hubspot.auth import TokenStore
from sandbox.hubspot.faults import FaultPlan
from sandbox.hubspot.limits import RateLimits
from sandbox.hubspot.portal import Portal
from sandbox.hubspot.request_log import RequestLog


@dataclass(slots=True)
class SandboxState:
    portal: Portal
    tokens: TokenStore
    limits: RateLimits
    faults: FaultPlan
    log: RequestLog
    base_url: str = ""  # http://127.0.0.1:PORT, for paging links
