"""Forms of the intake pages: a new source, a source's edit, a lead typed in by hand.

They validate and translate input into the domain's arguments; creating sources is
``sources.create_source``'s job and making a lead ``build.create_from_contact``'s.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Service, Source
from leadrelay.intake.build import Contact
from leadrelay.intake.normalize import is_valid_email, normalize_email, normalize_phone
from leadrelay.intake.sources import SourceError, validate_mapping
from leadrelay.intake.vendors import VENDORS
from leadrelay.intake.vendors.form import DEFAULT_HONEYPOT, DEFAULT_MIN_FILL_SECONDS
from leadrelay.intake.vendors.meta import DEFAULT_GRAPH_BASE_URL

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")
# Translators: an example of a source's mapping; translate the form's field names only.
MAPPING_PLACEHOLDER = _('{"Your phone": "phone", "Company name": "company"}')


def kind_choices() -> list[tuple[str, str]]:
    """The kinds a vendor can post to, labelled as the catalogue names them."""
    return [(kind, str(Source.Kind(kind).label)) for kind in VENDORS]


def _services() -> Any:
    return Service.objects.filter(active=True)


def _mapping_field() -> forms.CharField:
    return forms.CharField(
        label=_("Field mapping (JSON)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": MAPPING_PLACEHOLDER}),
        help_text=_(
            "Only for fields whose names are not recognised: "
            "{“field name in the form”: “lead field”}."
        ),
    )


def _service_field() -> forms.ModelChoiceField[Service]:
    return forms.ModelChoiceField(
        label=_("Default service"),
        queryset=_services(),
        required=False,
        empty_label=_("Not set"),
    )


def clean_mapping_text(text: str) -> dict[str, str]:
    """The mapping textarea as a validated mapping; a ``ValidationError`` says why not."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            _("This is not valid JSON (line %(line)s, column %(column)s): %(error)s"),
            params={"line": exc.lineno, "column": exc.colno, "error": exc.msg},
            code="json",
        ) from None
    try:
        return validate_mapping(data)
    except SourceError as exc:
        raise forms.ValidationError(
            _("The mapping is not accepted: %(error)s"), params={"error": exc}, code="mapping"
        ) from None


def mapping_text(mapping: dict[str, str] | None) -> str:
    """A mapping as the textarea shows it: readable JSON, Cyrillic kept as it is."""
    return json.dumps(mapping, ensure_ascii=False, indent=2) if mapping else ""


