"""SOQL safety (issue #4, deliverable 10): nothing from the YAML or the store can end or extend a query.

Values go through `format_soql`; object and field names must be identifiers known to `describe`;
a `where:` string stays one condition. Every attack is refused before any HTTP call.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest
import responses

from connectors.salesforce import SalesforceConnector, mapping, soql
from syncer.config.models import SalesforceStream
from syncer.contract import Cursor
from syncer.errors import RejectedRequestError
from tests.connectors.salesforce.builders import TASK_FIELDS, describe
from tests.connectors.salesforce.conftest import UNTIL, make_source, pulled

TASK = mapping.to_description(describe("Task", TASK_FIELDS))

WHERE_ATTACKS = [
    pytest.param("TaskSubtype = 'Call'; DELETE FROM Task", id="semicolon"),
    pytest.param("TaskSubtype = 'Call' LIMIT 1", id="limit"),
    pytest.param("TaskSubtype = 'Call' limit 1", id="limit-lowercase"),
    pytest.param("TaskSubtype = 'Call'\nLIMIT 1", id="limit-after-newline"),
    pytest.param("TaskSubtype = 'Call' ORDER BY Id", id="order-by"),
    pytest.param("TaskSubtype = 'Call' ORDER\tBY Id", id="order-tab-by"),
    pytest.param("TaskSubtype = 'Call' OFFSET 5", id="offset"),
    pytest.param("TaskSubtype = 'Call' GROUP BY OwnerId", id="group-by"),
    pytest.param("TaskSubtype = 'Call' WITH SECURITY_ENFORCED", id="with"),
    pytest.param("TaskSubtype = 'Call' FOR UPDATE", id="for-update"),
    pytest.param("TaskSubtype = 'Call' ALL ROWS", id="all-rows"),
    pytest.param("TaskSubtype = 'Call' USING SCOPE everything", id="using-scope"),
    pytest.param("Id IN (SELECT Id FROM Task)", id="subquery"),
    pytest.param("Id != null) FROM Account WHERE (Id != null", id="close-paren-then-from"),
    pytest.param("(TaskSubtype = 'Call'", id="unbalanced-open-paren"),
    pytest.param("TaskSubtype = 'Call')", id="unbalanced-close-paren"),
    pytest.param("TaskSubtype = 'Call", id="unclosed-quote"),
    pytest.param("TaskSubtype = 'Call'' OR Id != null", id="doubled-quote"),
    pytest.param("TaskSubtype = 'Call\\' OR Id != null", id="escaped-quote-swallows-the-rest"),
    pytest.param('TaskSubtype = "Call"', id="double-quotes"),
    pytest.param("TaskSubtype = 'Call' /* LIMIT 1 */", id="block-comment"),
    pytest.param("TaskSubtype = 'Call' -- AND IsDeleted = false", id="line-comment"),
    pytest.param("TaskSubtype = 'Call' // x", id="slash-comment"),
    pytest.param("TaskSubtype = 'Call'\x00 LIMIT 1", id="nul-byte"),
    pytest.param("TaskSubtype = 'Call'\uff1b DELETE", id="fullwidth-semicolon"),
    pytest.param("TaskSubtype = 'Call' # x", id="hash"),
    pytest.param("TaskSubtype = 'Call' `x`", id="backtick"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
]


@pytest.mark.parametrize("where", WHERE_ATTACKS)
def test_where_attack_is_refused_before_any_call(rsps: responses.RequestsMock, where: str) -> None:
    source = make_source(streams={"calls": {"object": "Task", "where": where}})
    connector = SalesforceConnector("sfdc", source, sleep=lambda _: None)

    with pytest.raises(RejectedRequestError, match=r"streams\.calls\.where is refused"):
        pulled(connector, "calls")

    assert len(rsps.calls) == 0  # not even the token request
    connector.close()


@pytest.mark.parametrize("where", WHERE_ATTACKS)
def test_owners_where_attack_is_refused(where: str) -> None:
    with pytest.raises(RejectedRequestError, match=r"streams\.owners\.where is refused"):
        soql.check_where(where, source="sfdc", stream="owners")


@pytest.mark.parametrize(
    "where",
    [
        "TaskSubtype = 'Call'",
        "Subject = 'LIMIT 1; ORDER BY Id -- /* FROM'",  # clause words and comments inside a string
        "Subject LIKE 'it\\'s%' AND (CallDurationInSeconds > -5 OR CallType != null)",
        "ActivityDate >= LAST_N_DAYS:30",
        "OwnerId IN ('005A', '005B')",
    ],
)
def test_one_plain_condition_is_accepted(where: str) -> None:
    assert soql.check_where(where, source="sfdc", stream="calls") == where


@pytest.mark.parametrize(
    "name",
    [
        "Task WHERE Id != null",
        "Task;",
        "Task--",
        "Opportunity.Account",
        "1Task",
        "Task\n",
        "",
        "Ta sk",
        "Täsk",
    ],
)
def test_object_name_must_be_an_identifier(name: str) -> None:
    with pytest.raises(RejectedRequestError, match="is not a Salesforce API name"):
        soql.check_identifier(name, source="sfdc", what="object")
    with pytest.raises(pydantic.ValidationError):  # the YAML is refused even earlier, offline
        SalesforceStream.model_validate({"object": name})


@pytest.mark.parametrize(
    "path",
    [
        "CallType FROM Account",
        "CallType, Id",
        "CallType)",
        "convertCurrency(CallType)",
        "Owner..Email",
        "CallType;",
        "COUNT()",
        "A.B.C.D.E.F",  # deeper than the five parent levels SOQL allows
        "CallType\n",
        "NoSuchField__c",  # well-formed, but not on the object
    ],
)
def test_field_path_must_be_an_identifier_path_known_to_describe(path: str) -> None:
    config = SalesforceStream.model_validate({"object": "Task", "attributes": {"extra": path}})

    with pytest.raises(RejectedRequestError, match="not found on object `Task`"):
        soql.plan_stream("calls", config, TASK, source="sfdc", convert_currency=False)


@pytest.mark.parametrize(
    ("last_id", "quoted"),
    [
        ("006' OR Id != '", "'006\\' OR Id != \\''"),
        ("a\\' OR Id != null OR Id = '", "'a\\\\\\' OR Id != null OR Id = \\''"),
        ("x\nLIMIT 1", "'x\\nLIMIT 1'"),
        ("%_", "'%_'"),
    ],
)
def test_values_reach_soql_only_escaped(last_id: str, quoted: str) -> None:
    """A cursor id from the store (CRM data) is quoted by format_soql, never pasted."""
    config = SalesforceStream.model_validate({"object": "Task", "where": "TaskSubtype = 'Call'"})
    plan = soql.plan_stream("calls", config, TASK, source="sfdc", convert_currency=False)
    since = Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC), last_id=last_id)

    query = soql.pull_query(plan, since=since, until=UNTIL)

    assert f"Id > {quoted}" in query
    assert query.endswith("ORDER BY SystemModstamp, Id")
    assert soql.where_problem(query.split(" WHERE ", 1)[1].rsplit(" ORDER BY ", 1)[0]) is None
