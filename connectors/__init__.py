"""The CRM connectors okrsync knows: `open_connector()` is the only list of them.

Each connector's package (and its CRM client library) is imported only when a source of its kind
is opened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, tzinfo

from syncer.config.history import resolved
from syncer.config.models import HubSpotSource, SalesforceSource, WritebackTarget
from syncer.contract import Connector, MetadataCache


def open_connector(
    name: str,
    source: SalesforceSource | HubSpotSource,
    *,
    writeback: Sequence[WritebackTarget] = (),
    sleep: Callable[[float], None] = time.sleep,
    zone: tzinfo = UTC,
    metadata: MetadataCache | None = None,
) -> Connector:
    """The connector for source `name`; `writeback` may list every target, only this source's are kept.

    `zone` is the YAML's `timezone` (`Settings.zone`): calendar days of CRM instants are read
    there. `metadata` keeps CRM metadata between runs (Salesforce describes, HubSpot deal
    pipelines); None: none kept.
    Touches no network: connectors authenticate on their first call. Close it when done.
    """
    writeback = resolved(writeback, {name: source})  # history targets: as the keyed ones they write like
    match source:
        case SalesforceSource():
            from connectors.salesforce import SalesforceConnector

            return SalesforceConnector(
                name, source, writeback=writeback, sleep=sleep, zone=zone, metadata=metadata
            )
        case HubSpotSource():
            from connectors.hubspot import HubSpotConnector

            return HubSpotConnector(
                name, source, writeback=writeback, sleep=sleep, zone=zone, metadata=metadata
            )
