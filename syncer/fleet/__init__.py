"""`okrsync fleet`: many orgs, each with its own okrsync YAML and store, run by Celery workers.

- `fleet_file.py`: the fleet file (which configs, which broker), loaded with `file:line` errors.
- `schedules.py`: Celery beat entries from each org's own source schedules (as `serve` reads them).
- `org_cycles.py`: what a worker does with one task: one org's cycle under its store's lease.
- `telemetry.py`: a worker's Prometheus metrics, labelled by org.
- `app.py`: the Celery app: broker, queue, late acknowledgement, the cycle task.

See README "Deployment" and docs/architecture.md "Fleet".
"""
