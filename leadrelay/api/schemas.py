"""The API's shapes. Inputs forbid unknown fields; outputs follow CONTRACT.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from leadrelay.qualify.fields import CURRENCIES
from leadrelay.qualify.models import BudgetBand, TimeframeBand


class Error(Schema):
    code: str
    message: str


class MissingItem(Schema):
    field: str = Field(description="Machine name, e.g. `bant.budget`, `answers.region`.")
    label: str = Field(description="What to tell the user, in the request's language.")


class OwnerRef(Schema):
    id: int
    name: str


class Unprocessable(Error):
    """A 422: the move or the values do not fit; the keys present say what exactly."""

    field: str | None = Field(None, description="The first field at fault.")
    missing: list[MissingItem] | None = Field(
        None,
        description="Everything a gated move still needs (a hand-off's BANT and required "
        "answers; a reason code, with the allowed codes in the label), in one go.",
    )
    allowed: list[str] | None = Field(
        None, description="The moves you may make from the current status."
    )
    errors: dict[str, str] | list[dict[str, Any]] | None = Field(
        None,
        description="`invalid`: a message per field (nothing was saved). "
        "`validation_error`: the body's shape errors.",
    )


class Conflict(Error):
    """A 409: someone got there first."""

    current_version: int | None = Field(
        None, description="`version_conflict`: the lead's version now, if you may see it."
    )
    status: str | None = Field(None, description="`version_conflict`: the lead's status now.")
    owner: OwnerRef | None = Field(None, description="`already_taken`: who has the request.")


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
    end_reason_code: str = Field(
        "",
        description="How a disqualified or lost lead ended: a code from `GET /reason-codes`; "
        "empty otherwise.",
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
    reason: str = Field("", max_length=5000, description="Your own words; kept in the history.")
    reason_code: str = Field(
        "",
        max_length=40,
        description="A code from `GET /reason-codes`: `kind=disqualify` to `disqualified`, "
        "`kind=return` when sales sends a lead back to `sdr_processing`, `kind=lost` to `lost`.",
    )
    competitor: str = Field(
        "", max_length=200, description="Who won the deal, for a move to `lost` (optional)."
    )
    manager: int | None = Field(None, description="User id of the sales manager (to `assigned`).")
    partner: int | None = Field(None, description="Partner id (to `referred`).")
    department: int | None = Field(None, description="Department id (to `routed`).")


class ReassignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sdr: int = Field(description="User id of the SDR who takes the request over.")
    version: int = Field(description="The lead's `version` you last read.")


class TouchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="`call`, `email` (an e-mail sent) or `meeting`.")
    outcome: str = Field(
        "",
        description="For calls: `reached`, `no_answer`, `busy`, `voicemail`, `wrong_number`.",
    )
    note: str = Field("", max_length=5000)
    duration_seconds: int | None = Field(
        None, description="For calls: how long it lasted, 0 to 86400 seconds."
    )


class ServiceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(description="The service's code, e.g. `seo`.")


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The note, at most 4,000 characters.")


class EventOut(Schema):
    id: int
    at: datetime
    actor: UserRef | None
    kind: str
    from_status: str
    to_status: str
    reason: str
    data: dict[str, object]


# Qualification -------------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label_en: str
    label_ru: str


class FieldOut(Schema):
    key: str
    type: str = Field(
        description="`text`, `long_text`, `number`, `money`, `choice`, `multi_choice`, "
        "`date`, `yes_no` or `region`."
    )
    label_en: str
    label_ru: str
    required: bool
    help_en: str
    help_ru: str
    choices: list[ChoiceOut] = Field(
        default_factory=list, description="For `choice` and `multi_choice`."
    )


class VersionOut(Schema):
    id: int = Field(description="Pass as `version_id` to `PUT /leads/{id}/answers/...`.")
    number: int
    fields: list[FieldOut]


class QuestionnaireOut(Schema):
    id: int
    common: bool = Field(description="The common block every request gets.")
    service: str | None = Field(description="The service's code; null for the common block.")
    name: str
    version: VersionOut | None = Field(description="The current version; null if none yet.")


class LeadQuestionnaireOut(Schema):
    id: int
    common: bool
    service: str | None
    version: VersionOut = Field(
        description="The version the lead's form shows: the one it was answered against, "
        "else the current one."
    )
    answers: dict[str, Any] | None = Field(description="Stored answers by field key; null if none.")
    answered_version: int | None = Field(
        description="The number of the version the answers were given against."
    )


class BantOut(Schema):
    budget_amount: str | None = Field(description="A decimal string.")
    budget_band: str
    currency: str
    authority_role: str
    decision_maker: bool | None
    need: str | None = Field(description="A code from `GET /needs`.")
    need_text: str
    timeframe_date: date | None
    timeframe_band: str
    updated_at: datetime


class QualificationOut(Schema):
    bant: BantOut | None
    questionnaires: list[LeadQuestionnaireOut]
    missing: list[MissingItem] = Field(
        description="What the hand-off to sales (`awaiting_assignment`) still needs."
    )


# Documented as their types, but checked by the domain: a wrong value comes back as an
# ``invalid`` error naming the field (nothing saved) rather than as a shape error.
_TextIn = Annotated[Any, WithJsonSchema({"type": ["string", "null"]})]
_AmountIn = Annotated[Any, WithJsonSchema({"type": ["string", "number", "null"]})]
_BoolIn = Annotated[Any, WithJsonSchema({"type": ["boolean", "null"]})]
_DateIn = Annotated[Any, WithJsonSchema({"type": ["string", "null"], "format": "date"})]
_BudgetBandIn = Annotated[
    Any, WithJsonSchema({"type": ["string", "null"], "enum": ["", *BudgetBand.values, None]})
]
_TimeframeBandIn = Annotated[
    Any, WithJsonSchema({"type": ["string", "null"], "enum": ["", *TimeframeBand.values, None]})
]


class BantIn(BaseModel):
    """The whole BANT block (`qualify.answers.BANT_FIELDS`): a field left out is cleared."""

    # A plain pydantic model, not a ninja Schema: a Schema reads any object by attribute,
    # so a list would pass as an empty BANT and unknown keys would vanish. Here they
    # reach the domain check, which names each one.
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})

    budget_amount: _AmountIn = Field(None, description="An amount: a decimal string or number.")
    budget_band: _BudgetBandIn = Field(None, description="A budget band instead of an amount.")
    currency: _TextIn = Field(None, description=f"One of {', '.join(CURRENCIES)}; RUB if none.")
    authority_role: _TextIn = Field(None, description="The contact's role.")
    decision_maker: _BoolIn = Field(None, description="Whether the contact decides.")
    need: _TextIn = Field(None, description="A need code from `GET /needs`.")
    need_text: _TextIn = Field(None, description="The client's task in their words.")
    timeframe_date: _DateIn = Field(None, description="When they want to start, YYYY-MM-DD.")
    timeframe_band: _TimeframeBandIn = Field(None, description="A band instead of a date.")


class AnswersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(
        description="Answers by field key, replacing the stored ones: text as a string, "
        "`number` as a decimal string or number, `money` as {`amount`, `currency`}, `choice` "
        "as an option's value, `multi_choice` as a list of values, `date` as YYYY-MM-DD, "
        "`yes_no` as a boolean."
    )


# Lists ---------------------------------------------------------------------------------


class ReasonCodeOut(Schema):
    kind: str = Field(description="`disqualify`, `return` or `lost`.")
    code: str
    name_en: str
    name_ru: str


class NeedOut(Schema):
    code: str
    name_en: str
    name_ru: str


# Returns -------------------------------------------------------------------------------


class ReturnOut(Schema):
    id: int
    lead: int
    state: str = Field(description="`open`, `accepted`, `disputed`, `upheld` or `overturned`.")
    from_status: str
    returned_at: datetime
    returned_by: UserRef | None
    sdr: UserRef | None
    reason_code: str
    reason: str
    sdr_note: str
    decided_at: datetime | None
    judge: UserRef | None
    judge_note: str
    judged_at: datetime | None


class ReturnPage(Schema):
    items: list[ReturnOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    accept: bool = Field(description="true: rework the request; false: dispute the return.")
    note: str = Field("", max_length=5000, description="Required when disputing.")


class JudgementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    overturn: bool = Field(
        description="true: the MQL goes back to sales; false: the return stands."
    )
    note: str = Field("", max_length=5000)
