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
HS_AUTH = '    auth: {method: private_app, access_token: "${HS_TOKEN}"}\n'
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


HS_FIELDS = '    fields: {okr_value: "*.value"}\n'  # BASE's last line
STORE = "store: sqlite:///okr.db\n"


def tree(lines: str, *, before: str = "") -> tuple[str, str]:
    """`lines` under BASE's objective `q` (line 18), after the objectives in `before`."""
    return "objectives:\n  - key: q\n", f"objectives:\n{before}  - key: q\n{lines}"


def history(entry: str) -> tuple[str, str]:
    """A `history:` write-back entry after BASE's last one (line 33)."""
    return HS_FIELDS, f"{HS_FIELDS}  - {entry}\n"


def laughs(levels: int = 9) -> str:
    """The classic "billion laughs": each anchor repeats the previous one nine times."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        this, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{this}: &{this} [{','.join(f'*{previous}' for _ in range(9))}]")
    return "\n".join(lines) + "\n"


RENEWALS = "      renewals: {object: Opportunity}\n"  # BASE's line 11
LEADS = "leads: {object: Lead, owner: OwnerId, dates: {created: CreatedDate, converted: ConvertedDate}}"


def object_stream(entry: str, *, metric: str | None = None) -> tuple[str, str]:
    """`entry` declared under the Salesforce source's `object_streams:` (line 13); with `metric`, BASE's
    metric (then line 23) replaced too."""
    declared = f"{RENEWALS}    object_streams:\n      {entry}\n"
    if metric is None:
        return RENEWALS, declared
    return f"{RENEWALS}{BASE[BASE.index(RENEWALS) + len(RENEWALS) : BASE.index(METRIC)]}{METRIC}", (
        f"{declared}{BASE[BASE.index(RENEWALS) + len(RENEWALS) : BASE.index(METRIC)]}        metric: {metric}\n"
    )


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
    # ---- committed, aspirational, stretch, confidence (issue 13, Deliver 2)
    Case(
        "type-unknown",
        TARGET,
        TARGET + "        type: stretch\n",
        23,
        "must be `committed` or `aspirational`",
    ),
    Case(
        "objective-type-typo",
        "  - key: q\n",
        "  - key: q\n    type: aspirationl\n",
        19,
        "did you mean `aspirational`?",
    ),
    Case(
        "stretch-below-target",
        TARGET,
        TARGET + "        stretch: 500000\n",
        23,
        "is not beyond the target 575000: without a baseline this key result counts up from 0",
    ),
    Case(
        "stretch-above-target-of-a-decrease",
        METRIC + TARGET,
        "        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date}\n"
        "        baseline: 40\n        target: 30\n        stretch: 35\n",
        24,
        "should decrease (baseline 40 → target 30), so write a stretch below 30",
    ),
    Case(
        "stretch-equals-target",
        TARGET,
        TARGET + "        stretch: 575000\n",
        23,
        "the stretch equals the target",
    ),
    Case(
        "stretch-relative-for-a-number",
        TARGET,
        TARGET + '        stretch: "+30%"\n',
        23,
        "write the stretch as a number too",
    ),
    Case(
        "stretch-number-for-a-relative-target",
        TARGET,
        '        baseline: previous_period\n        target: "+15%"\n        stretch: 700000\n',
        24,
        "the stretch must be one too (like '+30%')",
    ),
    Case(
        "stretch-relative-short-of-target",
        TARGET,
        '        baseline: previous_period\n        target: "+15%"\n        stretch: "+10%"\n',
        24,
        "write a change more than `+15%`",
    ),
    Case(
        "stretch-below-minus-100-percent",
        TARGET,
        '        baseline: 100\n        target: "-10%"\n        stretch: "-120%"\n',
        24,
        "a decrease must stay above -100%",
    ),
    Case("stretch-nan", TARGET, TARGET + "        stretch: .nan\n", 23, "write a finite number"),
    Case("stretch-text", TARGET, TARGET + "        stretch: lots\n", 23, "'lots' is not a stretch"),
    Case(
        "stretch-without-target",
        TARGET,
        "        stretch: 600000\n",
        20,
        "`stretch` needs a `target`",
    ),
    Case("confidence-above-1", TARGET, TARGET + "        confidence: 1.5\n", 23, "outside 0..1"),
    Case("confidence-negative", TARGET, TARGET + "        confidence: -0.2\n", 23, "outside 0..1"),
    Case("confidence-percent", TARGET, TARGET + "        confidence: 80%\n", 23, "0.8 for 80%"),
    Case("confidence-80", TARGET, TARGET + "        confidence: 80\n", 23, "write 0.8 for 80 %"),
    Case("confidence-word", TARGET, TARGET + "        confidence: high\n", 23, "`high` is not a confidence"),
    Case("confidence-yes", TARGET, TARGET + "        confidence: yes\n", 23, "`true` is not a confidence"),
    # ---- closing a period (issue 13, Deliver 6)
    Case("close-after-negative", STORE, STORE + "close_after: -3d\n", 3, "close_after `-3d` is negative"),
    Case("close-after-words", STORE, STORE + "close_after: two weeks\n", 3, "`two weeks` is not a duration"),
    Case("close-after-no-unit", STORE, STORE + "close_after: 14\n", 3, "write 14d for 14 days"),
    Case(
        "close-after-longer-than-the-month",
        "  - key: q\n",
        "  - key: q\n    period: current_month\n    close_after: 40d\n",
        20,
        "close_after 40d is as long as a month",
    ),
    Case(
        "final-score-that-never-closes",
        None,
        BASE.replace(STORE, STORE + "close_after: off\n").replace(
            HS_FIELDS, '    fields: {okr_value: "*.value", okr_final: "*.final_score"}\n'
        ),
        33,
        "no objective ever closes a period (close_after: off)",
    ),
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
    # ---- history as CRM records (issue 13, Deliver 4): a history entry after the last target
    Case(
        "history-unknown-key-result",
        *history("{source: sfdc, history: {key_results: [q.revenu]}}"),
        33,
        "Did you mean `q.revenue`?",
    ),
    Case(
        "history-unknown-attribute",
        *history("{source: sfdc, history: {fields: {velocity: Velocity__c}}}"),
        33,
        "unknown key `velocity`: use `key`, `name`, `key_result`",
    ),
    Case(
        "history-hubspot-field-upper",
        *history("{source: hub, history: {fields: {value: OkrValue}}}"),
        33,
        "not a HubSpot property name",
    ),
    Case(
        "history-two-attributes-one-field",
        *history("{source: sfdc, history: {fields: {value: Target__c}}}"),
        33,
        "would hold both value and target: give each attribute its own field",
    ),
    Case(
        "history-object-of-another-target",
        *history("{source: hub, history: {object: p_key_results}}"),
        33,
        "give the history its own object",
    ),
    Case(
        "history-no-key-results",
        *history("{source: sfdc, history: {key_results: []}}"),
        33,
        "drop the key to keep every key result's",
    ),
    Case(
        "history-with-upsert-on",
        *history("{source: sfdc, history: {}, upsert_on: Key__c}"),
        33,
        "unknown key `upsert_on`; allowed keys here: source, history, verify",
    ),
    # ---- any object as a stream (issue 13, Deliver 5): a declared stream after BASE's renewals
    Case(
        "object-stream-named-like-a-built-in",
        *object_stream("deals: {object: Lead, owner: OwnerId, dates: {created: CreatedDate}}"),
        13,
        "`deals` is a built-in stream: configure it under `streams:`, or give this stream of Lead another name",
    ),
    Case(
        "object-stream-without-owner",
        *object_stream("leads: {object: Lead, dates: {created: CreatedDate}}"),
        13,
        "names no owner field: add `owner: OwnerId`",
    ),
    Case(
        "object-stream-object-with-bad-characters",
        *object_stream('leads: {object: "Lead; DELETE", owner: OwnerId, dates: {created: CreatedDate}}'),
        13,
        "is not an object name: write a Salesforce API name (Lead, Event, Case, My_Object__c)",
    ),
    Case(
        "object-stream-without-dates",
        *object_stream("leads: {object: Lead, owner: OwnerId}"),
        13,
        "has no dates: add `dates: {created: CreatedDate}`",
    ),
    Case(
        "object-stream-metric-unknown-date",
        *object_stream(LEADS, metric="{kind: count, stream: leads, date: convrted}"),
        23,
        "`convrted` is not a date of the stream leads; use one of: created, converted, modified_at "
        "(its `dates:`, or add `convrted` there). Did you mean `converted`?",
    ),
    Case(
        "object-stream-metric-unmapped-field",
        *object_stream(LEADS, metric="{kind: ratio, stream: leads, numerator: {is_converted: true}}"),
        23,
        "`is_converted` is not a field of the stream leads",
    ),
    Case(
        "object-stream-metric-undeclared-stream",
        *object_stream(LEADS, metric="{kind: count, stream: lead}"),
        23,
        "no source pulls `lead`: use deals, calls, renewals, or declare `lead:` under a source's "
        "`object_streams:`. Did you mean `leads`?",
    ),
    # ---- HubSpot's deleted-records sweep interval (issue 14)
    Case(
        "hubspot-deletes-every-hourly",
        HS_AUTH,
        HS_AUTH + "    deletes_every: hourly\n",
        15,
        "'hourly' is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d",
    ),
    Case("hubspot-deletes-every-0s", HS_AUTH, HS_AUTH + "    deletes_every: 0s\n", 15, "at least 1s"),
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
    # ---- manual key results (issue 13, Deliver 3): their value is a check-in, never a stream's
    Case("manual-with-stream", *metric("{kind: manual, stream: deals}"), 21, "remove `stream`"),
    Case(
        "manual-with-field",
        *metric("{kind: manual, field: amount}"),
        21,
        "from check-ins (`okrsync checkin`)",
    ),
    Case("manual-with-where", *metric("{kind: manual, where: {is_won: true}}"), 21, "remove `where`"),
    Case(
        "manual-by-owner-without-reps",
        *metric("{kind: manual}"),
        23,
        "write `owner_targets: {rep@example.com: 2}`",
    ),
    Case(
        "manual-even-split",
        METRIC + TARGET + "        group_by: owner\n",
        "        metric: {kind: manual}\n"
        + TARGET
        + "        group_by: owner\n        owner_targets: even\n",
        24,
        "an even split has no list of reps",
    ),
    Case(
        "manual-by-team",
        METRIC + TARGET + "        group_by: owner\n",
        "        metric: {kind: manual}\n" + TARGET + "        group_by: team\n",
        23,
        "write `group_by: owner` with owner_targets, or drop group_by",
    ),
    Case(
        "manual-previous-period",
        METRIC + TARGET + "        group_by: owner\n",
        "        metric: {kind: manual}\n        baseline: previous_period\n        target: '+10%'\n",
        22,
        "write the baseline as a number",
    ),
    # ---- targets from the CRM (issue 13, Deliver 1): each rep's quota, read every cycle
    Case(
        "crm-quota-on-a-hubspot-key-result",
        METRIC + TARGET,
        "        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true, source: hub}}\n"
        "        target: {from: crm_quota}\n",
        22,
        "`from: crm_quota` reads Salesforce, but this key result reads `hub`: use `from: crm_goal",
    ),
    Case(
        "crm-goal-without-name", TARGET, "        target: {from: crm_goal}\n", 22, "needs the goal's `name`"
    ),
    Case(
        "crm-target-unknown-from",
        TARGET,
        "        target: {from: crm_budget}\n",
        22,
        "`crm_quota` or `crm_goal`",
    ),
    Case(
        "crm-target-total-not-a-number",
        TARGET,
        "        target: {from: crm_quota, total: lots}\n",
        22,
        "number",
    ),
    Case(
        "crm-target-total-negative",
        TARGET,
        "        target: {from: crm_quota, total: -5}\n",
        22,
        "write the number to reach",
    ),
    Case(
        "crm-quota-on-an-average",
        METRIC + TARGET,
        "        metric: {kind: avg, stream: deals, field: amount}\n        target: {from: crm_quota}\n",
        22,
        "a quota is a period total",
    ),
    Case(
        "crm-quota-with-owner-targets",
        TARGET,
        "        target: {from: crm_quota}\n        owner_targets: even\n",
        23,
        "drop `owner_targets`",
    ),
    Case(
        "crm-goal-with-forecasting-type",
        TARGET,
        "        target: {from: crm_goal, name: Revenue, forecasting_type: OpportunityRevenue}\n",
        22,
        "`forecasting_type` is a Salesforce forecast type",
    ),
    Case(
        "crm-quota-with-a-stretch",
        TARGET,
        "        target: {from: crm_quota}\n        stretch: 600000\n",
        23,
        "a stretch goes beyond a target written as a number",
    ),
    # ---- the objective tree (issue 13, Deliver 7): parent, from_children, weight
    Case("tree-unknown-parent", *tree("    parent: compnay\n"), 19, "`parent` names another objective's key"),
    Case("tree-own-parent", *tree("    parent: q\n"), 19, "the objective tree has a cycle: q → q"),
    Case(
        "tree-cycle",
        *tree(
            "",
            before="  - key: a\n    parent: b\n    from_children: mean\n  - key: b\n    parent: a\n    from_children: mean\n",
        ),
        19,
        "the objective tree has a cycle: a → b → a",
    ),
    Case(
        "tree-from-children-without-children",
        *tree("    from_children: mean\n"),
        19,
        "add `parent: q` to the objectives that roll up into it, or drop `from_children`",
    ),
    Case(
        "tree-from-children-unknown",
        *tree("    from_children: average\n"),
        19,
        "`from_children` must be `mean` or `weighted`, got 'average'",
    ),
    Case(
        "tree-weight-negative",
        *tree("    weight: -2\n"),
        19,
        "the weight -2 is not positive: write a positive",
    ),
    Case("tree-weight-not-a-number", *tree("    weight: heavy\n"), 19, "`heavy` is not a weight"),
    Case(
        "tree-weight-under-a-mean-parent",
        *tree("    parent: top\n    weight: 2\n", before="  - key: top\n    from_children: mean\n"),
        22,
        "set `from_children: weighted` on `top`, or drop `weight`",
    ),
    Case(
        "tree-objective-writes-a-value",
        "    fields: {Q_Revenue__c: q.revenue.value}\n",
        "    fields: {Q_Revenue__c: q.revenue.value, Q_Score__c: q.value}\n",
        28,
        "an objective writes only its `score` (q.score)",
    ),
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
