"""One HTTP exchange as the route handlers see it, and HubSpot's error envelope.

Errors are `{status: "error", message, correlationId, category}` (docs/crm-apis.md §3.8); rate-limit
errors carry `errorType`/`policyName` instead of a category (§3.7).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any


def correlation_id() -> str:
    return str(uuid.uuid4())


class HubSpotError(Exception):
    """An error answer: raised by handlers, turned into a response by the server."""

    def __init__(
        self, status: int, message: str, *, category: str | None = "VALIDATION_ERROR", **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": correlation_id()}
        if self.category is not None:
            body["category"] = self.category
        return body | self.extra


def validation_error(message: str, **extra: Any) -> HubSpotError:
    return HubSpotError(400, message, category="VALIDATION_ERROR", **extra)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A parsed request; `route` holds the named parts of the matched path."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    route: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None

    def csv_param(self, name: str) -> list[str] | None:
        """A list parameter, sent either as `a,b` or repeated (the Python client repeats it)."""
        values = self.params.get(name)
        if values is None:
            return None
        return [part for value in values for part in value.split(",") if part]

    def json(self) -> Any:
        """The JSON body; 400 when it is not JSON."""
        try:
            return json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise validation_error(f"Invalid input JSON on line 1: {error}") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected an object")
        return body


@dataclass(slots=True)
class ApiResponse:
    status: int
    body: Any = None  # JSON-able; None: no body
    headers: dict[str, str] = field(default_factory=dict)


def error_response(error: HubSpotError) -> ApiResponse:
    return ApiResponse(error.status, error.body(), dict(error.headers))
