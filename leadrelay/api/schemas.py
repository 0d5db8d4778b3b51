"""The API's shapes. Inputs forbid unknown fields; outputs follow CONTRACT.md."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field


class Error(Schema):
    code: str
    message: str


class SourceRef(Schema):
    id: int
    kind: str


class UserRef(Schema):
    id: int
    username: str
    name: str


class LeadOut(Schema):
    id: int
    status: str
    stage: str | None
    name: str
    email: str
    phone: str
    company: str
    website: str
    message: str
    attribution: dict[str, str]
    source: SourceRef | None
    service: str | None
    received_at: datetime
    status_changed_at: datetime
    sdr: UserRef | None
    manager: UserRef | None
    duplicate_of: int | None
    version: int
    first_touch_at: datetime | None = Field(
        None, description="The first human contact (call, e-mail, meeting); null before it."
    )
    sla_due_at: datetime | None = Field(
        None, description="The running SLA deadline nearest to come; null when none runs."
    )


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(description="Target status (machine name).")
    version: int = Field(description="The lead's `version` you last read.")
    reason: str = Field("", max_length=5000)
    manager: int | None = Field(None, description="User id of the sales manager (to `assigned`).")
    partner: int | None = Field(None, description="Partner id (to `referred`).")
    department: int | None = Field(None, description="Department id (to `routed`).")


class TouchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="`call`, `email` (an e-mail sent) or `meeting`.")
    outcome: str = Field(
        "",
        description="For calls: `reached`, `no_answer`, `busy`, `voicemail`, `wrong_number`.",
    )
    note: str = Field("", max_length=5000)


class EventOut(Schema):
    id: int
    at: datetime
    actor: UserRef | None
    kind: str
    from_status: str
    to_status: str
    reason: str
    data: dict[str, object]
