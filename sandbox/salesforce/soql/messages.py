"""SOQL error messages shaped like Salesforce's: the statement line, a caret, row and column."""

from __future__ import annotations

from sandbox.salesforce.errors import ApiError


def query_error(error_code: str, text: str, position: int, detail: str, *, status: int = 400) -> ApiError:
    """An ApiError whose message points at `position` in the statement `text`."""
    position = max(0, min(position, len(text)))
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    row = text.count("\n", 0, position) + 1
    column = position - line_start + 1
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"
    return ApiError(status, error_code, message)


def unexpected_token(text: str, position: int, token: str) -> ApiError:
    return query_error("MALFORMED_QUERY", text, position, f"unexpected token: '{token}'")


def no_such_column(text: str, position: int, column: str, entity: str) -> ApiError:
    detail = (
        f"No such column '{column}' on entity '{entity}'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )
    return query_error("INVALID_FIELD", text, position, detail)


def unknown_relationship(text: str, position: int, name: str) -> ApiError:
    detail = (
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
        "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    )
    return query_error("INVALID_FIELD", text, position, detail)


def unsupported_object(text: str, position: int, name: str) -> ApiError:
    detail = (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
        "the appropriate names."
    )
    return query_error("INVALID_TYPE", text, position, detail)
