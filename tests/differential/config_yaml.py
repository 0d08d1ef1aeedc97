"""The YAML of one scenario: one source (`crm`), its key results and its write-back targets.

Salesforce writes each rep's values onto their User record (`match: owner`, fields `OKR<n>_…__c`
made by `okrsync fields ensure`) and every value onto `OKR_Key_Result__c` (upsert on
`OKR_Key__c`); HubSpot upserts every value into the key-result custom object on `okr_key`.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.differential.scenario import Scenario

SOURCE = "crm"
KEYED_OBJECT = {"salesforce": "OKR_Key_Result__c", "hubspot": "p_key_results"}
KEYED_FIELDS = {
    "salesforce": {"Name": "key", "Value__c": "value", "Target__c": "target",
                   "Progress__c": "progress_pct", "Status__c": "status"},
    "hubspot": {"okr_name": "key", "okr_value": "value", "okr_target": "target",
                "okr_progress": "progress_pct", "okr_status": "status"},
}  # fmt: skip
UPSERT_ON = {"salesforce": "OKR_Key__c", "hubspot": "okr_key"}
USER_ATTRIBUTES = {"Value": "value", "Target": "target", "Progress": "progress_pct", "Status": "status"}


def user_field(key_result: str, suffix: str) -> str:
    """kr2, Value → OKR2_Value__c."""
    return f"OKR{key_result.removeprefix('kr')}_{suffix}__c"


def _source(scenario: Scenario) -> dict[str, Any]:
    if scenario.crm == "salesforce":
        return {
            "kind": "salesforce", "instance_url": "${SF_URL}", "ca_bundle": "${SF_CA}",
            "auth": {"method": "client_credentials", "client_id": "${SF_CLIENT_ID}",
                     "client_secret": "${SF_CLIENT_SECRET}"},
            "owners": {"team_field": "Department"},
            "streams": {"deals": {"object": "Opportunity"},
                        "calls": {"object": "Task", "where": "TaskSubtype = 'Call'"},
                        "renewals": {"object": "Opportunity", "where": "Type = 'Renewal'"}},
        }  # fmt: skip
    return {
        "kind": "hubspot", "base_url": "${HS_URL}",
        "auth": {"method": "private_app", "access_token": "${HS_TOKEN}"},
        "rate_limit": {"requests_per_10s": 1000, "search_per_second": 5},
        "streams": {"deals": {"pipelines": ["default"]}, "calls": {}, "renewals": {"pipelines": ["renewals"]}},
    }  # fmt: skip


def _owner_fields(scenario: Scenario) -> dict[str, str]:
    fields: dict[str, str] = {}
    for objective in scenario.objectives:
        for kr in objective["key_results"]:
            if kr.get("group_by") == "owner" or scenario.owner_writes_all:
                for suffix, attribute in USER_ATTRIBUTES.items():
                    fields[user_field(kr["key"], suffix)] = f"{objective['key']}.{kr['key']}.{attribute}"
    return fields


def _writeback(scenario: Scenario) -> list[dict[str, Any]]:
    keyed = {field: f"*.{attribute}" for field, attribute in KEYED_FIELDS[scenario.crm].items()}
    targets: list[dict[str, Any]] = [
        {"source": SOURCE, "object": KEYED_OBJECT[scenario.crm], "upsert_on": UPSERT_ON[scenario.crm],
         "fields": keyed},
    ]  # fmt: skip
    owner_fields = _owner_fields(scenario)
    if scenario.crm == "salesforce" and owner_fields:
        targets.append({"source": SOURCE, "object": "User", "match": "owner", "fields": owner_fields})
    return targets


def config_dict(scenario: Scenario, store_url: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 1,
        "store": store_url,
        "timezone": scenario.zone,
        "fiscal_year_start_month": scenario.fiscal_year_start_month,
        # The oracle recomputes every period from the raw records, edits included: no period is
        # frozen (closing is tested on its own in tests/integration/test_period_closing.py).
        "close_after": "off",
        "sources": {SOURCE: _source(scenario)},
    }
    if scenario.teams is not None:
        config["teams"] = scenario.teams
    config["objectives"] = scenario.objectives
    config["writeback"] = _writeback(scenario)
    return config


def config_text(scenario: Scenario, store_url: str) -> str:
    return yaml.safe_dump(config_dict(scenario, store_url), sort_keys=False, default_flow_style=None)
