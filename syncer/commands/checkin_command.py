"""`okrsync checkin`: a value for a manual key result, or a note on any key result.

README "Check-ins and manual key results". A key result is named as everywhere else
(`okrsync status`, write-back expressions): `objective.key_result`. The check-in goes to the
store only (`syncer.store.checkins`); the next cycle scores it and writes it back like any value.

A key result computed from CRM records takes notes only: `--value` on one is refused (exit 2),
since a number typed there would be shown nowhere and overwritten by the next cycle.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from syncer.commands.invocation import Cli
from syncer.commands.store_commands import _read_only
from syncer.config.models import KeyResult, ManualMetric, Objective, Settings
from syncer.config.violations import suggest
from syncer.cycle import EXIT_CONFIG, EXIT_OK
from syncer.rollup.periods import resolve_period
from syncer.rollup.scoring import MEASURE_LIMIT
from syncer.store import checkins, snapshots
from syncer.store.checkins import Checkin
from syncer.store.database import Store, open_store
from syncer.store.transaction import transaction
from syncer.views.terminal import print_error

USER_VARIABLE = "OKRSYNC_USER"  # who checks in, when --by is not given (else the OS user)
NOTE_LIMIT = 2000  # a weekly comment, not a document: the page shows it in a table cell


class CheckinRefusedError(Exception):
    """A check-in that cannot be stored as asked; the message says how to fix it."""


def value_text(text: str) -> Decimal:
    """`--value`: a finite number that fits a key-result value (argparse shows the message)."""
    try:
        number = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number: write it like 2 or 0.75") from None
    if not number.is_finite() or abs(number) >= MEASURE_LIMIT:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number a key result can hold")
    return number


def checkin_command(cli: Cli) -> int:
    args, out = cli.args, cli.out
    settings, url = _read_only(cli)
    try:
        author = author_of(args.by, os.environ)
        checkin = new_checkin(
            settings, args.key_result, value=args.value, group=args.group, note=args.note, author=author
        )
    except CheckinRefusedError as exc:
        print_error(str(exc))
        return EXIT_CONFIG
    store = open_store(url, on_new=cli.announce_new_store)
    try:
        line = store_checkin(store, settings, checkin)
    except CheckinRefusedError as exc:
        print_error(str(exc))
        return EXIT_CONFIG
    finally:
        store.close()
    out.print(line, markup=False, highlight=False)
    return EXIT_OK


def new_checkin(
    settings: Settings,
    path: str,
    *,
    value: Decimal | None,
    group: str | None,
    note: str | None,
    author: str,
    now: datetime | None = None,
) -> Checkin:
    """The check-in `okrsync checkin PATH` makes, checked against the YAML; CheckinRefusedError
    says what to fix."""
    objective, kr = find_key_result(settings, path)
    note = _note(note)
    if value is None and note is None:
        raise CheckinRefusedError(f"checkin {path}: give --value N, --note TEXT, or both")
    if not isinstance(kr.metric, ManualMetric) and value is not None:
        raise CheckinRefusedError(
            f"{objective.key}.{kr.key} is computed from CRM records, so a value cannot be checked in "
            "(the next cycle would replace it): drop --value to add a note, or make it "
            "`metric: {kind: manual}` in the YAML"
        )
    now = now or datetime.now(UTC)
    period = resolve_period(
        objective.period,
        now=now,
        zone=settings.zone,
        fiscal_year_start_month=settings.fiscal_year_start_month,
    )
    key = _group(kr, f"{objective.key}.{kr.key}", group)
    return Checkin(objective.key, kr.key, key, period, value, note, author, now)


def store_checkin(store: Store, settings: Settings, checkin: Checkin) -> str:
    """Record `checkin` and return the line that confirms it (what it superseded, if anything)."""
    kr = settings.key_result(checkin.objective, checkin.key_result)
    manual = kr is not None and isinstance(kr.metric, ManualMetric)
    if not manual and checkin.group_key:  # a note on a rep of a CRM key result: one the rollup knows
        known = transaction(
            store, lambda session: _known_groups(session, checkin.objective, checkin.key_result)
        )
        if known and checkin.group_key not in known:
            raise CheckinRefusedError(_unknown_group(checkin.key, checkin.group_key, sorted(known)))
    earlier, _ = transaction(store, lambda session: _record(session, checkin))
    return _confirmation(checkin, earlier, manual=manual, zone=settings.zone)


def find_key_result(settings: Settings, path: str) -> tuple[Objective, KeyResult]:
    """The key result `objective.key_result` names; CheckinRefusedError listing the valid ones."""
    objective_key, _, kr_key = path.partition(".")
    for objective in settings.objectives:
        if objective.key == objective_key:
            kr = next((k for k in objective.key_results if k.key == kr_key), None)
            if kr is not None:
                return objective, kr
    valid = [f"{o.key}.{k.key}" for o in settings.objectives for k in o.key_results]
    raise CheckinRefusedError(
        f"no key result `{path}`; name one as objective.key_result: {', '.join(valid) or 'the YAML has none'}."
        + suggest(path, valid)
    )


def author_of(by: str | None, env: Mapping[str, str]) -> str:
    """`--by`, else $OKRSYNC_USER, else the operating-system user."""
    for name in (by, env.get(USER_VARIABLE)):
        if name and name.strip():
            return name.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container's numeric user): say who
        raise CheckinRefusedError(f"who is checking in? give --by NAME or set {USER_VARIABLE}") from None


def _note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > NOTE_LIMIT:
        raise CheckinRefusedError(f"the note has {len(text)} characters: keep it to {NOTE_LIMIT}")
    return text.strip()


def _group(kr: KeyResult, path: str, group: str | None) -> str:
    """'' for the total; a rep's e-mail (lower-case) for a key result grouped by owner."""
    if group is None:
        return ""
    if kr.group_by is None:
        raise CheckinRefusedError(f"{path} is not grouped: drop --group to check in its total")
    key = group.strip().lower() if kr.group_by == "owner" else group.strip()
    if isinstance(kr.metric, ManualMetric):
        reps = sorted(email.strip().lower() for email in (kr.owner_targets or {}))
        if key not in reps:
            raise CheckinRefusedError(_unknown_group(path, group, reps))
    return key


