"""measure: every key result's numbers for a cycle, reading each stream as few times as possible.

The requests (a metric over a period, with or without groups) are planned into passes (see
`passes`), each pass is one statement, and every request's total and groups are then
read from the pass results. Groups that do not add up across owners (distinct counts by
owner, team or region; any metric grouped by an attribute) get one statement each.

Passes are independent reads: with `connections` > 1 they run at once, each on a connection
of its own from the session's engine (SQLite and psycopg both release the GIL while a
statement runs), so deals and calls are read side by side on two cores. On SQLite, a pass
that reads its whole table is cut into rowid ranges (`passes.parts`) whose results add up,
so the cores stay busy until the last part; PostgreSQL splits a statement across cores by
itself (parallel query). Such a connection sees committed rows only, which is why it is the
caller's choice: the worker's cycle commits its pulls before the rollup, and holds the store's
lease, so no other cycle writes while the parts are read; a caller holding uncommitted rows
keeps the default.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from syncer.rollup import owner_groups, passes
from syncer.rollup.expressions import SqlContext, prepare_connection, sorts_on_one_thread
from syncer.rollup.metrics import Measurement, Request, finish, group_statement

# Connections a worker's rollup reads with: one per core, up to one per pass worth running.
ROLLUP_CONNECTIONS = max(1, min(4, os.cpu_count() or 1))


def measure(session: Session, requests: Sequence[Request], *, connections: int = 1) -> list[Measurement]:
    """Each request's raw total and group values, in the order of `requests`."""
    if not requests:
        return []
    prepare_connection(session)
    ctx = requests[0].query.ctx
    planned, places = passes.plan(requests)
    results = dict(zip(map(id, planned), _run_passes(session, planned, ctx, connections), strict=True))
    grouped = [request for request in requests if request.adds_up and request.group_by]
    owners = owner_groups.load_owners(session, grouped[0].query.teams) if grouped else {}
    measurements = []
    for request, place in zip(requests, places, strict=True):
        metric, result = request.query.metric, results[id(place.pass_)]
        total = result.total(place)
        groups = {}
        if request.group_by and request.adds_up:
            folded = owner_groups.fold(result.owners(place), owners, request.group_by, request.query.sources)
            groups = {key: finish(p.num, p.den, metric) for key, p in folded.items()}
        elif request.group_by:
            rows = session.execute(group_statement(request.query, request.period, request.group_by))
            groups = {str(row.group_key): finish(row.num, row.den, metric) for row in rows}
        measurements.append(Measurement(total=finish(total.num, total.den, metric), groups=groups))
    return measurements


def _run_passes(
    session: Session, planned: list[passes.Pass], ctx: SqlContext, connections: int
) -> list[passes.PassResult]:
    engine = session.get_bind()
    url = engine.engine.url  # the session may be bound to an engine or to one of its connections
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    alone = connections <= 1 or in_memory  # another connection to an in-memory store: another database
    parts = [part for pass_ in planned for part in passes.parts(session, pass_, ctx, split=not alone)]
    if alone or len(parts) <= 1:
        results = [passes.run(session, part) for part in parts]
    else:

        def run_alone(part: passes.Part) -> passes.PassResult:
            with Session(engine.engine) as own, sorts_on_one_thread(own):
                prepare_connection(own)
                return passes.run(own, part)

        # The largest parts first (a distinct pass is read whole), so the connections finish together.
        parts.sort(key=lambda part: -part.size)
        with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="rollup") as pool:
            results = list(pool.map(run_alone, parts))
    by_pass: dict[int, list[passes.PassResult]] = {id(pass_): [] for pass_ in planned}
    for part, result in zip(parts, results, strict=True):
        by_pass[id(part.pass_)].append(result)
    return [passes.combined(by_pass[id(pass_)]) for pass_ in planned]
