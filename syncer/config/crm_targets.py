"""`target: {from: crm_quota | crm_goal, …}`: a key result whose targets the CRM holds (README
"Targets from the CRM"). Field-level checks only; the rules that need the whole file (which CRM
the key result reads, its kind, owner_targets) are in `crm_target_rules.py`.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from syncer.config.strict import Strict

CrmTargetKind = Literal["crm_quota", "crm_goal"]
CRM_OF_KIND = {"crm_quota": "salesforce", "crm_goal": "hubspot"}
FROM_DESCRIPTION = (
    "crm_quota: Salesforce Collaborative Forecasts quotas (ForecastingQuota); crm_goal: HubSpot goals "
    "(goal_targets) named by `name`"
)


class CrmTarget(Strict):
    """Each rep's target is their quota (or goal) for the key result's period, read every cycle."""

    from_: CrmTargetKind = Field(alias="from", description=FROM_DESCRIPTION)
    name: str | None = Field(None, description="crm_goal: the HubSpot goal's name (hs_goal_name)")
    forecasting_type: str | None = Field(
        None,
        description="crm_quota: the forecast type's DeveloperName; default: the active opportunity revenue type",
    )
    total: float | None = Field(
        None, description="the total's target; default: the sum of the active reps' quotas"
    )

    @field_validator("total")
    @classmethod
    def _total(cls, value: float | None) -> float | None:
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise ValueError(f"the total {value:g} is no target: write the number to reach, like 500000")
        return value

    @model_validator(mode="after")
    def _keys_of_its_crm(self) -> CrmTarget:
        if self.from_ == "crm_goal" and not (self.name or "").strip():
            raise ValueError(
                "`from: crm_goal` needs the goal's `name` as HubSpot shows it, like "
                '`target: {from: crm_goal, name: "Quarterly revenue quota"}`'
            )
        if self.from_ == "crm_goal" and self.forecasting_type is not None:
            raise ValueError(
                "`forecasting_type` is a Salesforce forecast type: use it with `from: crm_quota`, "
                "or drop it (a HubSpot goal is chosen by `name`)"
            )
        if self.from_ == "crm_quota" and self.name is not None:
            raise ValueError(
                "`name` chooses a HubSpot goal: with `from: crm_quota` choose the Salesforce forecast "
                "type with `forecasting_type:` (its DeveloperName), or drop `name`"
            )
        return self

    @property
    def crm(self) -> str:
        """The source kind that holds these targets: salesforce or hubspot."""
        return CRM_OF_KIND[self.from_]
