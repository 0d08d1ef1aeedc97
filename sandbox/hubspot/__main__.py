"""`python -m sandbox.hubspot`: run the HubSpot sandbox standalone (benchmarks, manual tries).

Prints the base URL and the private-app token, then serves until interrupted. Rate limits are
HubSpot's unless `--ten-secondly` / `--search-per-second` change them (0: not enforced).
"""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.hubspot.limits import SEARCH_PER_SECOND, TEN_SECONDLY_LIMIT
from sandbox.sample_org import SampleScale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.hubspot", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--seed", type=int, default=7, help="sample org seed (default: 7)")
    parser.add_argument("--now", type=datetime.fromisoformat, help="anchor instant, ISO-8601 (default: now)")
    parser.add_argument("--deals", type=int, default=SampleScale().deals, help="new and expansion deals")
    parser.add_argument("--renewals", type=int, default=SampleScale().renewals, help="renewal deals")
    parser.add_argument("--calls", type=int, default=SampleScale().calls, help="logged calls")
    parser.add_argument("--ten-secondly", type=int, default=TEN_SECONDLY_LIMIT, help="general calls per 10 s")
    parser.add_argument(
        "--search-per-second", type=int, default=SEARCH_PER_SECOND, help="search calls a second"
    )
    args = parser.parse_args(argv)
    now = args.now.replace(tzinfo=args.now.tzinfo or UTC) if args.now else None
    scale = SampleScale(deals=args.deals, renewals=args.renewals, calls=args.calls)
    settings = HubSpotSettings(
        ticking=True,
        port=args.port,
        ten_secondly_limit=args.ten_secondly or None,
        search_per_second=args.search_per_second or None,
        daily_limit=1_000_000_000,
    )
    with HubSpotSandbox(now=now, seed=args.seed, scale=scale, settings=settings) as hs:
        print(f"base_url      {hs.base_url}")
        print(f"access_token  {hs.access_token}")
        print(
            f"deals         {len(hs.records('deals'))} live, {len(hs.records('deals', archived=True))} archived"
        )
        print(
            f"calls         {len(hs.records('calls'))} live, {len(hs.records('calls', archived=True))} archived"
        )
        print(f"owners        {len(hs.portal.owners)}")
        print("\nserving; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
