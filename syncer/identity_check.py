"""`okrsync check` and `okrsync db reset-source`: the org behind each source, against the store.

`check` prints each source's org id, home (corporate) currency and currency facts (dated exchange
rates in use or not), and refuses (OrgMismatchError, exit 2) a source whose org differs from the
one the store recorded. It only reads the store, and only one that already exists.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from syncer.contract import Connector, Finding
from syncer.cycle import EXIT_CONFIG, EXIT_OK
from syncer.errors import OrgMismatchError, StoreError
from syncer.store import identities
from syncer.store.database import open_store, refuse_new_store
from syncer.views.terminal import print_error


def identity_findings(name: str, connector: Connector, store_url: str) -> list[Finding]:
    """The source's org and currency as findings; raises OrgMismatchError, CrmError."""
    identity = connector.identity()
    stored = _stored(store_url, name)
    if stored is not None and stored.org_id != identity.org_id:
        raise OrgMismatchError([identities.mismatch_problem(name, stored.org_id, identity.org_id)])
    currency = identity.home_currency or "none (amounts taken as they are)"
    where = "recorded in the store" if stored is not None else "not yet recorded in the store"
    findings = [Finding("ok", "org", f"org {identity.org_id} ({where}); home currency {currency}")]
    dated = [note for note in identity.notes if "Advanced Currency Management" in note]
    findings.append(Finding("ok", "currency", dated[0] if dated else "dated exchange rates: not in use"))
    findings += [Finding("ok", "currency", note) for note in identity.notes if note not in dated]
    return findings


def _stored(store_url: str, source: str) -> identities.StoredIdentity | None:
    """What the store recorded for `source`; None for a store that does not exist yet or is unreadable."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return None
    try:
        store = open_store(store_url)
    except StoreError:
        return None
    try:
        if "source_identities" not in inspect(store.engine).get_table_names():
            return None
        with store.sessions() as session:
            return identities.stored_identity(session, source)
    finally:
        store.close()


def reset_source_command(out: Console, store_url: str, source: str, *, confirmed: bool) -> int:
    """`okrsync db reset-source NAME`: count what would go (exit 2); delete it with --yes (exit 0).

    Raises StoreError.
    """
    store = open_store(store_url, on_new=refuse_new_store)
    try:
        with store.sessions.begin() as session:
            rows = (identities.reset_source if confirmed else identities.count_source_rows)(session, source)
    finally:
        store.close()
    listed = ", ".join(f"{table} {count}" for table, count in rows.items() if count) or "no rows"
    if confirmed:
        out.print(f"source {source} forgotten: deleted {listed}", markup=False, highlight=False)
        return EXIT_OK
    print_error(f"db reset-source would delete {listed} of source {source}; run again with --yes to delete")
    return EXIT_CONFIG