class SourceForm(forms.Form):
    """A new intake source: its kind, name, mapping and the settings its vendor needs."""

    kind = forms.ChoiceField(label=_("Kind"), choices=kind_choices, initial="form")
    name = forms.CharField(
        label=pgettext_lazy("source", "Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Website: contact form")}),
    )
    mapping = _mapping_field()
    default_service = _service_field()
    # Meta Lead Ads: the app secret signs notifications, the verify token answers
    # Meta's subscription check, the Page token reads the lead's answers.
    app_secret = forms.CharField(
        label=_("Meta app secret"),
        required=False,
        max_length=200,
        help_text=_("App settings → Basic → App secret."),
    )
    verify_token = forms.CharField(
        label=_("Verify token"),
        required=False,
        max_length=200,
        help_text=_("Any word you also type in Meta's webhook settings; empty: one is made up."),
    )
    access_token = forms.CharField(
        label=_("Page access token"),
        required=False,
        max_length=1000,
        help_text=_("A Page token with the leads_retrieval permission."),
    )
    graph_base_url = forms.CharField(
        label=_("Graph API address"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": DEFAULT_GRAPH_BASE_URL}),
    )
    # Web form: the anti-spam guard of the snippet.
    honeypot_field = forms.CharField(
        label=_("Honeypot field name"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": DEFAULT_HONEYPOT}),
    )
    min_fill_seconds = forms.FloatField(
        label=_("Minimum fill time, seconds"),
        required=False,
        min_value=0,
        max_value=600,
        widget=forms.NumberInput(attrs={"placeholder": f"{DEFAULT_MIN_FILL_SECONDS:g}"}),
    )

    def clean_mapping(self) -> dict[str, str]:
        return clean_mapping_text(self.cleaned_data["mapping"])

    def clean_graph_base_url(self) -> str:
        url: str = self.cleaned_data["graph_base_url"].strip().rstrip("/")
        if url:
            URLValidator(schemes=["https"], message=gettext("Enter an https:// address."))(url)
        return url

    def clean_honeypot_field(self) -> str:
        name: str = self.cleaned_data["honeypot_field"].strip()
        if name and not _FIELD_NAME.fullmatch(name):
            raise forms.ValidationError(
                _("Latin letters, digits, “_” and “-” only, starting with a letter."),
                code="field_name",
            )
        return name

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("kind") == "meta":
            required = gettext("Meta Lead Ads sources need this.")
            for name in ("app_secret", "access_token"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, forms.ValidationError(required, code="required"))
        return data

    def secret(self) -> str | None:
        """The secret to store, when the vendor dictates it; ``None``: generate one."""
        if self.cleaned_data["kind"] == "meta":
            secret: str = self.cleaned_data["app_secret"].strip()
            return secret
        return None

    def config(self) -> dict[str, Any]:
        """The vendor settings of the chosen kind (other kinds' inputs are ignored)."""
        data = self.cleaned_data
        config: dict[str, Any] = {}
        if data["kind"] == "meta":
            config["verify_token"] = data["verify_token"].strip() or secrets.token_urlsafe(16)
            config["access_token"] = data["access_token"].strip()
            if data["graph_base_url"]:
                config["graph_base_url"] = data["graph_base_url"]
        elif data["kind"] == "form":
            if data["honeypot_field"]:
                config["honeypot_field"] = data["honeypot_field"]
            if data["min_fill_seconds"] is not None:
                config["min_fill_seconds"] = data["min_fill_seconds"]
        return config


class SourceEditForm(forms.Form):
    """What an admin changes on a live source: its mapping, service and whether it is on."""

    mapping = _mapping_field()
    default_service = _service_field()
    active = forms.BooleanField(label=_("Active (accepts submissions)"), required=False)

    @classmethod
    def for_source(cls, source: Source) -> SourceEditForm:
        return cls(
            initial={
                "mapping": mapping_text(source.mapping),
                "default_service": source.default_service_id,
                "active": source.active,
            }
        )

    def clean_mapping(self) -> dict[str, str]:
        return clean_mapping_text(self.cleaned_data["mapping"])


class Channel:
    """How a hand-entered request reached the agency; stored as its ``utm_medium``."""

    PHONE = "phone"
    WALK_IN = "walk_in"
    EMAIL = "email"
    OTHER = "other"

    choices = [
        (PHONE, _("Phone call")),
        (WALK_IN, _("Walk-in")),
        (EMAIL, _("E-mail forwarded by hand")),
        (OTHER, _("Other")),
    ]


class ManualLeadForm(forms.Form):
    """A request an SDR types in: the same fields and checks as a web submission."""

    name = forms.CharField(label=_("Name"), max_length=300, required=False)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    company = forms.CharField(label=_("Company"), max_length=300, required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    message = forms.CharField(
        label=_("Message"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=_services(), required=False, empty_label=_("Not known yet")
    )
    channel = forms.ChoiceField(
        label=_("How the request came in"), choices=Channel.choices, initial=Channel.PHONE
    )
    # Set by the "save anyway" button once the user has seen the duplicate warning.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_email(self) -> str:
        raw: str = self.cleaned_data["email"]
        if not raw.strip():
            return ""
        if not is_valid_email(raw):
            raise forms.ValidationError(_("Enter a valid e-mail address."), code="email_invalid")
        return normalize_email(raw)

    def clean_phone(self) -> str:
        raw: str = self.cleaned_data["phone"]
        if not raw.strip():
            return ""
        phone = normalize_phone(raw)
        if not phone:
            raise forms.ValidationError(
                _("This does not look like a phone number."), code="phone_invalid"
            )
        return phone

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        has_errors = "email" in self.errors or "phone" in self.errors
        if not has_errors and not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(
                _("Give an e-mail or a phone, so that the lead can be answered."),
                code="no_contact",
            )
        return data

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            company=data["company"],
            website=data["website"],
            message=data["message"],
            attribution={"utm_source": "manual", "utm_medium": data["channel"]},
        )


_CURSOR = re.compile(r"(failed|pending|processed):([1-9][0-9]{0,18})")


class DeliveryPageForm(forms.Form):
    """The deliveries list's query string: an optional source and the keyset cursor."""

    source = forms.ModelChoiceField(
        label=_("Source"),
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label=_("All sources"),
    )
    # Keyset pagination: "<status>:<id>" of the last row of the previous page.
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean_after(self) -> tuple[str, int] | None:
        text: str = self.cleaned_data["after"].strip()
        if not text:
            return None
        match = _CURSOR.fullmatch(text)
        if match is None:
            raise forms.ValidationError(_("This page link is broken."), code="cursor")
        return match.group(1), int(match.group(2))


class RetryForm(forms.Form):
    """ "Retry now", with when the page said the next attempt was due: a stale page
    (the worker took the delivery meanwhile) changes nothing."""

    seen = forms.DateTimeField(required=False, widget=forms.HiddenInput)
