"""Moving a sandbox org back in time, for tests that reuse one org for scenarios at many dates.

An org stamps every write strictly after the previous one (`Org.next_stamp`), so once its clock
is moved back, writes would still carry the later stamps and fall outside a pull that ends at the
new "now". `rewind_stamps` lets the next write follow the clock again: call it after moving the
clock back and after emptying the records the earlier scenario wrote.
"""

from __future__ import annotations

from sandbox.salesforce import values
from sandbox.salesforce.org import ONE_MILLISECOND, Org


def rewind_stamps(org: Org) -> None:
    """The next write is stamped with the org's clock (at least), even if earlier writes were later."""
    with org.lock:
        org._last_stamp = values.truncate_to_millis(org.clock.now()) - ONE_MILLISECOND
