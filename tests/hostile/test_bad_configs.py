"""Hostile configurations (issue 15, Deliver 6, 7, 9): every one is refused by `okrsync validate` with
exit 2, one `file:line: message` naming the line at fault and what to write instead, and no traceback.

Each case edits one line of a valid configuration (BASE), or is a whole file of its own. The
YAML-safety cases must also be fast: the loader gives up long before memory or the stack run out.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncer.cli import main

ENV = {"SF_TOKEN": "sf-token-0123456789", "HS_TOKEN": "pat-na1-0123456789", "PGPASSWORD": "pg-pass-0123"}
BASE = """\
version: 1
store: sqlite:///okr.db
sources:
  sfdc:
    kind: salesforce
    instance_url: https://acme.my.salesforce.com
    auth: {method: access_token, access_token: "${SF_TOKEN}"}
    streams:
      deals: {object: Opportunity}
      calls: {object: Task}
      renewals: {object: Opportunity}
  hub:
    kind: hubspot
    auth: {method: private_app, access_token: "${HS_TOKEN}"}
    streams:
      deals: {pipelines: [default]}
objectives:
  - key: q
    key_results:
      - key: revenue
        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}}
        target: 575000
        group_by: owner
writeback:
  - source: sfdc
    object: User
    match: owner
    fields: {Q_Revenue__c: q.revenue.value}
  - source: hub
    object: p_key_results
    upsert_on: okr_key
    fields: {okr_value: "*.value"}
"""
TARGET = "        target: 575000\n"
METRIC = "        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}}\n"


@dataclass(frozen=True)
class Case:
    name: str
    old: str | None  # the text of BASE to replace; None: `new` is the whole file
    new: str | bytes
    line: int | None  # the line the message must name; None: the file as a whole
    fragment: str  # part of the message: what is wrong and how to fix it


def metric(text: str) -> tuple[str, str]:
    return METRIC, f"        metric: {text}\n"


def laughs(levels: int = 9) -> str:
    """The classic "billion laughs": each anchor repeats the previous one nine times."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        this, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{this}: &{this} [{','.join(f'*{previous}' for _ in range(9))}]")
    return "\n".join(lines) + "\n"


