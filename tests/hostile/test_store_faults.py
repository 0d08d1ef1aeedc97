"""Store and file faults are one line and an exit code, never a traceback (issue 15, Found 9, Deliver 8).

Each fault is produced for real: a path under a regular file, SQLite's page limit (a full disk),
a read-only SQLite URI, a PostgreSQL backend terminated by the server, a schema version this
okrsync does not know, an emptied `alembic_version`, and `report -o` aimed at a directory, a
missing directory or a symbolic link.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, insert, text

from syncer.cli import main
from syncer.errors import StoreSchemaError, StoreUnavailableError
from syncer.store.database import open_store
from syncer.store.tables import RunRow

ENV = {"HS_TOKEN": "pat-na1-0123456789"}
CONFIG = """\
version: 1
store: {store}
sources:
  crm:
    kind: hubspot
    auth: {{method: private_app, access_token: "${{HS_TOKEN}}"}}
    streams:
      deals: {{}}
objectives:
  - key: q
    key_results:
      - key: won
        metric: {{kind: count, stream: deals}}
        target: 10
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def write_config(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=store))
    return path


def one_line(err: str) -> str:
    """The single `okrsync: …` line a fault prints (and nothing that looks like a traceback)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'okr.db'}"
    open_store(url).close()
    return url


# ---------------------------------------------------------------- store URL and path


def test_store_port_54x2_is_one_line_from_db_upgrade(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--store", "postgresql+psycopg://okr@127.0.0.1:54x2/okr"]) == 1
    assert "is the port a number?" in one_line(capsys.readouterr().err)


def test_an_unwritable_store_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain-file").write_text("not a directory")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'plain-file' / 'okr.db'}")

    assert main(["db", "upgrade", "-c", str(config)]) == 1

    line = one_line(capsys.readouterr().err)
    assert line.startswith("okrsync: store: cannot create the store's directory")
    assert "point `store:` somewhere writable" in line


def test_a_store_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "okr.db").write_bytes(b"these are not the pages of a SQLite database" * 100)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'okr.db'}")

    assert main(["status", "-c", str(config)]) == 1

    assert "not a SQLite database" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- disk full, read-only


def test_a_full_disk_is_a_store_error_that_says_so(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path))

    @event.listens_for(store.engine, "connect")
    def _tiny(dbapi_connection: object, _record: object) -> None:  # the disk is full at the next page
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    store.engine.dispose()
    rows = [
        {"started_at": datetime.now(UTC), "status": "running", "sources": "x" * 400, "error": "e" * 5000}
        for _ in range(50)
    ]
    with (
        pytest.raises(StoreUnavailableError, match="the store's disk is full: free space"),
        store.sessions.begin() as session,
    ):
        session.execute(insert(RunRow), rows)
    store.close()


def test_a_read_only_store_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_url(tmp_path)
    read_only = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    config = write_config(tmp_path, read_only)

    code = main(["run", "-c", str(config), "--only", "rollup"])

    assert code == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("okrsync: ")
    assert "read-only" in line or "readonly" in line


# ---------------------------------------------------------------- schema versions


def _set_version(url: str, statement: str) -> None:
    store = open_store(url)
    with store.engine.begin() as connection:
        connection.execute(text(statement))
    store.close()


def test_a_schema_newer_than_the_code_says_what_to_do_instead_of_db_upgrade(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_version(store_url, "UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(StoreSchemaError, match="newer than this okrsync knows") as caught:
        open_store(store_url)
    assert "run the okrsync release that upgraded it" in str(caught.value)
    assert main(["db", "upgrade", "--store", store_url]) == 1  # db upgrade says the same, no traceback
    assert "`db upgrade` cannot go back" in one_line(capsys.readouterr().err)


def test_an_empty_alembic_version_table_is_one_line(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_version(store_url, "DELETE FROM alembic_version")

    with pytest.raises(StoreSchemaError, match="alembic_version table is empty"):
        open_store(store_url)
    assert main(["db", "upgrade", "--store", store_url]) == 1
    assert "restore the store from a backup" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- PostgreSQL connections


@pytest.fixture
def pg_url(store_url: str) -> str:
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set OKRSYNC_TEST_PG_SERVER")
    return store_url


def test_a_connection_the_server_terminates_is_a_store_error(pg_url: str) -> None:
    store = open_store(pg_url)
    with store.engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = store.engine.connect()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.close()
        with pytest.raises(StoreUnavailableError, match=r"connection to the store .* was lost"):
            victim.execute(text("SELECT 1"))
    store.close()


def test_a_host_from_a_variable_is_masked_in_connection_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    config = write_config(tmp_path, "postgresql+psycopg://okr@${DB_HOST}:1/okr")  # nothing listens on port 1

    assert main(["status", "-c", str(config)]) == 1

    line = one_line(capsys.readouterr().err)
    assert "127.0.0.1" not in line
    assert "postgresql+psycopg://okr@***:1/okr" in line


def test_a_literal_host_is_shown_in_connection_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://okr@127.0.0.1:1/okr")

    assert main(["status", "-c", str(config)]) == 1

    assert "okr@127.0.0.1:1/okr" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- report -o


@pytest.fixture
def report_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, sqlite_url(tmp_path))


@pytest.mark.parametrize("output", ["", ".", "dir", "missing/report.html"])
def test_report_to_a_directory_or_nowhere_is_one_line(
    output: str,
    report_config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()

    assert main(["report", "-c", str(report_config), "-o", output]) == 2

    line = one_line(capsys.readouterr().err)
    assert "is a directory: give the report's file name" in line or "does not exist: create it" in line


def test_report_refuses_a_symlink_and_leaves_its_target_alone(
    report_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(target)

    assert main(["report", "-c", str(report_config), "-o", str(link)]) == 2

    assert "is a symbolic link" in one_line(capsys.readouterr().err)
    assert target.read_text() == "keep me"
    assert link.is_symlink()


def test_report_replaces_a_file_whole_through_a_temporary_file(report_config: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "report.html"
    output.parent.mkdir()
    output.write_text("old report")
    os.chmod(output, 0o640)

    assert main(["report", "-c", str(report_config), "-o", str(output)]) == 0

    assert output.read_text().startswith("<!DOCTYPE html>") or "<html" in output.read_text()
    assert sorted(p.name for p in output.parent.iterdir()) == ["report.html"]  # no temporary file left
    assert output.stat().st_mode & 0o777 == 0o640
