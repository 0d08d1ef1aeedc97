"""`okrsync check` and `okrsync fields ensure` against the sandbox org of config/demo.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.demo import start_demo_org
from sandbox.salesforce import SalesforceSandbox
from syncer.cli import main
from tests.integration.test_salesforce_cycle import ensure_demo_fields

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@pytest.fixture
def sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSandbox]:
    with start_demo_org() as demo:
        # The HubSpot key-result properties and the history objects (README "History as CRM
        # records"), as `okrsync demo` makes them: the tests count only their own requests.
        ensure_demo_fields(demo.env)
        demo.salesforce.requests.clear()
        for name, value in demo.env.items():
            monkeypatch.setenv(name, value)
        yield demo.salesforce


def run(*args: str) -> int:
    return main([*args, "-c", str(DEMO)])


def test_check_passes_on_the_demo_org(sb: SalesforceSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("check") == 0
    assert "ERROR" not in capsys.readouterr().out
    assert sb.requests.count(writes=True) == 0


def test_field_the_integration_user_cannot_write_is_reported_then_granted(
    sb: SalesforceSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.schema.update_field("User", "Q_Calls__c", updateable=False)

    assert run("check") == 1
    assert "User.Q_Calls__c: write-back field is not editable" in capsys.readouterr().out
    assert run("fields", "ensure") == 1
    planned = capsys.readouterr().out
    assert "would create or grant edit access to User.Q_Calls__c" in planned
    assert "nothing changed" in planned
    assert sb.requests.count(writes=True) == 0

    assert run("fields", "ensure", "--apply") == 0
    assert run("check") == 0


def test_missing_fields_are_created_with_their_types_and_edit_access(
    sb: SalesforceSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.schema.remove_field("User", "Q_Calls_Progress__c")
    sb.schema.remove_field("User", "Q_Revenue_Status__c")

    assert run("fields", "ensure", "--apply") == 0

    out = capsys.readouterr().out
    assert "created (Percent)" in out
    assert "created (Picklist)" in out
    user = sb.schema.object("User")
    assert user is not None
    progress, status = user.field("Q_Calls_Progress__c"), user.field("Q_Revenue_Status__c")
    assert progress is not None
    assert (progress.type, progress.updateable) == ("percent", True)
    assert status is not None
    assert status.picklist_values == ("on_track", "at_risk", "off_track", "done")
    assert sb.requests.count(kind="tooling_create_field") == 2
    assert run("fields", "ensure") == 0  # nothing left to do
