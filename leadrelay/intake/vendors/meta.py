"""``meta``: Facebook / Instagram Lead Ads through a Page ``leadgen`` webhook.

From Meta's docs (developers.facebook.com/docs/graph-api/webhooks/getting-started and
…/webhooks-for-leadgen, marketing-api/guides/lead-ads/retrieving):

* subscribing, Meta sends ``GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…``;
  we check the verify token (``config["verify_token"]``) and answer the challenge;
* each notification is a ``POST`` signed with ``X-Hub-Signature-256: sha256=<hex>``, the
  HMAC-SHA256 of the raw body keyed by the app secret (the source's secret);
* the body (``object: page``, ``entry[].changes[]`` with ``field: leadgen``) carries only
  ids: ``leadgen_id``, ``page_id``, ``form_id``, ``ad_id``, ``adgroup_id``,
  ``created_time``. The answers (``field_data``: ``[{name, values: […]}]``) are read from
  the Graph API ``GET /{leadgen_id}`` with a Page access token, so every lead comes back
  ``needs_fetch``: the worker keeps the delivery pending and retries the fetch
  (``graph_request_url`` and ``parse_graph_lead`` are its pure halves).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from leadrelay.intake.vendors._common import (
    JSON_CONTENT_TYPES,
    header,
    iso_from_unix,
    parse_json_object,
    query_value,
    require_content_type,
    require_method,
    scalar_text,
    secret_equals,
    text_of,
)
from leadrelay.intake.vendors.base import (
    Malformed,
    Parsed,
    RawDelivery,
    SourceConfig,
    Unauthorized,
)

# The Graph API version current when this was written (v26.0, July 2026); an admin can
# pin another with config["graph_base_url"].
DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com/v26.0"
GRAPH_FIELDS = (
    "id",
    "created_time",
    "field_data",
    "ad_id",
    "adset_id",
    "campaign_id",
    "form_id",
    "platform",
    "is_organic",
    "custom_disclaimer_responses",
)
_IDS = ("page_id", "form_id", "ad_id", "adgroup_id")


class MetaVendor:
    kind = "meta"
    # Meta's standard lead form question keys (field_data[].name).
    default_mapping: Mapping[str, str] = {
        "full_name": "name",
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
        "work_email": "email",
        "phone_number": "phone",
        "work_phone_number": "phone",
        "company_name": "company",
        "website": "website",
    }

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        if raw.method.upper() == "GET":
            token = query_value(raw, "hub.verify_token")
            expected = str(source.config.get("verify_token") or "")
            if query_value(raw, "hub.mode") != "subscribe" or not secret_equals(token, expected):
                raise Unauthorized("hub.verify_token does not match this source's verify token.")
            return
        signature = header(raw, "x-hub-signature-256").strip()
        scheme, _, digest = signature.partition("=")
        if scheme != "sha256" or not source.secret:
            raise Unauthorized("X-Hub-Signature-256 is missing.")
        expected_digest = hmac.new(source.secret.encode(), raw.body, hashlib.sha256).hexdigest()
        if not secret_equals(digest.strip().lower(), expected_digest):
            raise Unauthorized("X-Hub-Signature-256 does not match the body.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        if raw.method.upper() == "GET":
            challenge = query_value(raw, "hub.challenge")
            if not challenge:
                raise Malformed("hub.challenge is missing.", 400)
            return [Parsed(reply=challenge, is_test=True)]
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        if data.get("object") != "page":
            raise Malformed("Only Page notifications (object: page) are handled.", 422)
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise Malformed("entry must be a list.", 422)
        leads: list[Parsed] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise Malformed("Each entry must be an object.", 422)
            changes = entry.get("changes") or []
            if not isinstance(changes, list):
                raise Malformed("changes must be a list.", 422)
            for change in changes:
                if not isinstance(change, dict) or change.get("field") != "leadgen":
                    continue
                value = change.get("value")
                if not isinstance(value, dict):
                    raise Malformed("A leadgen change needs a value object.", 422)
                leadgen_id = _id_text(value.get("leadgen_id"))
                if not leadgen_id:
                    raise Malformed("A leadgen change needs a leadgen_id.", 422)
                hidden = {
                    f"meta_{name}": _id_text(value.get(name))
                    for name in _IDS
                    if _id_text(value.get(name))
                }
                leads.append(
                    Parsed(
                        event_id=leadgen_id,
                        hidden=hidden,
                        submitted_at=iso_from_unix(value.get("created_time")),
                        needs_fetch=True,
                    )
                )
        return leads


def graph_request_url(config: Mapping[str, Any], leadgen_id: str, app_secret: str = "") -> str:
    """The Graph API URL that reads one lead's answers.

    ``config["graph_base_url"]`` (default the current version) and
    ``config["access_token"]`` (a Page access token with ``leads_retrieval``). With the
    app secret, ``appsecret_proof`` is added, which apps that require it need.
    """
    base = str(config.get("graph_base_url") or DEFAULT_GRAPH_BASE_URL).rstrip("/")
    params: list[tuple[str, str]] = [("fields", ",".join(GRAPH_FIELDS))]
    token = str(config.get("access_token") or "")
    if token:
        params.append(("access_token", token))
        if app_secret:
            proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            params.append(("appsecret_proof", proof))
    return f"{base}/{quote(str(leadgen_id), safe='')}?{urlencode(params)}"


def parse_graph_lead(payload: Mapping[str, Any], leadgen_id: str) -> Parsed:
    """A Graph API lead (``{id, created_time, field_data: [{name, values}], …}``)."""
    if not isinstance(payload, Mapping):
        raise Malformed("The Graph API answer is not an object.", 422)
    field_data = payload.get("field_data")
    if not isinstance(field_data, list):
        raise Malformed("The Graph API lead has no field_data.", 422)
    fields: dict[str, str] = {}
    for item in field_data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise Malformed("Each field_data item needs a name.", 422)
        values = item.get("values")
        text = text_of(values if isinstance(values, list) else [values])
        if text:
            fields[item["name"]] = text
    hidden = {
        f"meta_{name}": _id_text(payload.get(name))
        for name in ("ad_id", "adset_id", "campaign_id", "form_id", "platform")
        if _id_text(payload.get(name))
    }
    if isinstance(payload.get("is_organic"), bool):
        hidden["meta_is_organic"] = scalar_text(payload.get("is_organic"))
    disclaimers = payload.get("custom_disclaimer_responses")
    if isinstance(disclaimers, list):
        for item in disclaimers:
            if isinstance(item, dict) and isinstance(item.get("checkbox_key"), str):
                hidden[f"meta_disclaimer_{item['checkbox_key']}"] = scalar_text(
                    item.get("is_checked")
                )
    created = payload.get("created_time")
    return Parsed(
        event_id=str(leadgen_id),
        fields=fields,
        hidden=hidden,
        submitted_at=created if isinstance(created, str) else "",
    )


def _id_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value)


VENDOR = MetaVendor()
