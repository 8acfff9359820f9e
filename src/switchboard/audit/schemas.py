from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.appeals.schemas import ActorOut
from switchboard.kit.schemas import Schema


class AuditOut(Schema):
    id: int
    at: datetime
    actor: ActorOut
    action: str
    employee_id: int | None
    related_employee_id: int | None
    client_id: int | None
    details: dict[str, Any]
