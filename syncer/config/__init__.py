"""okrsync's configuration: the YAML ops write, loaded into a validated `Settings`."""

from __future__ import annotations

from syncer.config.loading import load_settings
from syncer.config.models import Settings

__all__ = ["Settings", "load_settings"]
