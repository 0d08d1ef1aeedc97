"""`python -m syncer` is `okrsync`."""

from syncer.cli import main

raise SystemExit(main())
