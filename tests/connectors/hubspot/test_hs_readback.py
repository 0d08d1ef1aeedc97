"""Read-back batches for drift repair: ≤ 100 inputs, by id or by the unique property upserted on."""

from __future__ import annotations

from connectors.hubspot.readback import plan_reads, to_stored
from syncer.contract import RecordRef


def test_batches_hold_at_most_100_inputs_and_name_their_id_property() -> None:
    refs = [RecordRef(None, "okr_key", f"k{i}") for i in range(250)] + [RecordRef("901")]
    batches = plan_reads("p_key_results", refs, ["okr_value"])
    assert [(len(b.refs), b.id_property) for b in batches] == [
        (100, "okr_key"),
        (100, "okr_key"),
        (50, "okr_key"),
        (1, None),
    ]
    assert batches[0].body()["idProperty"] == "okr_key"
    assert batches[0].body()["properties"] == ["okr_value", "okr_key"]
    assert "idProperty" not in batches[-1].body()


def test_a_record_hubspot_does_not_have_is_absent_from_what_was_read() -> None:
    [batch] = plan_reads("p_key_results", [RecordRef(None, "okr_key", k) for k in ("a", "b")], ["okr_value"])
    answer = {
        "status": "COMPLETE",
        "results": [{"id": "7", "properties": {"okr_key": "a", "okr_value": "12.5"}}],
        "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": ["b"]}}],
    }
    assert to_stored(answer, batch, ["okr_value"]) == {"okr_key=a": {"okr_value": "12.5"}}
