"""What the agency sells and where requests come from: services, sources, partners."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name_en"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_ru if (get_language() or "").startswith("ru") else self.name_en


def new_source_key() -> str:
    return secrets.token_urlsafe(18)


def new_source_secret() -> str:
    return secrets.token_urlsafe(24)


class Source(models.Model):
    """An intake channel: a web form, an ad account, the API, manual entry, an import."""

    class Kind(models.TextChoices):
        API = "api", "API"
        FORM = "form", _("Web form")
        TILDA = "tilda", "Tilda"
        GOOGLE_ADS = "google_ads", "Google Ads"
        META = "meta", "Meta Lead Ads"
        TYPEFORM = "typeform", "Typeform"
        TALLY = "tally", "Tally"
        JOTFORM = "jotform", "Jotform"
        CALENDLY = "calendly", "Calendly"
        YANDEX_FORMS = "yandex_forms", _("Yandex Forms")
        MANUAL = "manual", _("Manual entry")
        IMPORT = "import", _("Import")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The unguessable part of the intake URL (/in/<key>/) given to the vendor.
    key = models.CharField(max_length=40, unique=True, default=new_source_key, editable=False)
    # Signing secret / token / google_key, as the vendor calls it.
    secret = models.CharField(_("secret"), max_length=200, blank=True, default=new_source_secret)
    # Vendor field name -> lead field or attribution key; overrides the vendor's defaults.
    mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    # Vendor-specific settings (Meta's verify token and Graph token, honeypot field…).
    config = models.JSONField(_("settings"), default=dict, blank=True)
    default_service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("default service"),
    )

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Company(models.Model):
    name = models.CharField(_("name"), max_length=300)
    website = models.CharField(_("website"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """The person behind one or more requests."""

    name = models.CharField(_("name"), max_length=300, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    company = models.ForeignKey(
        Company,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("company"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"


class Partner(models.Model):
    """A partner company that takes non-target requests for a commission."""

    name = models.CharField(_("name"), max_length=300, unique=True)
    contact_email = models.CharField(_("contact e-mail"), max_length=254, blank=True)
    commission_percent = models.DecimalField(
        _("commission, %"), max_digits=5, decimal_places=2, default=0
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
