"""SOQL for the sandbox: parse, bind to the schema, evaluate over the org, project to JSON.

`prepare_query` turns a statement into a BoundQuery (or raises the ApiError Salesforce would send);
`select_ids` runs it; `Projector` shapes result records.
"""

from __future__ import annotations

from sandbox.salesforce.schema import Schema
from sandbox.salesforce.soql.binding import BoundQuery, bind_query
from sandbox.salesforce.soql.evaluation import RecordSource, select_ids
from sandbox.salesforce.soql.parser import parse_soql
from sandbox.salesforce.soql.projection import Projector, flatten

__all__ = ["BoundQuery", "Projector", "RecordSource", "flatten", "prepare_query", "select_ids"]


def prepare_query(text: str, schema: Schema) -> BoundQuery:
    """Parse and bind one SOQL statement; raises ApiError (MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD…)."""
    return bind_query(parse_soql(text), schema)
