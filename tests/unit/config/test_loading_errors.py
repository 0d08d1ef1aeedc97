"""Every mistake ops can make in the YAML is reported as `file:line: message`, at the right line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syncer.config import load_settings
from syncer.errors import ConfigError

ENV = {
    "SF_CLIENT_ID": "3MVG9-client-id",
    "SF_CLIENT_SECRET": "sf-secret-8f2d1c",
    "HUBSPOT_TOKEN": "pat-na1-secret-77aa",
}

# Lines 1-12: one valid Salesforce source.
SOURCE = textwrap.dedent(
    """\
    version: 1
    sources:
      sfdc:
        kind: salesforce
        instance_url: https://acme.my.salesforce.com
        auth:
          method: client_credentials
          client_id: ${SF_CLIENT_ID}
          client_secret: ${SF_CLIENT_SECRET}
        streams:
          deals: {object: Opportunity}
          renewals: {object: Opportunity}
    """
)
# Lines 13-18: one objective with one key result.
OBJECTIVE = SOURCE + textwrap.dedent(
    """\
    objectives:
      - key: q-revenue
        key_results:
          - key: revenue
            metric: {kind: sum, stream: deals, field: amount, date: close_date}
            target: 575000
    """
)
# Lines 13-16: a HubSpot source after SOURCE.
HUBSPOT = SOURCE + textwrap.indent(
    textwrap.dedent(
        """\
        hub:
          kind: hubspot
          auth: {method: private_app, access_token: "${HUBSPOT_TOKEN}"}
          streams: {deals: {}}
        """
    ),
    "  ",
)


def writeback(fields: str, *, target: str = "object: Okr__c, upsert_on: Key__c", source: str = "sfdc") -> str:
    """OBJECTIVE plus one write-back target, on lines 19-20."""
    return OBJECTIVE + f"writeback:\n  - {{source: {source}, {target}, fields: {{{fields}}}}}\n"


def kr(extra: str) -> str:
    """OBJECTIVE with `extra` added to its key result, from line 19."""
    return OBJECTIVE + "".join(f"        {line}\n" for line in extra.splitlines())


def header(extra: str) -> str:
    """SOURCE plus top-level keys from line 13."""
    return SOURCE + extra


def schedule(value: str) -> str:
    """SOURCE with `schedule:` on line 10 (streams move down one line)."""
    return SOURCE.replace("    streams:", f"    schedule: {value}\n    streams:")


BAD_CONFIGS = [
    pytest.param(
        header("store: sqlite:///x.db: y\n"),
        13,
        "invalid YAML at column 22: unexpected `:`: quote a value that contains `: `, or fix the indentation",
        id="yaml-syntax",
    ),
    pytest.param(
        header("objectives:\n  - key: a\n    title: 'unclosed\n"),
        15,
        "invalid YAML at column 12: this quoted value is never closed: add the closing quote",
        id="yaml-unclosed-quote",
    ),
    pytest.param(
        SOURCE.replace("      client_id", "\tclient_id"),
        8,
        "invalid YAML at column 1: a tab character: indent with spaces only",
        id="yaml-tab",
    ),
    pytest.param(
        kr("grop_by: owner"),
        19,
        "unknown key `grop_by`; did you mean `group_by`?",
        id="unknown-key-near-miss",
    ),
    pytest.param(
        header("colour: red\n"),
        13,
        "unknown key `colour`; allowed keys here: version, store, timezone, fiscal_year_start_month, sources, "
        "teams, objectives, writeback, alerts, serve",
        id="unknown-key-no-match",
    ),
    pytest.param(kr("weight: heavy"), 19, "`weight` must be a number, got 'heavy'", id="wrong-type"),
    pytest.param(
        kr("baseline: last_quarter"),
        19,
        "`baseline` must be a number or `previous_period`, got 'last_quarter'",
        id="wrong-type-in-union",
    ),
    pytest.param(
        kr("direction: up"), 19, "`direction` must be `increase` or `decrease`, got 'up'", id="bad-literal"
    ),
    pytest.param(
        SOURCE.replace("renewals: {", "renewal: {"),
        12,
        "unknown key `renewal`: use `deals`, `calls` or `renewals`; did you mean `renewals`?",
        id="unknown-stream-pulled",
    ),
    pytest.param(
        OBJECTIVE.replace("stream: deals", "stream: dealz"),
        17,
        "no source pulls `dealz`: use deals, calls, renewals, or declare `dealz:` under a source's "
        "`object_streams:`. Did you mean `deals`?",
        id="unknown-stream-in-metric",
    ),
    pytest.param(
        OBJECTIVE.replace("stream: deals", "stream: calls"),
        17,
        "no source pulls `calls`: add `calls:` under a source's `streams:`",
        id="stream-nobody-pulls",
    ),
    pytest.param(
        OBJECTIVE.replace("kind: sum", "kind: summ"),
        17,
        "unknown kind `summ` for `metric`: use one of count, sum, avg, avg_days, distinct_count, ratio, "
        "manual; did you mean `sum`?",
        id="unknown-metric-kind",
    ),
    pytest.param(
        OBJECTIVE.replace("kind: sum, ", ""),
        17,
        "missing key `kind` under `objectives[0].key_results[0].metric`: use one of count, sum, avg, avg_days, "
        "distinct_count, ratio, manual",
        id="metric-without-kind",
    ),
    pytest.param(
        SOURCE.replace("method: client_credentials", "method: oauth"),
        7,
        "unknown method `oauth` for `auth`: use one of client_credentials, jwt, password, access_token",
        id="unknown-auth-method",
    ),
    pytest.param(
        OBJECTIVE.replace(", field: amount", ""),
        17,
        "missing key `field` under `objectives[0].key_results[0].metric` (a `sum` metric needs the field it "
        "adds up)",
        id="sum-without-field",
    ),
    pytest.param(
        SOURCE.replace("version: 1\n", "# okrsync\n"),
        1,
        "missing key `version` at the top level (write `version: 1`)",
        id="missing-version",
    ),
    pytest.param(
        OBJECTIVE.replace("date: close_date", "date: close_date, where: {is_wonn: true}"),
        17,
        "`is_wonn` is not a field of deals; use one of: source, id, owner_id, account_id, amount, currency, stage, "
        "pipeline, type, is_closed, is_won, created_at, close_date, modified_at, deleted. Did you mean `is_won`?",
        id="filter-on-unknown-field",
    ),
    pytest.param(
        writeback("Value__c: q-revenu.revenue.value"),
        20,
        "`q-revenu.revenue.value`: no objective `q-revenu`. Did you mean `q-revenue`?",
        id="writeback-unknown-objective",
    ),
    pytest.param(
        writeback("Value__c: q-revenue.revenu.value"),
        20,
        "`q-revenue.revenu.value`: objective `q-revenue` has no key result `revenu`. Did you mean `revenue`?",
        id="writeback-unknown-key-result",
    ),
    pytest.param(
        writeback("Value__c: q-revenue.revenue.valeu"),
        20,
        "`q-revenue.revenue.valeu`: unknown attribute `valeu`; use one of: value, baseline, target, progress, "
        "progress_pct, score, expected, status, projected, updated_at, currency, confidence, final_value, "
        "final_score, key, title, group, period_start, period_end. Did you mean `value`?",
        id="writeback-unknown-attribute",
    ),
    pytest.param(
        writeback("Value__c: '*.value'", target="object: User, match: owner"),
        20,
        "`*.value`: `*` (every key result) needs a keyed target with `upsert_on`",
        id="star-on-owner-target",
    ),
    pytest.param(
        writeback("Value__c: q-revenue.revenue.value", source="sfcd"),
        20,
        "no source named `sfcd`; sources are: sfdc. Did you mean `sfdc`?",
        id="writeback-unknown-source",
    ),
    pytest.param(
        HUBSPOT + "writeback:\n  - {source: hub, object: contacts, match: owner, fields: {okr: '*.value'}}\n",
        18,
        "HubSpot users have no writable custom properties: write to a custom object with "
        "`upsert_on: <unique property>` instead of `match: owner`",
        id="hubspot-match-owner",
    ),
    pytest.param(
        SOURCE.replace("${SF_CLIENT_SECRET}", "${SF_SECRET}"),
        9,
        "environment variable SF_SECRET is not set (used by sources.sfdc.auth.client_secret)",
        id="missing-env-variable",
    ),
    pytest.param(
        SOURCE.replace("${SF_CLIENT_SECRET}", "${SF CLIENT SECRET}"),
        9,
        "`${SF CLIENT SECRET}` is not a variable: write ${NAME} (letters, digits, _), or $${ for a literal ${",
        id="bad-variable-name",
    ),
    pytest.param(
        SOURCE.replace("${SF_CLIENT_SECRET}", "lit3ral-s3cret"),
        9,
        "`sources.sfdc.auth.client_secret` holds a literal secret: put it in an environment variable and "
        "write `${SFDC_CLIENT_SECRET}`",
        id="literal-secret",
    ),
    pytest.param(
        header("timezone: UTC\nserve: {port: 9000}\ntimezone: Europe/Berlin\n"),
        15,
        "duplicate key `timezone` (first at line 13): remove one",
        id="duplicate-key",
    ),
    pytest.param(
        kr("target: 5"),
        19,
        "duplicate key `target` (first at line 18): remove one",
        id="duplicate-nested-key",
    ),
    pytest.param(
        OBJECTIVE.replace("target: 575000", "target: '+15%'"),
        18,
        "target `+15%` is relative but there is no baseline: add `baseline: previous_period` or a number",
        id="relative-target-without-baseline",
    ),
    pytest.param(
        OBJECTIVE.replace("target: 575000", "target: '+5pp'\n        baseline: 100"),
        18,
        "`+5pp` is in percentage points, which only a ratio has: write `+N%` or a number",
        id="pp-on-non-ratio",
    ),
    pytest.param(
        schedule("'*/15 * * *'"),
        10,
        "`schedule`: '*/15 * * *' is not a cron expression: it needs 5 fields (minute hour day month weekday), "
        "like '*/15 * * * *', or write {every: 15m}",
        id="cron-field-count",
    ),
    pytest.param(
        schedule("'61 * * * *'"),
        10,
        "`schedule`: '61 * * * *' is not a valid cron expression:",
        id="cron-out-of-range",
    ),
    pytest.param(
        schedule("{every: 10 min}"),
        10,
        "`every`: '10 min' is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d",
        id="invalid-every",
    ),
    pytest.param(
        header("timezone: Europe/Paris2\n"),
        13,
        "`timezone`: 'Europe/Paris2' is not an IANA time zone: use a name like America/New_York or Europe/Berlin",
        id="invalid-time-zone",
    ),
    pytest.param(
        header("fiscal_year_start_month: 13\n"),
        13,
        "`fiscal_year_start_month` must be at most 12, got 13",
        id="fiscal-month-13",
    ),
    pytest.param(
        OBJECTIVE.replace("    key_results:", "    period: 2026-Q5\n    key_results:"),
        15,
        "`period`: '2026-Q5' is not a period: use one of current_quarter, current_month, current_year, "
        "previous_quarter, previous_month, previous_year, a quarter like 2026-Q4 or FY2027-Q1, a year like "
        "FY2027, or {start: 2026-10-01, end: 2026-12-31}",
        id="bad-period",
    ),
    pytest.param(
        OBJECTIVE.replace(
            "    key_results:", "    period: {start: 2026-12-31, end: 2026-10-01}\n    key_results:"
        ),
        15,
        "`period`: the period ends (2026-10-01) before it starts (2026-12-31)",
        id="period-ends-before-it-starts",
    ),
    pytest.param(
        header("teams:\n  emea: [ana@example.com]\n  amer: [bo@example.com, Ana@Example.com]\n"),
        15,
        "`Ana@Example.com` is in team `emea` and `amer`: an owner belongs to one team",
        id="email-in-two-teams",
    ),
    pytest.param(
        OBJECTIVE + "      - key: revenue\n        metric: {kind: count, stream: deals}\n        target: 5\n",
        19,
        "key result `revenue` appears twice in objective `q-revenue`: rename one",
        id="duplicate-key-result",
    ),
    pytest.param(
        OBJECTIVE.replace("key: q-revenue", "key: Q Revenue"),
        14,
        "`key` must be a name of lowercase letters, digits, `-` and `_` (like q-revenue), got 'Q Revenue'",
        id="key-pattern",
    ),
    pytest.param(
        OBJECTIVE.replace("date: close_date", "date: close_date, where: {amount: {gtt: 5}}"),
        17,
        "unknown key `gtt`; did you mean `gt`?",
        id="filter-comparison-typo",
    ),
    pytest.param(
        header("objectives:\n  - key: a\n    key_results: []\n"),
        15,
        "`key_results` must have at least 1 entry",
        id="objective-without-key-results",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_CONFIGS)
def test_bad_config_is_reported_at_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "okr.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings(path, ENV)

    reported = [str(problem) for problem in caught.value.problems]
    assert any(problem.startswith(f"{path}:{line}: {message}") for problem in reported), reported
