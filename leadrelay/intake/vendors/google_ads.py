"""``google_ads``: Google Ads lead form webhook.

From Google's "Implementation" page (developers.google.com/google-ads/webhook/docs/
implementation): a JSON ``POST`` with ``lead_id`` (unique across forms: use it to dedupe),
``user_column_data`` (``column_id`` such as ``FULL_NAME``, ``string_value``, and a
``column_name`` that may be missing), ``form_id``, ``campaign_id``, ``adgroup_id``,
``creative_id``, ``asset_group_id``, ``gcl_id``, ``api_version``, ``lead_stage``,
``lead_submit_time``, ``google_key`` (the key the advertiser set on the form: check it
before processing) and ``is_test`` (test data sent from the Google Ads UI). Unknown
fields are ignored, as Google asks for forward compatibility.

A test lead is answered 2xx and stored as nothing, like any vendor's connection ping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadrelay.intake.vendors._common import (
    JSON_CONTENT_TYPES,
    parse_json_object,
    require_content_type,
    require_method,
    scalar_text,
    secret_equals,
)
from leadrelay.intake.vendors.base import (
    Malformed,
    Parsed,
    RawDelivery,
    SourceConfig,
    Unauthorized,
)

_IDS = ("form_id", "campaign_id", "adgroup_id", "creative_id", "asset_group_id")


class GoogleAdsVendor:
    kind = "google_ads"
    # Column ids of the lead form's standard questions; a custom question has its own id
    # and its text in column_name, which a source's mapping can name instead.
    default_mapping: Mapping[str, str] = {
        "FULL_NAME": "name",
        "FIRST_NAME": "first_name",
        "LAST_NAME": "last_name",
        "EMAIL": "email",
        "WORK_EMAIL": "email",
        "PHONE_NUMBER": "phone",
        "WORK_PHONE": "phone",
        "COMPANY_NAME": "company",
    }

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        key = data.get("google_key")
        if not isinstance(key, str) or not secret_equals(key, source.secret):
            raise Unauthorized("google_key does not match the key set on this source.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        lead_id = scalar_text(data.get("lead_id")) if _is_scalar(data.get("lead_id")) else ""
        if data.get("is_test") is True:
            return [Parsed(event_id=lead_id, is_test=True)]
        if not lead_id.strip():
            raise Malformed("lead_id is missing.", 422)
        columns = data.get("user_column_data")
        if not isinstance(columns, list):
            raise Malformed("user_column_data must be a list.", 422)

        fields: dict[str, str] = {}
        labels: dict[str, str] = {}
        for index, column in enumerate(columns):
            if not isinstance(column, dict):
                raise Malformed("Each user_column_data item must be an object.", 422)
            column_id = column.get("column_id")
            column_name = column.get("column_name")
            key = column_id if isinstance(column_id, str) and column_id else None
            if key is None:
                key = column_name if isinstance(column_name, str) and column_name else None
            if key is None:
                key = f"column_{index + 1}"
            value = column.get("string_value")
            if value is None or not _is_scalar(value):
                continue
            if key in fields:
                key = f"{key}_{index + 1}"
            fields[key] = scalar_text(value)
            if isinstance(column_name, str) and column_name and column_name != key:
                labels[key] = column_name

        hidden: dict[str, str] = {}
        gclid = data.get("gcl_id")
        if isinstance(gclid, str) and gclid:
            hidden["gclid"] = gclid
        for name in (*_IDS, "api_version", "lead_stage"):
            if _is_scalar(data.get(name)) and scalar_text(data.get(name)):
                hidden[f"google_{name}"] = scalar_text(data.get(name))
        submitted = data.get("lead_submit_time")
        return [
            Parsed(
                event_id=lead_id,
                fields=fields,
                hidden=hidden,
                labels=labels,
                submitted_at=submitted if isinstance(submitted, str) else "",
            )
        ]


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


VENDOR = GoogleAdsVendor()
