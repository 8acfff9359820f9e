from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class EmployeeRef(Schema):
    id: int
    full_name: str


class EmployeeStatusRef(Schema):
    id: int
    full_name: str
    status: str
