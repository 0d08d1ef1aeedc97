"""The bodies of the `okrsync` commands, by what they work on; `syncer.cli` parses and dispatches.

- `invocation`: `Cli`, what every command gets (arguments, terminal, log redactor).
- `crm`: `check`, `fields ensure`, and `connector_factory` (the engine's way to a connector).
- `cycles`: `run`, `push`, `plan`.
- `store_commands`: `status`, `report`, `db upgrade`, `db reset-source`.
- `demo`: `okrsync demo` against the local sandboxes.
"""
