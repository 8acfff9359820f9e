from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base
from switchboard.kit.clock import utcnow

EMPLOYEE_STATUSES = ("active", "break", "offline")
CLIENT_KINDS = ("individual", "legal_entity")
PERMISSIONS = (
    "general_chat",
    "supervise",
    "manage_personal_managers",
    "manage_employees",
    "manage_clients",
    "issue_person_tokens",
)


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'break', 'offline')", name="status_valid"),
        CheckConstraint("general_limit IS NULL OR general_limit >= 0", name="limit_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    permissions: Mapped[list[str]] = mapped_column(default=list)
    general_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or disable: every token signed with an older value is void.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # When the last live connection of this employee ended; None while one is live or if they
    # never connected (SPEC 10: such an employee is left alone by presence).
    disconnected_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Tie-break of SPEC 4.3: who has waited longest since their last general assignment.
    last_general_assigned_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def has(self, permission: str) -> bool:
        return permission in self.permissions


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("kind IN ('individual', 'legal_entity')", name="kind_valid"),
        Index("ix_clients_personal_manager_id", "personal_manager_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(Text)  # casefolded copy for search
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    personal_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonalManagerChange(Base):
    """The audited history of SPEC 6: who changed a client's manager, when, from whom, to whom."""

    __tablename__ = "personal_manager_changes"
    __table_args__ = (Index("ix_pm_changes_client", "client_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    previous_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), nullable=True
    )
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoutingSettings(Base):
    """One row (id 1) of the settings of API.md; read inside each routing transaction."""

    __tablename__ = "settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("default_general_limit >= 0", name="default_limit_valid"),
        CheckConstraint("offline_grace_seconds >= 0", name="grace_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    default_general_limit: Mapped[int] = mapped_column(Integer, default=3)
    requeue_general_on_inactive: Mapped[bool] = mapped_column(Boolean, default=True)
    pm_appeals_count_toward_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_grace_seconds: Mapped[int] = mapped_column(Integer, default=60)


class AuditRecord(Base):
    """Append-only audit trail (tokens issued, manager changes, status changes, ...).

    `employee_id` is the employee the change is about, `related_employee_id` a second one (the
    previous manager, the previous holder of a transferred appeal). UPDATE and DELETE are refused
    by triggers (migration 0004).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor", "actor_id", "actor_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    related_employee_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    client_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
