"""Errors the Salesforce sandbox answers with, shaped as Salesforce sends them (docs/crm-apis.md §1.7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ApiError(Exception):
    """A request-level REST error: HTTP `status` and the body `[{"message", "errorCode"}]`."""

    def __init__(self, status: int, error_code: str, message: str, *, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = tuple(fields)

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields:
            error["fields"] = list(self.fields)
        return [error]


class RecordError(Exception):
    """A per-record save error (sObject Collections results use `statusCode`, §1.4)."""

    def __init__(self, status_code: str, message: str, *, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.fields = tuple(fields)

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "message": self.message, "fields": list(self.fields)}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def malformed_query(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)
