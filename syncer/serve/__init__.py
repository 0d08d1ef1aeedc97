"""`okrsync serve`: the long-running worker and what only it (and the cycle's alerts) needs.

`scheduler` runs one job per source and handles signals and reloads; `web` serves `/healthz`,
`/metrics` and the status page; `telemetry` holds the Prometheus metrics; `alerts` posts the
webhook when a cycle fails or a key result changes status (also after `okrsync run`).
"""
