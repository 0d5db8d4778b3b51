"""Domain errors of the lead core; every adapter maps them to its own answer."""

from __future__ import annotations

from typing import Any


class LeadError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class LeadNotFound(LeadError):
    code = "not_found"
    http_status = 404


class Forbidden(LeadError):
    code = "forbidden"
    http_status = 403


class TransitionNotAllowed(LeadError):
    code = "transition_not_allowed"
    http_status = 422


class MissingField(LeadError):
    code = "missing_field"
    http_status = 422


class VersionConflict(LeadError):
    code = "version_conflict"
    http_status = 409


class AlreadyTaken(LeadError):
    """Someone else owns the request: the answer names them."""

    code = "already_taken"
    http_status = 409


class InvalidInput(LeadError):
    """Values that do not fit their fields; ``details["errors"]`` maps field to message."""

    code = "invalid"
    http_status = 422
