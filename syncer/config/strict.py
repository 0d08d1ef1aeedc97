"""The base of every configuration model: unknown keys are errors, values never change."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=64)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)  # a YAML typo is an error
