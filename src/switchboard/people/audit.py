from __future__ import annotations

import json
from typing import Any

from switchboard.auth.principals import Actor
from switchboard.db.session import Uow
from switchboard.kit.clock import utcnow
from switchboard.people.models import AuditRecord

# Every action the trail knows; `GET /audit?action=` accepts these only. A new action is added
# here, or `audit_txn` refuses it.
AUDIT_ACTIONS = frozenset(
    {
        "appeal_closed",
        "appeal_returned",
        "appeal_transferred",
        "client_created",
        "employee_created",
        "employee_disabled",
        "employee_enabled",
        "employee_updated",
        "login",
        "login_failed",
        "login_throttled",
        "participant_added",
        "participant_removed",
        "password_changed",
        "permissions_changed",
        "person_created",
        "person_disabled",
        "person_enabled",
        "person_token_issued",
        "personal_manager_changed",
        "settings_changed",
        "status_changed",
    }
)

# Details never carry secrets (ARCHITECTURE: no tokens or passwords in logs).
_SECRET_WORDS = ("password", "token", "secret")


def _check_no_secrets(details: dict[str, Any]) -> None:
    for name in details:
        if any(word in name.lower() for word in _SECRET_WORDS):
            raise ValueError(f"audit details may not carry {name!r}")


def audit_txn(
    uow: Uow,
    actor: Actor,
    action: str,
    *,
    employee_id: int | None = None,
    related_employee_id: int | None = None,
    client_id: int | None = None,
    **details: Any,
) -> None:
    """Append to the audit trail in the same transaction as the change it describes.

    `employee_id` is the employee the change is about; `related_employee_id` a second one (the
    previous manager, the previous holder). The actor is who did it (`system`: the server)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    _check_no_secrets(details)
    uow.session.add(
        AuditRecord(
            at=utcnow(),
            actor_type=actor.type,
            actor_id=actor.id,
            action=action,
            employee_id=employee_id,
            related_employee_id=related_employee_id,
            client_id=client_id,
            details=json.dumps(details, ensure_ascii=False, default=str),
        )
    )
