from __future__ import annotations

import json
from typing import Any

from switchboard.auth.principals import Actor
from switchboard.db.session import Uow
from switchboard.kit.clock import utcnow
from switchboard.people.models import AuditRecord


def audit_txn(
    uow: Uow,
    actor: Actor,
    action: str,
    *,
    employee_id: int | None = None,
    client_id: int | None = None,
    **details: Any,
) -> None:
    """Append to the audit trail in the same transaction as the change it describes."""
    uow.session.add(
        AuditRecord(
            at=utcnow(),
            actor_type=actor.type,
            actor_id=actor.id,
            action=action,
            employee_id=employee_id,
            client_id=client_id,
            details=json.dumps(details, ensure_ascii=False, default=str),
        )
    )
