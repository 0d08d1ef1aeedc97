"""Deal pipelines: the default sales pipeline (HubSpot's built-in stage ids), a renewals and a
partner pipeline (numeric stage ids, as HubSpot assigns to custom pipelines).

Stage metadata holds strings: `isClosed` "true"/"false" and `probability` "0.0"–"1.0"; closed won
is isClosed "true" with probability "1.0" (docs/crm-apis.md §3.5).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.hubspot.values import to_hs_time

STAGE_ORDER = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
PROBABILITIES = {"prospecting": "0.2", "qualification": "0.4", "proposal": "0.6", "negotiation": "0.8",
                 "won": "1.0", "lost": "0.0"}  # fmt: skip
STAGE_LABELS = {"prospecting": "Appointment Scheduled", "qualification": "Qualified To Buy",
                "proposal": "Presentation Scheduled", "negotiation": "Contract Sent",
                "won": "Closed Won", "lost": "Closed Lost"}  # fmt: skip
# Sample pipeline → (pipeline id, label, sample stage → stage id).
STAGE_IDS: dict[str, dict[str, str]] = {
    "sales": {"prospecting": "appointmentscheduled", "qualification": "qualifiedtobuy",
              "proposal": "presentationscheduled", "negotiation": "contractsent",
              "won": "closedwon", "lost": "closedlost"},
    "renewals": {stage: str(31_000_001 + n) for n, stage in enumerate(STAGE_ORDER)},
    "partner": {stage: str(32_000_001 + n) for n, stage in enumerate(STAGE_ORDER)},
}  # fmt: skip
PIPELINES = (("default", "Sales Pipeline", "sales"), ("renewals", "Renewals Pipeline", "renewals"),
             ("partner", "Partner Pipeline", "partner"))  # fmt: skip


def build_pipelines(created: datetime) -> list[dict[str, Any]]:
    """The portal's deal pipelines as `GET /crm/v3/pipelines/deals` returns them."""
    stamp = to_hs_time(created)
    return [
        {
            "id": pipeline_id, "label": label, "displayOrder": order, "archived": False,
            "createdAt": stamp, "updatedAt": stamp,
            "stages": [_stage(STAGE_IDS[sample][stage], stage, n, stamp) for n, stage in enumerate(STAGE_ORDER)],
        }
        for order, (pipeline_id, label, sample) in enumerate(PIPELINES)
    ]  # fmt: skip


def _stage(stage_id: str, stage: str, order: int, stamp: str) -> dict[str, Any]:
    is_closed = "true" if stage in ("won", "lost") else "false"
    return {
        "id": stage_id, "label": STAGE_LABELS[stage], "displayOrder": order, "archived": False,
        "createdAt": stamp, "updatedAt": stamp, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        "metadata": {"isClosed": is_closed, "probability": PROBABILITIES[stage]},
    }  # fmt: skip


def stage_metadata(
    pipelines: list[dict[str, Any]], pipeline_id: str | None, stage_id: str | None
) -> dict[str, str] | None:
    """The metadata of a stage of a pipeline, or None when either is unknown."""
    for pipeline in pipelines:
        if pipeline["id"] == pipeline_id:
            for stage in pipeline["stages"]:
                if stage["id"] == stage_id:
                    metadata: dict[str, str] = stage["metadata"]
                    return metadata
    return None
