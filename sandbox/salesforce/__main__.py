"""`python -m sandbox.salesforce`: run the Salesforce sandbox standalone for manual tries.

Prints the instance URL, the CA bundle and the credentials, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime

from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from sandbox.sample_org import SampleScale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.salesforce", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--seed", type=int, default=7, help="sample org seed (default: 7)")
    parser.add_argument("--now", type=datetime.fromisoformat, help="anchor instant, ISO-8601 (default: now)")
    parser.add_argument("--deals", type=int, default=SampleScale().deals, help="new and expansion deals")
    parser.add_argument("--calls", type=int, default=SampleScale().calls, help="logged calls")
    args = parser.parse_args(argv)
    now = args.now.replace(tzinfo=args.now.tzinfo or UTC) if args.now else None
    scale = SampleScale(deals=args.deals, calls=args.calls)
    settings = SandboxSettings(ticking=True, port=args.port)
    with SalesforceSandbox(now=now, seed=args.seed, scale=scale, settings=settings) as sf:
        print(f"instance_url   {sf.instance_url}")
        print(f"token_url      {sf.token_url}")
        print(f"ca_bundle      {sf.ca_bundle}")
        print(f"client_id      {sf.client_id}")
        print(f"client_secret  {sf.client_secret}")
        print(f"username       {sf.username}")
        print(f"password       {sf.password}  (security token {sf.security_token})")
        print(
            f"\ncurl --cacert {sf.ca_bundle} -d grant_type=client_credentials "
            f"-d client_id={sf.client_id} -d client_secret={sf.client_secret} {sf.token_url}"
        )
        print("\nserving; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
