"""No input makes an adapter fail any way but Malformed or Unauthorized.

Whatever bytes, content type, headers and query arrive, ``authenticate`` then ``parse``
raise nothing else (the receiver turns those two into 401 and 400/422; anything else
would be a 500 and, worse, a vendor retrying forever). Bodies shaped like each vendor's
payload, with arbitrary values at every leaf, reach the deep parsing paths; and
``map_fields`` takes whatever a parse can produce.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrelay.intake.mapping import map_fields
from leadrelay.intake.vendors import VENDORS, get_vendor
from leadrelay.intake.vendors.base import Malformed, Parsed, RawDelivery, SourceConfig, Unauthorized
from leadrelay.intake.vendors.meta import parse_graph_lead

KINDS = sorted(VENDORS)
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "",
    "application/json-rpc",
]
HEADER_NAMES = [
    "authorization",
    "idempotency-key",
    "x-hub-signature-256",
    "typeform-signature",
    "tally-signature",
    "calendly-webhook-signature",
    "x-leadrelay-token",
    "x-api-key",
    "content-type",
]
QUERY_NAMES = ["token", "hub.mode", "hub.verify_token", "hub.challenge", "lr_key"]

texts = st.text(max_size=40)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def leaf() -> st.SearchStrategy[Any]:
    return json_values


# Each vendor's payload skeleton with arbitrary values at the leaves.
def shaped(kind: str) -> st.SearchStrategy[Any]:
    answer = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["text", "email", "choice", "choices", "number", "payment"])
            | leaf(),
            "field": st.fixed_dictionaries({"id": leaf(), "ref": leaf(), "type": leaf()}) | leaf(),
            "text": leaf(),
            "email": leaf(),
            "choice": st.fixed_dictionaries({"label": leaf(), "other": leaf()}) | leaf(),
            "choices": st.fixed_dictionaries({"labels": leaf()}) | leaf(),
            "payment": leaf(),
        }
    )
    shapes: dict[str, st.SearchStrategy[Any]] = {
        "api": st.dictionaries(
            st.sampled_from(["name", "email", "attribution", "consent", "extra", "gclid", "x"]),
            leaf(),
        ),
        "form": leaf(),
        "tilda": st.dictionaries(st.sampled_from(["Name", "tranid", "COOKIES", "test"]), leaf()),
        "google_ads": st.fixed_dictionaries(
            {
                "lead_id": leaf(),
                "google_key": leaf(),
                "is_test": leaf(),
                "gcl_id": leaf(),
                "user_column_data": st.lists(
                    st.fixed_dictionaries(
                        {"column_id": leaf(), "column_name": leaf(), "string_value": leaf()}
                    )
                    | leaf(),
                    max_size=3,
                )
                | leaf(),
            }
        ),
        "meta": st.fixed_dictionaries(
            {
                "object": st.just("page") | leaf(),
                "entry": st.lists(
                    st.fixed_dictionaries(
                        {
                            "changes": st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "field": st.just("leadgen") | leaf(),
                                        "value": st.fixed_dictionaries(
                                            {"leadgen_id": leaf(), "created_time": leaf()}
                                        )
                                        | leaf(),
                                    }
                                ),
                                max_size=2,
                            )
                            | leaf()
                        }
                    )
                    | leaf(),
                    max_size=2,
                )
                | leaf(),
            }
        ),
        "typeform": st.fixed_dictionaries(
            {
                "event_type": st.just("form_response") | leaf(),
                "form_response": st.fixed_dictionaries(
                    {
                        "token": leaf(),
                        "hidden": leaf(),
                        "answers": st.lists(answer, max_size=3) | leaf(),
                        "definition": st.fixed_dictionaries(
                            {"fields": st.lists(leaf(), max_size=3) | leaf()}
                        )
                        | leaf(),
                    }
                )
                | leaf(),
            }
        ),
        "tally": st.fixed_dictionaries(
            {
                "eventType": st.just("FORM_RESPONSE") | leaf(),
                "data": st.fixed_dictionaries(
                    {
                        "responseId": leaf(),
                        "fields": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "key": leaf(),
                                    "label": leaf(),
                                    "type": st.sampled_from(["HIDDEN_FIELDS", "CHECKBOXES"])
                                    | leaf(),
                                    "value": leaf(),
                                    "options": leaf(),
                                }
                            ),
                            max_size=3,
                        )
                        | leaf(),
                    }
                )
                | leaf(),
            }
        ),
        "jotform": st.dictionaries(
            st.sampled_from(["q3_name", "q4_email", "q5_phone", "q6_x", "files", "slug"]), leaf()
        ),
        "calendly": st.fixed_dictionaries(
            {
                "event": st.just("invitee.created") | leaf(),
                "payload": st.fixed_dictionaries(
                    {
                        "uri": leaf(),
                        "name": leaf(),
                        "questions_and_answers": st.lists(leaf(), max_size=3) | leaf(),
                        "tracking": leaf(),
                        "scheduled_event": leaf(),
                    }
                )
                | leaf(),
            }
        ),
        "yandex_forms": st.fixed_dictionaries(
            {"jsonrpc": st.just("2.0"), "params": leaf(), "id": leaf()}
        )
        | st.dictionaries(texts, leaf(), max_size=4),
    }
    return shapes[kind]


def configs() -> st.SearchStrategy[SourceConfig]:
    return st.builds(
        lambda kind, secret, config, mapping: SourceConfig(
            kind=kind, secret=secret, config=config, mapping=mapping
        ),
        st.sampled_from(KINDS),
        texts,
        st.dictionaries(
            st.sampled_from(
                [
                    "verify_token",
                    "token_param",
                    "token_header",
                    "api_key_name",
                    "honeypot_field",
                    "min_fill_seconds",
                    "tolerance_seconds",
                    "event_id_field",
                    "consent_field",
                ]
            ),
            json_values,
            max_size=3,
        ),
        st.dictionaries(texts, texts, max_size=3),
    )


def deliveries(body: st.SearchStrategy[bytes]) -> st.SearchStrategy[RawDelivery]:
    return st.builds(
        lambda method, ctype, params, headers, query, data, received: RawDelivery(
            method=method,
            path="/in/x/",
            query=query,
            headers={"content-type": f"{ctype}{params}", **headers},
            body=data,
            content_type=ctype,
            charset="utf-8",
            received_at=received,
        ),
        st.sampled_from(["POST", "GET", "PUT", "post"]),
        st.sampled_from(CONTENT_TYPES) | texts,
        st.sampled_from(["", "; boundary=xyz", '; boundary="a b"', "; charset=koi8-r"]) | texts,
        st.dictionaries(st.sampled_from(HEADER_NAMES) | texts, texts, max_size=4),
        st.dictionaries(
            st.sampled_from(QUERY_NAMES) | texts, st.lists(texts, max_size=2), max_size=3
        ),
        body,
        st.floats(allow_nan=True, allow_infinity=True) | st.integers(0, 2**40).map(float),
    )


def run(vendor_kind: str, raw: RawDelivery, cfg: SourceConfig) -> list[Parsed]:
    vendor = get_vendor(vendor_kind)
    cfg = SourceConfig(kind=vendor_kind, secret=cfg.secret, mapping=cfg.mapping, config=cfg.config)
    with contextlib.suppress(Unauthorized, Malformed):
        vendor.authenticate(raw, cfg)
    try:
        items = vendor.parse(raw, cfg)
    except Malformed as exc:
        assert 400 <= exc.status < 500
        return []
    for item in items:
        mapped = map_fields(item, vendor.default_mapping, cfg.mapping)
        assert all(isinstance(v, str) for v in mapped.attribution.values())
    return items


def _multipart(pairs: list[tuple[str, str]], boundary: str = "xyz") -> bytes:
    out = b""
    for name, value in pairs:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(
            "utf-8", "surrogatepass"
        )
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


# LEADRELAY_FUZZ_EXAMPLES=2000 for a longer hunt than CI affords.
FUZZ = settings(
    max_examples=int(os.environ.get("LEADRELAY_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(raw=deliveries(st.binary(max_size=300)), cfg=configs())
def test_arbitrary_bytes_fail_only_as_malformed_or_unauthorized(
    kind: str, raw: RawDelivery, cfg: SourceConfig
) -> None:
    run(kind, raw, cfg)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data(), cfg=configs())
def test_vendor_shaped_json_fails_only_as_malformed(
    kind: str, data: st.DataObject, cfg: SourceConfig
) -> None:
    payload = data.draw(shaped(kind))
    body = json.dumps(payload, ensure_ascii=data.draw(st.booleans())).encode()
    ctype = data.draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded"]))
    if kind == "jotform":
        ctype = "multipart/form-data"
        body = _multipart([("submissionID", "1"), ("rawRequest", json.dumps(payload))])
    raw = RawDelivery(
        method="POST",
        path="/in/x/",
        query={},
        headers={"content-type": f"{ctype}; boundary=xyz"},
        body=body,
        content_type=ctype,
        received_at=1_772_442_000.0,
    )
    run(kind, raw, cfg)


@pytest.mark.parametrize("kind", ["form", "tilda", "jotform"])
@FUZZ
@given(
    pairs=st.lists(st.tuples(texts, texts), max_size=8),
    multipart=st.booleans(),
    cfg=configs(),
)
def test_arbitrary_form_fields_fail_only_as_malformed(
    kind: str, pairs: list[tuple[str, str]], multipart: bool, cfg: SourceConfig
) -> None:
    from urllib.parse import urlencode

    if multipart:
        ctype, body = "multipart/form-data", _multipart(pairs)
    else:
        ctype = "application/x-www-form-urlencoded"
        body = urlencode(
            [
                (k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
                for k, v in pairs
            ]
        ).encode()
    raw = RawDelivery(
        method="POST",
        path="/in/x/",
        query={"token": [cfg.secret]},
        headers={"content-type": f"{ctype}; boundary=xyz"},
        body=body,
        content_type=ctype,
        received_at=1_772_442_000.0,
    )
    run(kind, raw, cfg)


@FUZZ
@given(payload=json_values, leadgen_id=texts)
def test_a_graph_answer_fails_only_as_malformed(payload: Any, leadgen_id: str) -> None:
    try:
        item = parse_graph_lead(payload, leadgen_id)
    except Malformed:
        return
    map_fields(item, get_vendor("meta").default_mapping, {})


@FUZZ
@given(
    fields=st.dictionaries(texts, texts, max_size=6),
    hidden=st.dictionaries(texts, texts, max_size=4),
    labels=st.dictionaries(texts, texts, max_size=4),
    hints=st.dictionaries(
        texts, st.sampled_from(["email", "phone", "name", "gclid", "x"]) | texts, max_size=4
    ),
    consent=st.dictionaries(texts, texts, max_size=2),
    landing=texts | st.just("https://a.test/?gclid=%ZZ&utm_source=%E0&yclid=1+2&utm_term"),
    default=st.dictionaries(texts, texts, max_size=4),
    mapping=st.dictionaries(texts, texts, max_size=4),
)
def test_map_fields_never_raises(
    fields: dict[str, str],
    hidden: dict[str, str],
    labels: dict[str, str],
    hints: dict[str, str],
    consent: dict[str, str],
    landing: str,
    default: dict[str, str],
    mapping: dict[str, str],
) -> None:
    parsed = Parsed(
        fields=fields,
        hidden=hidden,
        labels=labels,
        hints=hints,
        consent=consent,
        landing_url=landing,
        referrer=landing,
    )
    mapped = map_fields(parsed, default, mapping)
    typed = [v for v in (*fields.values(), *hidden.values()) if v.strip()]
    kept = [
        mapped.name,
        mapped.first_name,
        mapped.last_name,
        mapped.email,
        mapped.phone,
        mapped.company,
        mapped.website,
        mapped.message,
        *mapped.attribution.values(),
        *mapped.extra.values(),
    ]
    # Nothing typed is lost: every value lands somewhere (possibly joined into the message).
    for value in typed:
        assert value in kept or value in mapped.message