CASES = [
    # ---- YAML that would crash or exhaust the loader (Found 6)
    Case("billion-laughs", None, laughs(), 5, "once `*aliases` are expanded"),
    Case("billion-laughs-in-config", "objectives:\n", laughs(7) + "objectives:\n", 21, "use fewer aliases"),
    Case(
        "flow-list-5000-deep",
        None,
        "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n",
        2,
        "nesting deeper than 64",
    ),
    Case(
        "block-mapping-100-deep",
        None,
        "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
        64,
        "nesting deeper than 64",
    ),
    Case(
        "alias-of-deep-list-nested",
        None,
        "a: &a " + "[" * 60 + "]" * 60 + "\nb: &b " + "[" * 10 + "*a" + "]" * 10 + "\n",
        2,
        "nesting deeper",
    ),
    Case("nul-byte", "  - source: hub\n", "  - source: h\x00ub\n", 29, "control character (U+0000)"),
    Case(
        "escape-byte",
        "store: sqlite:///okr.db\n",
        "store: sqlite:///okr\x1b[2J.db\n",
        2,
        "control character (U+001B)",
    ),
    Case("bell-in-key", "version: 1\n", "vers\x07ion: 1\n", 1, "control character (U+0007)"),
    Case("c1-control", "        target: 575000\n", "        target: 575000\x85\x9b\n", 22, "U+009B"),
    Case("not-utf8", None, b"version: 1\nstore: \xff\xfe\n", None, "not UTF-8"),
    Case("larger-than-1mib", None, "version: 1\n" + "# padding\n" * 110_000, None, "at most 1,048,576"),
    Case(
        "february-30",
        "objectives:\n  - key: q\n",
        "objectives:\n  - key: q\n    period: {start: 2026-02-30, end: 2026-03-31}\n",
        19,
        "`2026-02-30` is not a date",
    ),
    Case(
        "month-13",
        "objectives:\n  - key: q\n",
        "objectives:\n  - key: q\n    period: 2026-13-45\n",
        19,
        "`2026-13-45` is not a date",
    ),
    Case(
        "date-in-filter-day-0",
        *metric("{kind: count, stream: deals, where: {close_date: {gte: 2026-01-00}}}"),
        21,
        "is not a date",
    ),
    Case(
        "integer-5000-digits", TARGET, "        target: " + "9" * 5000 + "\n", 22, "cannot be read as a int"
    ),
    Case("recursive-alias", None, "a: &a\n  b: *a\n", 2, "alias refers to the node that contains it"),
    # ---- targets (Found 8, Deliver 7)
    Case("target-nan", TARGET, "        target: .nan\n", 22, "write a finite number"),
    Case("target-inf", TARGET, "        target: .inf\n", 22, "write a finite number"),
    Case("target-minus-inf", TARGET, "        target: -.inf\n", 22, "write a finite number"),
    Case("target-1e308", TARGET, "        target: 1.0e+308\n", 22, "beyond any metric"),
    Case("target-1e308-unquoted", TARGET, "        target: 1e308\n", 22, "is not a target"),
    Case("target-negative-sum", TARGET, "        target: -5\n", 22, "write a number ≥ 0"),
    Case("target-zero-sum", TARGET, "        target: 0\n", 22, "can never show progress"),
    Case(
        "target-minus-200-percent",
        TARGET,
        '        baseline: 100\n        target: "-200%"\n',
        23,
        "a decrease must stay above -100%",
    ),
    Case(
        "target-minus-100-percent",
        TARGET,
        '        baseline: 100\n        target: "-100%"\n',
        23,
        "bring the value to zero",
    ),
    Case(
        "target-plus-a-millionfold",
        TARGET,
        '        baseline: 100\n        target: "+100000000%"\n',
        23,
        "more than a hundredfold",
    ),
    Case(
        "baseline-nan",
        TARGET,
        "        baseline: .nan\n        target: 5\n",
        22,
        "the baseline `nan` is not a number",
    ),
    Case(
        "baseline-negative-count",
        METRIC + TARGET,
        "        metric: {kind: count, stream: deals}\n        baseline: -3\n        target: 5\n",
        22,
        "which a count metric never is",
    ),
    Case(
        "ratio-target-85",
        METRIC + TARGET,
        "        metric: {kind: ratio, stream: deals, numerator: {is_won: true}}\n        target: 85\n",
        22,
        "write 0.85 for 85 %",
    ),
    Case(
        "ratio-target-negative",
        METRIC + TARGET,
        "        metric: {kind: ratio, stream: deals, numerator: {is_won: true}}\n        target: -0.1\n",
        22,
        "negative",
    ),
    Case(
        "ratio-plus-150pp",
        METRIC + TARGET,
        "        metric: {kind: ratio, stream: deals, numerator: {is_won: true}}\n        baseline: 0.5\n"
        '        target: "+150pp"\n',
        23,
        "at most ±100pp",
    ),
    Case(
        "count-target-negative",
        METRIC + TARGET,
        "        metric: {kind: count, stream: deals}\n        target: -1\n",
        22,
        "which a count metric never is",
    ),
    Case(
        "avg-days-negative",
        METRIC + TARGET,
        "        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date}\n        target: -4\n",
        22,
        "negative",
    ),
    Case(
        "owner-target-nan",
        "        group_by: owner\n",
        "        group_by: owner\n        owner_targets: {ana@example.com: .nan}\n",
        24,
        "target of ana@example.com",
    ),
    Case(
        "owner-target-negative",
        "        group_by: owner\n",
        "        group_by: owner\n        owner_targets: {ana@example.com: -10}\n",
        24,
        "negative",
    ),
    Case("weight-inf", TARGET, TARGET + "        weight: .inf\n", 23, "weight must be a finite number"),
    Case("weight-zero", TARGET, TARGET + "        weight: 0\n", 23, "more than 0"),
    # ---- fields, filters, write-back names (Found 8)
    Case(
        "mapped-field-typo-sf",
        "      calls: {object: Task}\n",
        "      calls: {object: Task, fields: {duraton: CallDurationInSeconds}}\n",
        10,
        "`duraton` is not a field okrsync maps for calls",
    ),
    Case(
        "mapped-field-typo-hs",
        "      deals: {pipelines: [default]}\n",
        "      deals: {pipelines: [default], fields: {amout: amount}}\n",
        16,
        "Did you mean `amount`?",
    ),
    Case(
        "mapped-status-on-sf-renewals",
        "      renewals: {object: Opportunity}\n",
        "      renewals: {object: Opportunity, fields: {status: StageName}}\n",
        11,
        "or list it under `attributes:`",
    ),
    Case(
        "filter-gt-lots",
        *metric("{kind: sum, stream: deals, field: amount, where: {amount: {gt: lots}}}"),
        21,
        "`amount` is a number field, but the filter compares it with `lots`",
    ),
    Case(
        "filter-duration-text",
        *metric("{kind: count, stream: calls, where: {duration_seconds: long}}"),
        21,
        "write a number",
    ),
    Case(
        "filter-amount-list-text",
        *metric("{kind: count, stream: deals, where: {amount: [1, two]}}"),
        21,
        "compares it with `two`",
    ),
    Case(
        "filter-amount-nan",
        *metric("{kind: count, stream: deals, where: {amount: {lt: .nan}}}"),
        21,
        "write a number",
    ),
    Case(
        "filter-is-won-yes-quoted",
        *metric('{kind: count, stream: deals, where: {is_won: "yes"}}'),
        21,
        "write true or false",
    ),
    Case(
        "filter-close-date-soon",
        *metric("{kind: count, stream: deals, where: {close_date: {gte: soon}}}"),
        21,
        "write a date",
    ),
    Case(
        "filter-not-text-on-number",
        *metric("{kind: count, stream: deals, where: {amount: {not: zero}}}"),
        21,
        "number field",
    ),
    Case(
        "writeback-field-comma",
        "    fields: {Q_Revenue__c: q.revenue.value}\n",
        '    fields: {"Q_Revenue__c,Name": q.revenue.value}\n',
        28,
        "not a Salesforce field API name",
    ),
    Case(
        "writeback-field-space",
        "    fields: {Q_Revenue__c: q.revenue.value}\n",
        '    fields: {"Q Revenue__c": q.revenue.value}\n',
        28,
        "custom fields ending in __c",
    ),
    Case(
        "writeback-field-soql",
        "    fields: {Q_Revenue__c: q.revenue.value}\n",
        '    fields: {"Id FROM User--": q.revenue.value}\n',
        28,
        "not a Salesforce field API name",
    ),
    Case(
        "writeback-hubspot-upper",
        '    fields: {okr_value: "*.value"}\n',
        '    fields: {OkrValue: "*.value"}\n',
        32,
        "not a HubSpot property name",
    ),
    Case(
        "writeback-hubspot-upsert-dash",
        "    upsert_on: okr_key\n",
        "    upsert_on: okr-key\n",
        31,
        "lower-case letters, digits and `_`",
    ),
    # ---- SOQL `where` (Found 8): one condition only
    Case(
        "where-limit",
        "      deals: {object: Opportunity}\n",
        '      deals: {object: Opportunity, where: "IsWon = true LIMIT 1"}\n',
        9,
        "`LIMIT` may not appear",
    ),
    Case(
        "where-5limit",
        "      deals: {object: Opportunity}\n",
        '      deals: {object: Opportunity, where: "Amount > 5LIMIT 1"}\n',
        9,
        "`LIMIT` may not appear",
    ),
    Case(
        "where-semicolon",
        "      calls: {object: Task}\n",
        "      calls: {object: Task, where: \"TaskSubtype = 'Call'; DELETE\"}\n",
        10,
        "`;` may not appear",
    ),
    Case(
        "where-order-by",
        "      calls: {object: Task}\n",
        '      calls: {object: Task, where: "IsClosed = true ORDER BY Id"}\n',
        10,
        "`ORDER BY` may not appear",
    ),
    Case(
        "where-unbalanced",
        "      calls: {object: Task}\n",
        '      calls: {object: Task, where: "(IsClosed = true"}\n',
        10,
        "unbalanced parentheses",
    ),
    Case(
        "where-subquery",
        "      renewals: {object: Opportunity}\n",
        '      renewals: {object: Opportunity, where: "Id IN (SELECT Id FROM Account)"}\n',
        11,
        "`SELECT` may not appear",
    ),
    Case(
        "owners-where-for-update",
        "    streams:\n      deals: {object: Opportunity}\n",
        '    owners: {where: "IsActive = true FOR UPDATE"}\n    streams:\n      deals: {object: Opportunity}\n',
        8,
        "`FOR` may not appear",
    ),
    # ---- the store URL (Found 8, 9)
    Case(
        "store-literal-password",
        "store: sqlite:///okr.db\n",
        "store: postgresql+psycopg://okr:hunter2@db/okr\n",
        2,
        "put it in an environment variable",
    ),
    Case("store-memory", "store: sqlite:///okr.db\n", 'store: "sqlite:///:memory:"\n', 2, "use a file"),
    Case(
        "store-sqlite-no-path",
        "store: sqlite:///okr.db\n",
        'store: "sqlite://"\n',
        2,
        "in-memory SQLite store",
    ),
    Case(
        "store-port-54x2",
        "store: sqlite:///okr.db\n",
        "store: postgresql+psycopg://okr@db:54x2/okr\n",
        2,
        "is the port a number?",
    ),
    Case(
        "store-port-99999",
        "store: sqlite:///okr.db\n",
        "store: postgresql+psycopg://okr@db:99999/okr\n",
        2,
        "is not a port",
    ),
    Case(
        "store-mysql",
        "store: sqlite:///okr.db\n",
        "store: mysql://okr@db/okr\n",
        2,
        "use sqlite:///okrsync.db",
    ),
    # ---- markup in values (Found 5): printed as written, never crashing the terminal
    Case(
        "timezone-markup",
        "store: sqlite:///okr.db\n",
        'store: sqlite:///okr.db\ntimezone: "[/]"\n',
        3,
        "'[/]' is not an IANA time zone",
    ),
    Case("objective-key-markup", "  - key: q\n", '  - key: "[bold]q[/]"\n', 18, "[bold]q[/]"),
]


