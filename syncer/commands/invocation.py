"""What every `okrsync` command gets: its arguments, the terminal, and the log redactor."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from syncer.config import load_settings
from syncer.config.loading import PLACEHOLDERS, OfflineSettings, load_offline
from syncer.config.models import Settings
from syncer.logs import Redactor, secret_values


@dataclass(frozen=True)
class Cli:
    """What every command gets: its arguments, the terminal, and the log redactor."""

    args: argparse.Namespace
    out: Console
    redactor: Redactor

    def load(self, path: Path, env: Mapping[str, str] | None = None) -> Settings:
        """Load the YAML; from then on every log line masks its secrets."""
        settings = load_settings(path, os.environ if env is None else env)
        self._mask_secrets(settings)
        return settings

    def load_offline(self, path: Path) -> OfflineSettings:
        """Load the YAML for a command that reaches no CRM: unset `${NAME}` are only warnings."""
        loaded = load_offline(path, os.environ)
        self._mask_secrets(loaded.settings)
        return loaded

    def _mask_secrets(self, settings: Settings) -> None:
        """From now on every log line masks the settings' secrets (never an offline placeholder)."""
        store_password = make_url(settings.store).password  # a URL may carry the database password
        secrets = secret_values(settings) | ({str(store_password)} if store_password else set())
        self.redactor.add(secrets - set(PLACEHOLDERS))
        self.redactor.add_names(settings.masked_values)  # the store's host, when it came from a ${VAR}

    def announce_new_store(self, where: str) -> None:
        """What `run`, `plan`, `push` and `db upgrade` say before they create a store."""
        self.out.print(f"creating a new store at {where}", markup=False, highlight=False)
