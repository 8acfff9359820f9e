"""Every table, imported in one place for the migrations and the tests."""

from switchboard.appeals.models import Appeal, AppealEvent
from switchboard.auth.models import LoginThrottle
from switchboard.db.base import Base
from switchboard.dialogs.models import Dialog, Message, Participant, ReadMark
from switchboard.events.models import EventRecipient, EventRecord, LiveConnection
from switchboard.people.models import (
    AuditRecord,
    Client,
    Employee,
    Person,
    PersonalManagerChange,
    RoutingSettings,
)

metadata = Base.metadata

__all__ = [
    "Appeal",
    "AppealEvent",
    "AuditRecord",
    "Client",
    "Dialog",
    "Employee",
    "EventRecipient",
    "EventRecord",
    "LiveConnection",
    "LoginThrottle",
    "Message",
    "Participant",
    "Person",
    "PersonalManagerChange",
    "ReadMark",
    "RoutingSettings",
    "metadata",
]
