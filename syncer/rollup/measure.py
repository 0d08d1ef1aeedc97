"""measure: every key result's numbers for a cycle, reading each stream as few times as possible.

The requests (a metric over a period, with or without groups) are planned into passes (see
`passes`), each pass is one statement, and every request's total and groups are then
read from the pass results. Groups that do not add up across owners (distinct counts by
owner, team or region; any metric grouped by an attribute) get one statement each.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from syncer.rollup import owner_groups, passes
from syncer.rollup.expressions import prepare_connection
from syncer.rollup.metrics import Measurement, Request, finish, group_statement


def measure(session: Session, requests: Sequence[Request]) -> list[Measurement]:
    """Each request's raw total and group values, in the order of `requests`."""
    if not requests:
        return []
    prepare_connection(session)
    ctx = requests[0].query.ctx
    planned, places = passes.plan(requests)
    results = {id(pass_): passes.run(session, pass_, ctx) for pass_ in planned}
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
