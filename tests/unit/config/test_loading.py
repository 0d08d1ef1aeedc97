"""load_settings on valid files: interpolation, defaults, secrets, file paths, and whole-file reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syncer.config import Settings, load_settings
from syncer.config.models import ClientCredentials, Every, HubSpotSource, PrivateApp, SalesforceSource
from syncer.errors import ConfigError

ENV = {
    "SF_INSTANCE_URL": "https://acme.my.salesforce.com",
    "SF_CLIENT_ID": "3MVG9-client-id",
    "SF_CLIENT_SECRET": "sf-secret-8f2d1c",
    "HUBSPOT_TOKEN": "pat-na1-secret-77aa",
    "PGPASS": "pg-secret-5e5e",
}

# The README's example, with HubSpot's `auth: {method: private_app, ...}`.
FULL = """\
version: 1
store: sqlite:///okrsync.db
timezone: America/New_York
fiscal_year_start_month: 2

sources:
  sfdc:
    kind: salesforce
    instance_url: ${SF_INSTANCE_URL}
    ca_bundle: certs/private-ca.pem
    auth:
      method: client_credentials
      client_id: ${SF_CLIENT_ID}
      client_secret: ${SF_CLIENT_SECRET}
    schedule: "*/15 * * * *"
    streams:
      deals:    {object: Opportunity, where: "RecordType.DeveloperName != 'Partner'"}
      calls:    {object: Task, where: "TaskSubtype = 'Call'"}
      renewals: {object: Opportunity, where: "Type = 'Renewal'"}
  hub:
    kind: hubspot
    auth:
      method: private_app
      access_token: ${HUBSPOT_TOKEN}
    schedule: {every: 10m}
    streams:
      deals:    {pipelines: [default]}
      calls:    {}
      renewals: {pipelines: [renewals]}

teams:
  emea: [ana@example.com, bo@example.com]

objectives:
  - key: q-revenue
    title: Increase quarterly revenue
    period: current_quarter
    key_results:
      - key: revenue
        title: Reach $575,000 revenue, +15 % over last quarter
        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}, date: close_date}
        baseline: previous_period
        target: "+15%"
        group_by: owner
        owner_targets: even
      - key: new-deals
        metric: {kind: count, stream: deals, where: {is_won: true, type: new}, date: close_date}
        target: 50
      - key: cycle
        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
        baseline: 30
        target: 25.5
  - key: retention
    title: Improve customer retention
    period: current_quarter
    key_results:
      - key: renewal-rate
        metric: {kind: ratio, stream: renewals, numerator: {status: renewed}, denominator: {status: [renewed, churned]}, date: due_date}
        target: 0.85
      - key: churn
        metric: {kind: ratio, stream: renewals, numerator: {status: churned}, weight: amount, date: due_date}
        baseline: previous_period
        target: "-5%"

writeback:
  - source: sfdc
    object: User
    match: owner
    fields:
      Q_Revenue__c: q-revenue.revenue.value
      Q_Revenue_Target__c: q-revenue.revenue.target
      Q_Revenue_Progress__c: q-revenue.revenue.progress_pct
      Q_Revenue_Status__c: q-revenue.revenue.status
  - source: hub
    object: p_key_results
    upsert_on: okr_key
    fields:
      okr_value: "*.value"
      okr_progress: "*.progress_pct"
