"""What every vendor adapter implements: authenticate a delivery, then parse it.

Adapters are pure: they see the raw delivery and the source's settings, never the
database, so each is tested on payloads written from its vendor's documentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RawDelivery:
    """One HTTP call as it arrived."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    content_type: str  # without parameters, lower-cased, e.g. "application/json"
    charset: str = "utf-8"
    received_at: float = 0.0  # unix time, for replay windows


@dataclass(frozen=True)
class SourceConfig:
    """What an adapter may know about its source."""

    kind: str
    secret: str = ""
    mapping: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    """A vendor submission in vendor terms, ready for mapping onto a lead.

    ``fields`` are the vendor's own field names (form keys, Typeform refs, Tally labels,
    Google column ids…) with their submitted text; the shared mapping step turns them
    into lead fields. ``hidden`` are hidden fields / URL parameters (utm_*, click ids).
    """

    event_id: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)
    landing_url: str = ""
    referrer: str = ""
    consent: dict[str, str] = field(default_factory=dict)
    submitted_at: str = ""
    is_test: bool = False  # a vendor's connection ping: answer 2xx, store nothing
    # For vendors whose webhook carries only ids (Meta): the worker fetches the data.
    needs_fetch: bool = False
    # A reply body other than the default (e.g. Meta's GET verification challenge).
    reply: str | None = None
    # Why a submission is refused as spam ("honeypot", "too_fast"); "" when it is not.
    # The receiver counts it and stores nothing.
    spam: str = ""
    # A human label for a field key whose key is opaque (Typeform ref → question title,
    # Tally key → label, Google column id → column name). Mapping matches either.
    labels: dict[str, str] = field(default_factory=dict)
    # What the vendor says a field is ("email", "phone", "website", "name"…): used when
    # neither the source's mapping nor the vendor's defaults name the field.
    hints: dict[str, str] = field(default_factory=dict)


class Unauthorized(Exception):
    """Signature or token missing or wrong: 401, nothing stored."""


class Malformed(Exception):
    """The body cannot be read as this vendor's payload: 400/422, nothing stored."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Vendor(Protocol):
    kind: str
    # Default mapping from this vendor's usual field names to lead fields.
    default_mapping: Mapping[str, str]

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        """Raise ``Unauthorized`` unless the delivery proves it comes from the vendor."""

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        """Read the payload; raise ``Malformed`` when it is not this vendor's.

        Usually one submission; a batching vendor (Meta) may carry several, each with
        its own ``event_id``. An empty list is a delivery with nothing to store.
        """
