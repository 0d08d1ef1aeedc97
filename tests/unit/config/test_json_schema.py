"""The committed JSON schema editors use is the one the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from syncer.config.models import Settings
from syncer.config.schema import SCHEMA_COMMAND, render_schema, write_schema

COMMITTED = Path(__file__).parents[3] / "config" / "okrsync.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""

    assert committed == render_schema(), f"config/okrsync.schema.json is out of date: run {SCHEMA_COMMAND}"


def test_written_schema_is_the_models_schema_with_sorted_keys(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"

    write_schema(path)

    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == Settings.model_json_schema()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
