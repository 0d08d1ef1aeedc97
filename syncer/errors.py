"""Every exception okrsync raises on purpose, grouped by what happens next.

OkrsyncError
├── ConfigError             ops must fix the YAML or env   → exit 2, no CRM touched
├── CrmError                a CRM call failed (source, status)
│   ├── TransientCrmError   429, 5xx, timeouts (.retry_after) → retried with backoff
│   ├── AuthExpiredError    token expired or revoked       → refresh once, then retry
│   ├── QuotaExhaustedError API budget or daily limit      → stop this source for this run
│   ├── RejectedRequestError always fails as sent          → fail this stream, go on
│   └── SourceUnreachableError DNS, refused, TLS, proxy     → not retried; the source stops for this cycle
│       └── TransientTransportError timeout, reset (also a TransientCrmError) → retried, then as above
├── BadRecordError          a record cannot be mapped      → count, log, skip
└── StoreError              database failure → exit 1, one line; LeaseHeldError: another worker has this cycle
    ├── StoreUnavailableError cannot connect, disk full, read-only
    │   └── StoreConnectionLostError the connection dropped mid-transaction → transaction retried
    ├── StoreConflictError  serialization failure, deadlock, SQLite locked → transaction retried
    ├── StoreDataError      a value or row the store refuses  → the record is quarantined
    └── StoreSchemaError    the schema is older, newer or of unknown version
    (TransientStoreError is the base of the two retried kinds)

Messages never carry tokens, headers, query strings or record bodies.
"""

from __future__ import annotations

from dataclasses import dataclass


class OkrsyncError(Exception):
    """Base of every error okrsync raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake in the YAML: where it is and how to fix it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ConfigError(OkrsyncError):
    """The YAML or its environment is wrong; carries every problem found, not only the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class OrgMismatchError(ConfigError):
    """A source name this store knows as one CRM org now reaches another: nothing is pulled or written."""


class CrmError(OkrsyncError):
    """A CRM call failed."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.source = source
        self.status = status
        self.code = code
        detail = ", ".join(part for part in (f"HTTP {status}" if status else "", code or "") if part)
        super().__init__(f"{source}: {message}" + (f" ({detail})" if detail else ""))


class TransientCrmError(CrmError):
    """429, 5xx, timeouts: worth retrying, after `retry_after` seconds when the CRM said so."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, source=source, status=status, code=code)
        self.retry_after = retry_after


class AuthExpiredError(CrmError):
    """The token expired or was revoked: re-authenticate once, then replay the call."""


class AuthFailedError(CrmError):
    """The credentials were refused: nothing to retry until ops fix them."""


class QuotaExhaustedError(CrmError):
    """The API budget or the CRM's daily limit is used up: stop this source for this run."""


class RejectedRequestError(CrmError):
    """The CRM refuses the request as sent (bad query, unknown field): retrying cannot help."""


class SourceUnreachableError(CrmError):
    """The CRM's host cannot be reached (DNS, refused, TLS, proxy): retrying cannot help this cycle.

    Also what a timeout or reset becomes once its retries run out (TransientTransportError). The
    cycle sends nothing more to the source; its unsent writes stay pending for the next cycle.
    `address` is the `host:port` that failed, `cause` the plain-words reason.
    """

    def __init__(self, message: str, *, source: str, address: str, cause: str) -> None:
        super().__init__(message, source=source)
        self.address = address
        self.cause = cause


class TransientTransportError(SourceUnreachableError, TransientCrmError):
    """A connect or read timeout, a reset: retried with backoff like any TransientCrmError."""


class BadRecordError(OkrsyncError):
    """A CRM record that cannot be mapped to a canonical record; counted, logged, skipped."""

    def __init__(
        self,
        stream: str,
        record_id: str | None,
        reason: str,
        *,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.stream = stream
        self.record_id = record_id
        self.reason = reason
        self.field = field  # the canonical field at fault, when one is (kept in quarantine)
        self.value = value  # the raw value at fault; never logged, excerpted into quarantine
        super().__init__(f"{stream} record {record_id or '?'}: {reason}")


class StoreError(OkrsyncError):
    """The store failed."""


class LeaseHeldError(StoreError):
    """Another worker holds the cycle lease for this store."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or written: no connection, connection lost, disk full, read-only."""


class TransientStoreError(StoreError):
    """A store failure that the same transaction, run again from its start, may not meet."""


class StoreConnectionLostError(StoreUnavailableError, TransientStoreError):
    """The connection dropped (server restart, terminated backend): the transaction was rolled back."""


class StoreConflictError(TransientStoreError):
    """The database aborted the transaction to keep others consistent (serialization failure,
    deadlock) or could not lock it in time (SQLite `database is locked`)."""


class StoreDataError(StoreError):
    """The store refuses a value or row as sent (out of range, too long, a broken constraint)."""

    def __init__(self, message: str, *, driver_error: str) -> None:
        super().__init__(message)
        self.driver_error = driver_error  # the driver's exception class name, e.g. NumericValueOutOfRange


class StoreMissingError(StoreError):
    """A command that only reads the store found none at its URL (it creates none)."""


class StoreSchemaError(StoreError):
    """The store's schema is not the one this okrsync knows: older, newer, or of unknown version."""


class OutputError(OkrsyncError):
    """A file okrsync was asked to write (`report -o`) cannot be written there → exit 2, nothing written."""
