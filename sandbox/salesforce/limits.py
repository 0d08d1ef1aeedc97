"""The org's daily API request allocation, as `Sforce-Limit-Info` and `/limits` report it (§1.6)."""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_DAILY_LIMIT = 100_000


class ApiUsage:
    """Counts REST calls against the daily allocation; thread-safe."""

    def __init__(self, *, maximum: int = DEFAULT_DAILY_LIMIT, used: int = 0) -> None:
        self._lock = threading.Lock()
        self.maximum = maximum
        self.used = used

    def set(self, *, maximum: int | None = None, used: int | None = None) -> None:
        with self._lock:
            self.maximum = self.maximum if maximum is None else maximum
            self.used = self.used if used is None else used

    def consume(self) -> bool:
        """Count one call; False (and nothing counted) once the allocation is used up."""
        with self._lock:
            if self.used >= self.maximum:
                return False
            self.used += 1
            return True

    def header(self) -> str:
        """The `Sforce-Limit-Info` header value, e.g. `api-usage=18/100000`."""
        with self._lock:
            return f"api-usage={self.used}/{self.maximum}"

    def limits_body(self) -> dict[str, Any]:
        """The `GET /limits` body: DailyApiRequests from the counter, the rest untouched allocations."""
        with self._lock:
            remaining = max(self.maximum - self.used, 0)
        return {
            "DailyApiRequests": {"Max": self.maximum, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 10_000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DataStorageMB": {"Max": 1_024, "Remaining": 1_000},
            "SingleEmail": {"Max": 5_000, "Remaining": 5_000},
        }