"""


def write(tmp_path: Path, text: str, name: str = "okr.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, ENV if env is None else env)
    return [str(problem) for problem in caught.value.problems]


def test_full_example_loads_with_secrets_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), ENV)

    sfdc, hub = settings.sources["sfdc"], settings.sources["hub"]
    assert isinstance(sfdc, SalesforceSource)
    assert isinstance(sfdc.auth, ClientCredentials)
    assert sfdc.instance_url == "https://acme.my.salesforce.com"
    assert sfdc.auth.client_secret.get_secret_value() == "sf-secret-8f2d1c"
    assert isinstance(hub, HubSpotSource)
    assert isinstance(hub.auth, PrivateApp)
    assert hub.auth.access_token.get_secret_value() == "pat-na1-secret-77aa"
    assert hub.schedule == Every(every="10m")
    assert [o.key for o in settings.objectives] == ["q-revenue", "retention"]
    assert settings.key_result("retention", "churn") is not None
    assert len(settings.writeback) == 2


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), ENV)

    sfdc, hub = settings.sources["sfdc"], settings.sources["hub"]
    assert isinstance(sfdc, SalesforceSource)
    assert isinstance(hub, HubSpotSource)
    assert (sfdc.api_version, sfdc.bulk_threshold, sfdc.convert_currency) == ("59.0", 50_000, None)
    assert hub.base_url == "https://api.hubapi.com"
    assert hub.rate_limit.requests_per_10s == 90
    kr = settings.key_result("q-revenue", "new-deals")
    assert kr is not None
    assert (kr.weight, kr.baseline, kr.direction, kr.group_by) == (1.0, None, None, None)
    assert settings.objectives[0].key_results[0].metric.where == {"is_won": True}
    assert (settings.serve.port, settings.alerts.webhook_url) == (8080, None)
    assert settings.alerts.on == ["cycle_failed", "status_changed"]


def test_relative_files_are_resolved_against_the_yaml_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, FULL)
    monkeypatch.chdir("/")  # the cwd must not matter

    settings = load_settings(path, ENV)

    sfdc = settings.sources["sfdc"]
    assert isinstance(sfdc, SalesforceSource)
    assert sfdc.ca_bundle == str(tmp_path / "certs" / "private-ca.pem")
    assert settings.store == f"sqlite:///{tmp_path / 'okrsync.db'}"


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("sqlite:///data/okr.db", "sqlite:///{dir}/data/okr.db"),
        ("sqlite:////var/lib/okr.db", "sqlite:////var/lib/okr.db"),
        ("'sqlite:///file:okr.db?mode=ro&uri=true'", "sqlite:///file:okr.db?mode=ro&uri=true"),
        ("postgresql+psycopg://okr:${PGPASS}@db/okr", "postgresql+psycopg://okr:pg-secret-5e5e@db/okr"),
    ],
)
def test_store_url_is_anchored_only_when_it_is_a_relative_sqlite_file(
    tmp_path: Path, store: str, expected: str
) -> None:
    settings = load_settings(write(tmp_path, FULL.replace("sqlite:///okrsync.db", store)), ENV)

    assert settings.store == expected.format(dir=tmp_path)


def test_jwt_key_file_is_resolved_against_the_yaml_directory(tmp_path: Path) -> None:
    text = FULL.replace(
        "      method: client_credentials\n      client_id: ${SF_CLIENT_ID}\n"
        "      client_secret: ${SF_CLIENT_SECRET}\n",
        "      method: jwt\n      client_id: ${SF_CLIENT_ID}\n      username: okr@acme.com\n"
        "      private_key_file: keys/okrsync.key\n",
    )
    settings = load_settings(write(tmp_path, text), ENV)

    sfdc = settings.sources["sfdc"]
    assert isinstance(sfdc, SalesforceSource)
    assert getattr(sfdc.auth, "private_key_file", None) == str(tmp_path / "keys" / "okrsync.key")


@pytest.mark.parametrize(
    ("written", "loaded"),
    [
        ("Pipeline ${REGION} deals", "Pipeline emea deals"),
        ("${REGION}-${REGION}", "emea-emea"),
        ("costs $$5 and $${REGION}", "costs $$5 and ${REGION}"),
        ("$${REGION} is ${REGION}", "${REGION} is emea"),
        ("no variables $ here", "no variables $ here"),
    ],
)
def test_interpolation_fills_embedded_variables_and_keeps_escaped_ones(
    tmp_path: Path, written: str, loaded: str
) -> None:
    text = FULL.replace("title: Increase quarterly revenue", f"title: '{written}'")

    settings = load_settings(write(tmp_path, text), {**ENV, "REGION": "emea"})

    assert settings.objectives[0].title == loaded


def test_three_mistakes_are_reported_together_in_line_order(tmp_path: Path) -> None:
    text = (
        FULL.replace("timezone: America/New_York", "timezone: America/Nowhere")
        .replace("schedule: {every: 10m}", "schedule: {every: 10 minutes}")
        .replace("        group_by: owner\n", "        grop_by: owner\n")
    )
    path = write(tmp_path, text)

    assert problems_of(path) == [
        f"{path}:3: `timezone`: 'America/Nowhere' is not an IANA time zone: "
        "use a name like America/New_York or Europe/Berlin",
        f"{path}:25: `every`: '10 minutes' is not a duration: write a number and a unit, "
        "like 30s, 10m, 2h or 1d",
        f"{path}:44: unknown key `grop_by`; did you mean `group_by`?",
    ]


def test_environment_and_validation_problems_come_in_one_report(tmp_path: Path) -> None:
    path = write(tmp_path, FULL.replace("fiscal_year_start_month: 2", "fiscal_year_start_month: 13"))
    env = {name: value for name, value in ENV.items() if name not in ("HUBSPOT_TOKEN", "SF_INSTANCE_URL")}

    assert problems_of(path, env) == [  # and no second problem for the empty instance_url
        f"{path}:4: `fiscal_year_start_month` must be at most 12, got 13",
        f"{path}:9: environment variable SF_INSTANCE_URL is not set (used by sources.sfdc.instance_url)",
        f"{path}:24: environment variable HUBSPOT_TOKEN is not set (used by sources.hub.auth.access_token)",
    ]


SECRET = "s3cr3t-value-9d8c7b"


@pytest.mark.parametrize(
    ("change", "env"),
    [
        # a literal secret in the file
        (("client_secret: ${SF_CLIENT_SECRET}", f"client_secret: {SECRET}"), ENV),
        # a secret variable also used by a field that fails validation
        (
            ("store: sqlite:///okrsync.db", "store: mysql://okr:${SF_CLIENT_SECRET}@db/okr"),
            {**ENV, "SF_CLIENT_SECRET": SECRET},
        ),
        # a secret variable used by an unknown key
        (
            (
                "instance_url: ${SF_INSTANCE_URL}",
                "instance_url: ${SF_INSTANCE_URL}\n    token: ${SF_CLIENT_SECRET}",
            ),
            {**ENV, "SF_CLIENT_SECRET": SECRET},
        ),
        # a secret variable used where a pattern is expected
        (
            ("instance_url: ${SF_INSTANCE_URL}", "instance_url: ${SF_CLIENT_SECRET}"),
            {**ENV, "SF_CLIENT_SECRET": SECRET},
        ),
    ],
)
def test_secrets_never_appear_in_the_error(
    tmp_path: Path, change: tuple[str, str], env: dict[str, str]
) -> None:
    path = write(tmp_path, FULL.replace(*change).replace("  emea: [ana", "  emea: [bad-address, ana"))

    with pytest.raises(ConfigError) as caught:
        load_settings(path, env)

    assert caught.value.problems, "the file has mistakes"
    for text in (str(caught.value), repr(caught.value), *map(repr, caught.value.problems)):
        assert SECRET not in text


def test_an_interpolated_value_is_shown_as_the_reference_written(tmp_path: Path) -> None:
    path = write(tmp_path, FULL.replace("store: sqlite:///okrsync.db", "store: mysql://okr:${PGPASS}@db/okr"))

    assert problems_of(path) == [
        f"{path}:2: `store`: 'mysql://okr:${{PGPASS}}@db/okr' is not a store URL: "
        "use sqlite:///okrsync.db or postgresql+psycopg://user@host/db"
    ]


def test_loaded_settings_are_the_settings_type(tmp_path: Path) -> None:
    assert isinstance(load_settings(str(write(tmp_path, FULL)), ENV), Settings)


EMPTY = "the file is empty: start with `version: 1` and a `sources:` section"
NOT_A_MAPPING = "the top level must be `key: value` lines (`version: 1`, `sources:`, …), not"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", "", EMPTY),
        ("# only a comment\n", "", EMPTY),
        ("- version: 1\n", ":1", f"{NOT_A_MAPPING} a list"),
        ("okrsync\n", ":1", f"{NOT_A_MAPPING} the single value 'okrsync'"),
    ],
)
def test_a_file_without_settings_says_what_to_write(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = write(tmp_path, text)

    assert problems_of(path) == [f"{path}{where}: {message}"]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration: No such file or directory"):
        load_settings(tmp_path / "nowhere.yaml", ENV)


def test_an_empty_secret_variable_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)

    assert problems_of(path, {**ENV, "SF_CLIENT_SECRET": ""}) == [
        f"{path}:14: environment variable SF_CLIENT_SECRET is empty (used by sources.sfdc.auth.client_secret): "
        "set it"
    ]


def test_merged_keys_are_reported_where_they_are_merged_in(tmp_path: Path) -> None:
    text = FULL.replace("      calls:    {object: Task,", "      calls: &task {object: Task,").replace(
        "      calls:    {}", "      calls: {<<: *task}"
    )

    with pytest.raises(ConfigError) as caught:  # HubSpot streams have no `object`: the merge happened
        load_settings(write(tmp_path, text), ENV)

    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'okr.yaml'}:28: unknown key `object`; allowed keys here: pipelines, deal_types, fields, "
        "attributes",
        f"{tmp_path / 'okr.yaml'}:28: unknown key `where`; allowed keys here: pipelines, deal_types, fields, "
        "attributes",
    ]
