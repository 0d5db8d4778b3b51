"""``form``: a plain HTML form on the client's own site posting straight to us.

There is no vendor to sign anything: the intake URL's key is the secret, and bots are
kept out by a honeypot field hidden from people and a minimum fill time. ``snippet()``
gives the ready-made form to paste.

Fields our snippet adds, all optional for a hand-made form:

* ``contact_me_by_fax_only`` (``config["honeypot_field"]``): empty for people, a bot
  fills it → spam ``honeypot``;
* ``_lr_ts``: unix seconds when the page rendered the form; submitted sooner than
  ``config["min_fill_seconds"]`` (default 3) after it → spam ``too_fast``;
* ``_lr_sid``: a random id per rendered form, so a double-click posts one lead;
* ``_lr_consent_version`` with the ``consent`` checkbox: the consent text version the
  person agreed to, and when (the time we received it);
* ``utm_*``, ``gclid``, ``fbclid``, ``yclid``, ``landing_url``, ``referrer``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping

from leadrelay.intake.vendors._common import (
    ATTRIBUTION_KEYS,
    CLICK_IDS,
    COMMON_FIELD_NAMES,
    UTM_KEYS,
    iso_from_unix,
    parse_form,
    require_method,
)
from leadrelay.intake.vendors.base import Parsed, RawDelivery, SourceConfig

DEFAULT_HONEYPOT = "contact_me_by_fax_only"
DEFAULT_MIN_FILL_SECONDS = 3.0
DEFAULT_CONSENT_FIELD = "consent"
TIMESTAMP_FIELD = "_lr_ts"
SUBMISSION_ID_FIELD = "_lr_sid"
CONSENT_VERSION_FIELD = "_lr_consent_version"
_CHECKED = frozenset({"on", "1", "true", "yes", "y", "да", "checked"})


class FormVendor:
    kind = "form"
    default_mapping: Mapping[str, str] = dict(COMMON_FIELD_NAMES)

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        """Nothing to check: only the intake URL's secret key leads here."""

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        pairs = parse_form(raw)
        config = source.config
        honeypot = str(config.get("honeypot_field") or DEFAULT_HONEYPOT)
        consent_field = str(config.get("consent_field") or DEFAULT_CONSENT_FIELD)
        min_fill = _number(config.get("min_fill_seconds"), DEFAULT_MIN_FILL_SECONDS)

        fields: dict[str, str] = {}
        hidden: dict[str, str] = {}
        internal: dict[str, str] = {}
        for key, value in pairs:
            if key in (honeypot, consent_field) or key.startswith("_lr_"):
                internal.setdefault(key, value)
            elif key in ATTRIBUTION_KEYS:
                hidden.setdefault(key, value)
            elif key in fields:
                # A repeated name (checkbox group, multi-select): keep every value.
                if value:
                    fields[key] = f"{fields[key]}, {value}" if fields[key] else value
            else:
                fields[key] = value

        spam = ""
        if internal.get(honeypot, "").strip():
            spam = "honeypot"
        else:
            rendered = _number(internal.get(TIMESTAMP_FIELD), math.nan)
            elapsed = raw.received_at - rendered
            # A negative time is a client clock ahead of ours, not a bot: let it through.
            if math.isfinite(elapsed) and 0 <= elapsed < min_fill:
                spam = "too_fast"

        consent: dict[str, str] = {}
        version = internal.get(CONSENT_VERSION_FIELD, "").strip()
        if internal.get(consent_field, "").strip().casefold() in _CHECKED:
            if version:
                consent["text_version"] = version
            given_at = iso_from_unix(raw.received_at) if raw.received_at else ""
            if given_at:
                consent["given_at"] = given_at

        sid = internal.get(SUBMISSION_ID_FIELD, "").strip()[:200]
        return [
            Parsed(
                event_id=sid,
                fields=fields,
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
                consent=consent,
                submitted_at=iso_from_unix(raw.received_at) if raw.received_at else "",
                spam=spam,
            )
        ]


def _number(value: object, default: float) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def snippet(
    intake_url: str,
    *,
    consent_version: str = "",
    consent_text: str = "I agree to the processing of my personal data.",
    honeypot_field: str = DEFAULT_HONEYPOT,
) -> str:
    """A ready-made HTML form posting to ``intake_url``, to paste into a page.

    The honeypot is moved off-screen by CSS (not ``display:none``, which some bots
    skip); a tiny inline script stamps the render time and a submission id, and copies
    utm_* and click ids from the page URL plus the landing URL and referrer.
    """
    e = html.escape
    attribution_inputs = "\n".join(
        f'  <input type="hidden" name="{key}" value="">' for key in ATTRIBUTION_KEYS
    )
    consent_block = ""
    if consent_version:
        consent_block = (
            f'  <input type="hidden" name="{CONSENT_VERSION_FIELD}" value="{e(consent_version)}">\n'
            f'  <label><input type="checkbox" name="{DEFAULT_CONSENT_FIELD}" value="on" required>'
            f" {e(consent_text)}</label>\n"
        )
    params = json.dumps([*UTM_KEYS, *CLICK_IDS])
    return f"""<form class="leadrelay-form" method="post" action="{e(intake_url, quote=True)}"
      accept-charset="utf-8">
  <label>Name <input type="text" name="name" autocomplete="name" required></label>
  <label>Email <input type="email" name="email" autocomplete="email"></label>
  <label>Phone <input type="tel" name="phone" autocomplete="tel"></label>
  <label>Company <input type="text" name="company" autocomplete="organization"></label>
  <label>Message <textarea name="message" rows="4"></textarea></label>
{consent_block}  <div aria-hidden="true"
       style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">
    <label>Leave this empty <input type="text" name="{e(honeypot_field, quote=True)}"
           value="" tabindex="-1" autocomplete="off"></label>
  </div>
  <input type="hidden" name="{TIMESTAMP_FIELD}" value="">
  <input type="hidden" name="{SUBMISSION_ID_FIELD}" value="">
{attribution_inputs}
  <button type="submit">Send</button>
</form>
<script>
(function () {{
  var form = document.currentScript.previousElementSibling;
  if (!form || form.tagName !== "FORM") return;
  function set(name, value) {{
    var input = form.querySelector('input[name="' + name + '"]');
    if (input && value && !input.value) input.value = value;
  }}
  set("{TIMESTAMP_FIELD}", String(Math.floor(Date.now() / 1000)));
  set("{SUBMISSION_ID_FIELD}", (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2));
  var query = new URLSearchParams(window.location.search);
  {params}.forEach(function (key) {{ set(key, query.get(key)); }});
  set("landing_url", window.location.href);
  set("referrer", document.referrer);
}})();
</script>
"""


VENDOR = FormVendor()