def _unknown_group(path: str, group: str, valid: Sequence[str]) -> str:
    return (
        f"{path} has no group `{group}`; its groups are: {', '.join(valid)} (or drop --group for the total)"
    )


def _known_groups(session: Session, objective: str, key_result: str) -> set[str]:
    """The groups the last cycle computed for a CRM key result (empty before its first cycle)."""
    latest = snapshots.latest_values(session)
    return {
        v.group_key for v in latest if (v.objective, v.key_result) == (objective, key_result) and v.group_key
    }


def _record(session: Session, checkin: Checkin) -> tuple[Checkin | None, int]:
    """The check-in it supersedes (the group's latest with a value, if any), and the new one's id."""
    earlier = None
    if checkin.value is not None:
        listed = checkins.history(session, checkin.objective, checkin.key_result, checkin.period)
        earlier = next((c for c in listed if c.group_key == checkin.group_key and c.value is not None), None)
    return earlier, checkins.record(session, checkin)


def _confirmation(checkin: Checkin, earlier: Checkin | None, *, manual: bool, zone: tzinfo) -> str:
    group = checkin.group_key or "total"
    when = f"{checkin.checked_in_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    if not manual:
        return (
            f"note added to {checkin.key} ({group}) by {checkin.author} at {when}; its value is unchanged: "
            "it is computed from CRM records"
        )
    if checkin.value is None:
        return f"note added to {checkin.key} ({group}) by {checkin.author} at {when}; its value is unchanged"
    line = f"checked in {checkin.key} ({group}) = {checkin.value} by {checkin.author} at {when}"
    if earlier is not None:
        made = f"{earlier.checked_in_at.astimezone(zone):%Y-%m-%d %H:%M}"
        line += f"; supersedes {earlier.value} by {earlier.author} of {made}"
    return line + "; the next cycle scores it and writes it back (okrsync run)"