def _config(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / "okr.yaml"
    if case.old is None:
        content = case.new
    else:
        assert isinstance(case.new, str)
        assert BASE.count(case.old) == 1, "a case edits one place of BASE"
        content = BASE.replace(case.old, case.new)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    return path


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def test_there_are_at_least_60_bad_configs() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


def test_the_base_config_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "okr.yaml"
    path.write_text(BASE)
    assert main(["validate", "-c", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_config_is_one_line_with_its_line_and_fix(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(case, tmp_path)
    started = time.monotonic()

    code = main(["validate", "-c", str(path)])

    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in err
    assert "Error:" not in err.split("\n")[0][:40]
    where = f"{path}:{case.line}: " if case.line else f"{path}: "
    problems = [line for line in err.splitlines() if line.startswith(str(path))]
    matching = [p for p in problems if p.startswith(where) and case.fragment in p]
    assert matching, f"expected {where}…{case.fragment}… in:\n{err}"
    assert elapsed < 5, f"the loader took {elapsed:.1f} s"


@pytest.mark.parametrize("name", ["billion-laughs", "flow-list-5000-deep", "nul-byte", "store-port-54x2"])
def test_bad_config_from_the_command_line_has_no_traceback(name: str, tmp_path: Path) -> None:
    """The installed command, in its own process: what cron and ops see."""
    case = next(c for c in CASES if c.name == name)
    path = _config(case, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**ENV, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith(f"{path}:{case.line}: ")
    assert case.fragment in result.stderr.splitlines()[0]


def test_the_connector_refuses_at_run_time_what_validate_refuses() -> None:
    """One check, two places: `5LIMIT 1` got past the old run-time filter and reached the CRM."""
    from connectors.salesforce import soql
    from syncer.errors import RejectedRequestError

    with pytest.raises(RejectedRequestError, match="`LIMIT` may not appear outside a string"):
        soql.check_where("Amount > 5LIMIT 1", source="sfdc", stream="deals")


def test_the_mappable_field_lists_are_the_connectors_own() -> None:
    """`validate` cannot import the connectors: its lists must stay equal to their mappings."""
    from connectors.hubspot import mapping as hubspot
    from connectors.salesforce import soql as salesforce
    from syncer.config.soundness import HUBSPOT_FIELDS, SALESFORCE_FIELDS

    for stream, names in SALESFORCE_FIELDS.items():
        optional = {canonical for canonical, _, _ in salesforce.OPTIONAL_FIELDS[stream]}
        assert set(names) == set(salesforce.DEFAULT_FIELDS[stream]) | optional
    for stream, names in HUBSPOT_FIELDS.items():
        assert set(names) == set(hubspot.DEFAULT_FIELDS[stream])
