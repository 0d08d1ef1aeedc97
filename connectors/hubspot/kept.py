"""A portal answer kept between runs and read again only when due or wrong.

Some HubSpot answers change seldom and cannot be asked whether they changed since a time: the deal
pipelines (`GET /crm/v3/pipelines/deals`, pipelines.py) and the account details (account.py). A copy
kept in the engine's store (`contract.MetadataCache`) is trusted for `every` (the source's
`deletes_every`, README) from the cycle that read it, so an unchanged portal costs one search per
object a cycle (issue #14). The portal is asked at most once per connector (one run).

A copy is dated by the cycle that read it (the pull's `until`), not by the wall clock, so the
interval runs on the same clock as the cursors and the archived sweep. A `pin` (a short hash of the
credential, never the secret) is kept with the copy: a copy read with another credential, which may
reach another portal, is never used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from syncer.contract import CachedMetadata, MetadataCache
from syncer.errors import RejectedRequestError

T = TypeVar("T")


class KeptAnswer(Generic[T]):
    """One portal answer as a connector uses it: a kept copy, or the portal's answer of this run."""

    def __init__(
        self,
        fetch: Callable[[], Any],
        cache: MetadataCache | None,
        *,
        key: str,
        parse: Callable[[Any], T],
        every: timedelta,
        pin: str | None = None,
    ) -> None:
        self._fetch = fetch  # one GET, its JSON body
        self._cache = cache
        self._key = key  # the answer's key in the source's metadata cache
        self._parse = parse
        self._every = every
        self._pin = pin
        self._current: T | None = None
        self._as_of: datetime | None = None  # the cycle that read the copy in use
        self._unkept: Any = None  # read in this run and not yet kept (no cycle to date it yet)
        self.fresh = False  # the copy in use is the portal's answer of this run

    def current(self) -> T:
        """The copy in use: the kept one if there is one, else the portal's (read now)."""
        if self._current is not None:
            return self._current
        kept = self._kept()
        if kept is None:
            return self.refresh()
        self._current = kept
        return kept

    def refresh(self) -> T:
        """The portal's answer, read in this run (once: later calls return that answer)."""
        if not self.fresh:
            raw = self._fetch()
            self._current, self._unkept, self._as_of, self.fresh = self._parse(raw), raw, None, True
        assert self._current is not None
        return self._current

    def for_pull(self, until: datetime, *, full: bool) -> T:
        """The copy a pull up to `until` uses: read again on a full pull or once `every` has
        passed since the kept copy's cycle; a copy read in this run is kept, dated `until`."""
        current = self.current()
        if not self.fresh and (full or self._as_of is None or until - self._as_of >= self._every):
            current = self.refresh()
        self.keep(until)
        return current

    def keep(self, until: datetime) -> None:
        """Keep the answer read in this run for later runs, as current at the cycle `until`."""
        if self._unkept is None:
            return
        if self._cache is not None:
            body = self._unkept if self._pin is None else {"pin": self._pin, "answer": self._unkept}
            self._cache.put(self._key, CachedMetadata(body=json.dumps(body), as_of=until))
        self._unkept, self._as_of = None, until

    def _kept(self) -> T | None:
        entry = self._cache.get(self._key) if self._cache is not None else None
        if entry is None:
            return None
        try:
            raw = json.loads(entry.body)
            if self._pin is not None:
                if not isinstance(raw, dict) or raw.get("pin") != self._pin:
                    return None  # read with another credential: ask the portal
                raw = raw.get("answer")
            parsed = self._parse(raw)
        except (ValueError, RejectedRequestError):  # not ours, cut short, refused by `parse`: ask
            return None
        self._as_of = entry.as_of
        return parsed
