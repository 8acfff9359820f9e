from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# The largest id a row can have: 32-bit keys (PostgreSQL `integer`), 64-bit for messages and
# events. A bigger number names nothing; it must never reach the database (SPEC 10: no 500).
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(Schema):
    """A request body: JSON types exactly as documented, so `"5"`, `5.0` or `false` is not
    taken for the integer 5 or 0, nor `"no"` or `0` for a boolean."""

    model_config = ConfigDict(strict=True)


class EmployeeRef(Schema):
    id: int
    full_name: str


class EmployeeStatusRef(Schema):
    id: int
    full_name: str
    status: str
