"""A tiny fake HubSpot portal on 127.0.0.1 for connector unit tests (hubspot-api-client uses
urllib3, so `responses` cannot stand in; docs/architecture.md "Tests").

Serves list, search (filters, one ascending sort, the 10,000-result cap as a 400), pipelines,
owners, batch update/upsert (207 for inputs in `failing`), the OAuth token endpoint, and answers
scripted in `faults` before anything else. Records every request in `requests`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SEARCH_CAP = 10_000


@dataclass
class Fault:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    path_contains: str = ""


@dataclass
class Portal:
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archived: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    owners: list[dict[str, Any]] = field(default_factory=list)
    archived_owners: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    tokens: list[str] = field(default_factory=lambda: ["tok-1"])
    valid_tokens: set[str] = field(default_factory=lambda: {"private-token", "tok-1"})
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    written: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.requests if method is None or m == method]


_MS_CACHE: dict[str, int] = {}


def _ms(row: dict[str, Any]) -> int:
    text = row["properties"]["hs_lastmodifieddate"]
    if text not in _MS_CACHE:
        _MS_CACHE[text] = int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    return _MS_CACHE[text]


def _matches(row: dict[str, Any], flt: dict[str, Any]) -> bool:
    value = row["properties"].get(flt["propertyName"]) if flt["propertyName"] != "hs_object_id" else row["id"]
    if flt["propertyName"] == "hs_lastmodifieddate":
        left: Any = _ms(row)
    else:
        left = int(value)
    right = int(flt["value"])
    return {"GTE": left >= right, "LT": left < right, "EQ": left == right, "GT": left > right}[
        flt["operator"]
    ]


def _search(portal: Portal, kind: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    after = int(body.get("after") or 0)
    limit = int(body["limit"])
    if after + limit > SEARCH_CAP:
        return 400, {"status": "error", "message": "paging beyond 10000", "category": "VALIDATION_ERROR"}
    rows = [
        r
        for r in portal.objects.get(kind, [])
        if all(_matches(r, f) for f in body["filterGroups"][0]["filters"])
    ]
    sort = body["sorts"][0]["propertyName"]
    rows.sort(key=(lambda r: int(r["id"])) if sort == "hs_object_id" else _ms)
    chunk = rows[after : after + limit]
    answer: dict[str, Any] = {"total": len(rows), "results": chunk}
    if after + limit < len(rows):
        answer["paging"] = {"next": {"after": str(after + limit)}}
    return 200, answer


def _list(rows: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    after = int(query.get("after", ["0"])[0])
    limit = int(query.get("limit", ["10"])[0])
    answer: dict[str, Any] = {"results": rows[after : after + limit]}
    if after + limit < len(rows):
        answer["paging"] = {"next": {"after": str(after + limit)}}
    return answer


def _batch(portal: Portal, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    results, errors = [], []
    for item in body["inputs"]:
        if item["id"] in portal.failing:
            errors.append(
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "bad",
                    "context": {"ids": [item["id"]]},
                }
            )
            continue
        portal.written.append(item)
        props = dict(item["properties"])
        if action == "upsert":
            props[item["idProperty"]] = item["id"]
        results.append({"id": "9" + item["id"] if action == "upsert" else item["id"], "properties": props})
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        answer |= {"numErrors": len(errors), "errors": errors}
    return (207 if errors else 200), answer


def route(portal: Portal, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    if path == "/oauth/v1/token":
        return 200, {"access_token": portal.tokens.pop(0), "expires_in": 1800, "token_type": "bearer"}
    if path.startswith("/crm/v3/pipelines/deals"):
        return 200, {"results": portal.pipelines}
    if path.startswith("/crm/v3/owners"):
        archived = query.get("archived", ["false"])[0] == "true"
        return 200, _list(portal.archived_owners if archived else portal.owners, query)
    if parts[:3] == ["crm", "v3", "properties"]:
        if method == "GET":
            return 200, {"results": portal.properties.get(parts[3], [])}
        return 201, body
    if parts[:3] == ["crm", "v3", "objects"]:
        kind = parts[3]
        if parts[4:] == ["search"]:
            return _search(portal, kind, body)
        if parts[4:5] == ["batch"]:
            return _batch(portal, parts[5], body)
        archived = query.get("archived", ["false"])[0] == "true"
        return 200, _list((portal.archived if archived else portal.objects).get(kind, []), query)
    return 404, {"status": "error", "message": f"no route {path}", "category": "OBJECT_NOT_FOUND"}


class _Handler(BaseHTTPRequestHandler):
    portal: Portal

    def log_message(self, *args: Any) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = parse_qs(raw.decode())
        self.portal.requests.append((self.command, url.path, body))
        status, answer, headers = self._answer(url.path, parse_qs(url.query), body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        portal = self.portal
        fault = next((f for f in portal.faults if f.path_contains in path), None)
        if fault is not None:
            portal.faults.remove(fault)
            return fault.status, fault.body, fault.headers
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if path != "/oauth/v1/token" and token not in portal.valid_tokens:
            return 401, {"status": "error", "message": "expired", "category": "EXPIRED_AUTHENTICATION"}, {}
        status, answer = route(portal, self.command, path, query, body)
        return status, answer, {}

    do_GET = do_POST = do_PATCH = _serve  # noqa: N815 - the names http.server dispatches to


@contextmanager
def serve(portal: Portal) -> Iterator[Portal]:
    handler = type("Handler", (_Handler,), {"portal": portal})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
