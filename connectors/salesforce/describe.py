"""Object describes: once per run, and across runs only when the org says the object changed.

A describe kept from an earlier run (`MetadataCache`, the engine's) is checked, not fetched
again (docs/crm-apis.md §1.12):
- once per run, one `GET sobjects/` (Describe Global) with `If-Modified-Since` set to the oldest
  kept describe's date; 304 Not Modified means no object of the org changed since, permissions
  and profiles included, so every kept describe holds for the run: one call for all objects;
- otherwise each object is asked on its own with `GET sobjects/{name}/describe` and
  `If-Modified-Since`: 304 keeps the describe (and moves its date on), 200 brings the new one.
Dates are the org's own (`Date` response header), never this machine's clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.util import exception_handler

from connectors.salesforce import soql
from connectors.salesforce.client import REQUEST_TIMEOUT, OrgClient
from connectors.salesforce.mapping import ObjectDescription, to_description
from syncer.contract import CachedMetadata, MetadataCache
from syncer.errors import RejectedRequestError, TransientCrmError

NOT_MODIFIED = 304
# HTTP dates have whole seconds: a change in the same second as the answer a describe was kept
# from would compare equal to it. Asking from one second earlier costs at most one describe too
# many, never a change missed.
DATE_MARGIN = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Answer:
    """One conditional GET: `body` (None for 304 Not Modified) and the org's `Date` of it."""

    body: str | None
    date: datetime
    parsed: Any = None  # the body as JSON


class Describer:
    """The describes of one connector (one run): each object is asked at most once a run."""

    def __init__(
        self,
        client: OrgClient,
        cache: MetadataCache | None,
        *,
        objects: Callable[[], Collection[str]],
        api_version: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._cache = cache
        self._objects = objects  # every object the source's config names: checked together
        self._version = api_version
        self._clock = clock  # only when an answer carries no Date header
        self._run: dict[str, ObjectDescription | RejectedRequestError] = {}
        self._unchanged_since: datetime | None = None  # Describe Global answered 304 for it
        self._global_asked = False

    def describe(self, object_name: str) -> ObjectDescription:
        """The object's describe; RejectedRequestError (404) when the object is unknown or unreadable."""
        key = object_name.lower()
        if key not in self._run:
            try:
                self._run[key] = self._fetch(object_name)
            except RejectedRequestError as exc:
                if exc.status != 404:
                    raise
                self._run[key] = exc  # asked once a run, like a describe that succeeds
        found = self._run[key]
        if isinstance(found, RejectedRequestError):
            raise found
        return found

    def forget(self, object_names: Collection[str]) -> None:
        """Describe these objects afresh, this run and the next (their fields or access changed)."""
        for name in object_names:
            self._run.pop(name.lower(), None)
            if self._cache is not None:
                self._cache.forget(self._key(name))

    def _fetch(self, object_name: str) -> ObjectDescription:
        name = soql.check_identifier(object_name, source=self._client.source, what="object")
        path = f"sobjects/{name}/describe/"
        kept = self._cache.get(self._key(name)) if self._cache is not None else None
        if kept is not None and self._holds(kept):
            return to_description(json.loads(kept.body))
        answer = self._conditional(f"describe {name}", path, kept.as_of if kept else None, object_name=name)
        if answer.body is None and kept is not None:
            assert self._cache is not None
            self._cache.confirm(self._key(name), answer.date)
            return to_description(json.loads(kept.body))
        if answer.body is None:  # 304 to a request without If-Modified-Since: not Salesforce
            raise TransientCrmError(f"describe {name} answered 304 unasked", source=self._client.source)
        if self._cache is not None:
            self._cache.put(self._key(name), CachedMetadata(answer.body, answer.date))
        return to_description(answer.parsed)

    def _holds(self, kept: CachedMetadata) -> bool:
        """Whether Describe Global vouches for `kept`: asked once a run, from the oldest kept date."""
        if not self._global_asked:
            self._global_asked = True
            dates = [entry.as_of for name in self._objects() if (entry := self._kept(name)) is not None]
            since = min([*dates, kept.as_of])
            if self._conditional("describe global", "sobjects/", since, parse=False).body is None:
                self._unchanged_since = since
        return self._unchanged_since is not None and kept.as_of >= self._unchanged_since

    def _kept(self, object_name: str) -> CachedMetadata | None:
        return self._cache.get(self._key(object_name)) if self._cache is not None else None

    def _conditional(
        self,
        operation: str,
        path: str,
        since: datetime | None,
        *,
        object_name: str | None = None,
        parse: bool = True,
    ) -> Answer:
        headers = {} if since is None else {"If-Modified-Since": http_date(since - DATE_MARGIN)}
        try:
            return self._client.call(operation, _get(path, headers, self._clock, parse=parse))
        except RejectedRequestError as exc:
            if exc.status != 404 or object_name is None:
                raise
            raise RejectedRequestError(
                f"object `{object_name}` does not exist or the integration user cannot read it",
                source=self._client.source,
                status=404,
                code=exc.code,
            ) from exc

    def _key(self, object_name: str) -> str:
        # Per API version: a describe's shape may differ between versions.
        return f"describe/v{self._version}/{object_name.lower()}"


def http_date(instant: datetime) -> str:
    """`Wed, 03 Jul 2013 19:43:31 GMT`: the `EEE, dd MMM yyyy HH:mm:ss z` Salesforce asks for."""
    return format_datetime(instant.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _get(
    path: str, headers: dict[str, str], clock: Callable[[], datetime], *, parse: bool
) -> Callable[[Salesforce], Answer]:
    def run(sf: Salesforce) -> Answer:
        # restful() raises on every status of 300 or more, 304 included, and drops the headers.
        response = sf.session.request(
            "GET", sf.base_url + path, headers={**sf.headers, **headers}, timeout=REQUEST_TIMEOUT
        )
        if response.status_code != NOT_MODIFIED and response.status_code >= 300:
            exception_handler(response, name=path)  # the errors simple-salesforce raises
        limit_info = response.headers.get("Sforce-Limit-Info")
        if limit_info:  # what _call_salesforce does for every other call (docs/crm-apis.md §1.6)
            sf.api_usage = sf.parse_api_usage(limit_info)
        if response.status_code == NOT_MODIFIED:
            return Answer(None, _date(response, clock))
        if not parse:  # Describe Global's list of every object: only its status matters
            return Answer("", _date(response, clock))
        # A 200 that is not JSON (a proxy page) raises requests' JSONDecodeError: transient.
        return Answer(response.text, _date(response, clock), response.json())

    return run


def _date(response: requests.Response, clock: Callable[[], datetime]) -> datetime:
    raw: Any = response.headers.get("Date")
    try:
        parsed = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return clock()
    return parsed.astimezone(UTC)
