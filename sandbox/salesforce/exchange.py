"""One REST exchange as the route handlers see it, and the sandbox state they work on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.salesforce.bulk_jobs import BulkJobs
from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.faults import FaultPlan
from sandbox.salesforce.limits import ApiUsage
from sandbox.salesforce.metadata_dates import MetadataDates
from sandbox.salesforce.oauth import OAuthEndpoint
from sandbox.salesforce.org import Org
from sandbox.salesforce.query_cursors import QueryCursors
from sandbox.salesforce.request_log import RequestLog
from sandbox.salesforce.tokens import TokenStore

METADATA_BASELINE = datetime(2020, 1, 1, tzinfo=UTC)  # a state built without a date for its metadata


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A parsed request: `resource` is the path after `/services/data/vNN.N/`, without slashes around."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    version: str = ""
    resource: str = ""
    route: dict[str, str] = field(default_factory=dict)  # named parts of the matched route

    def json(self) -> Any:
        """The JSON body; 400 JSON_PARSER_ERROR when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(
                400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {error}"
            ) from None

    def url_prefix(self) -> str:
        return f"/services/data/v{self.version}"


@dataclass(slots=True)
class ApiResponse:
    status: int
    body: Any = None  # JSON-able; None with 204; bytes are sent as they are (Bulk CSV)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Permissions:
    """Permission sets: the fields each grants edit access to, and which are assigned to whom."""

    grants: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    assigned: set[tuple[str, str]] = field(default_factory=set)  # (permission set id, user id)


@dataclass(slots=True)
class SandboxState:
    """Everything the routes read and change."""

    org: Org
    tokens: TokenStore
    oauth: OAuthEndpoint
    usage: ApiUsage
    log: RequestLog
    faults: FaultPlan
    cursors: QueryCursors
    permissions: Permissions = field(default_factory=lambda: Permissions())
    bulk_jobs: BulkJobs = field(default_factory=lambda: BulkJobs())  # Bulk API 2.0 (bulk_api.py)
    # When each object's describe last changed (If-Modified-Since, describe.py).
    metadata_dates: MetadataDates = field(default_factory=lambda: MetadataDates(METADATA_BASELINE))
