"""The sources pages: who may see them, creating a source, its setup page, its settings."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.intake.models import Delivery, RejectionCounter
from leadrelay.intake.sources import create_source, intake_url
from leadrelay.intake.vendors import VENDORS
from leadrelay.leads.transitions import NewLead, create_lead
from tests.conftest import T0

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def new_source(client: Client, **fields: Any) -> Any:
    data = {"kind": "form", "name": "Site: contact form", "mapping": "", **fields}
    return client.post(reverse("intake:sources"), data)


def deliveries(source: Source, *statuses: str) -> list[Delivery]:
    return [
        Delivery.objects.create(
            source=source,
            received_at=T0 + timedelta(minutes=i),
            method="POST",
            body=b"name=x",
            status=status,
        )
        for i, status in enumerate(statuses)
    ]


# Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sdr", "sales", "partner", "head_sales"])
def test_other_roles_may_not_see_the_sources(cast: dict[str, User], role: str) -> None:
    source = create_source("form", "Site")
    client = client_for(cast[role])
    assert client.get(reverse("intake:sources")).status_code == 403
    assert client.get(reverse("intake:source", args=[source.pk])).status_code == 403


@pytest.mark.parametrize("role", ["sdr", "sales", "head_sales"])
def test_other_roles_may_not_create_or_change_a_source(cast: dict[str, User], role: str) -> None:
    source = create_source("form", "Site")
    client = client_for(cast[role])
    assert new_source(client).status_code == 403
    edit = client.post(
        reverse("intake:source_edit", args=[source.pk]), {"mapping": '{"a": "phone"}'}
    )
    assert edit.status_code == 403
    assert list(Source.objects.values_list("name", "active", "mapping")) == [("Site", True, {})]


def test_a_visitor_is_sent_to_log_in(db: None) -> None:
    response = Client().get(reverse("intake:sources"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["admin", "head_marketing"])
def test_admin_and_head_of_marketing_see_the_sources(cast: dict[str, User], role: str) -> None:
    response = client_for(cast[role]).get(reverse("intake:sources"))
    assert response.status_code == 200
    assert "New source" in response.text


# Creating -----------------------------------------------------------------------------------


def test_creating_a_form_source_opens_its_setup_page(cast: dict[str, User]) -> None:
    seo = Service.objects.get(code="seo")
    client = client_for(cast["head_marketing"])
    response = new_source(
        client,
        name="  Site: contact form ",
        default_service=seo.pk,
        mapping='{"Ваш телефон": "phone"}',
        min_fill_seconds="5",
    )
    source = Source.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:source", args=[source.pk])
    assert (source.kind, source.name, source.active) == ("form", "Site: contact form", True)
    assert source.mapping == {"Ваш телефон": "phone"}
    assert source.default_service == seo
    assert source.config == {"min_fill_seconds": 5.0}
    page = client.get(response["Location"]).text
    assert "is created" in page
    assert intake_url(source) in page


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        ('{"phone": ', "This is not valid JSON (line 1, column 10)"),
        ('["phone"]', "a mapping is a JSON object"),
        ('{"Телефон": "telephone"}', "unknown lead field &#x27;telephone&#x27;"),
        ('{"": "phone"}', "non-empty strings"),
    ],
)
def test_a_bad_mapping_is_an_error_on_the_form_and_creates_nothing(
    cast: dict[str, User], mapping: str, error: str
) -> None:
    response = new_source(client_for(cast["admin"]), mapping=mapping)
    assert response.status_code == 400
    assert error in response.text
    assert 'id="id_mapping_error"' in response.text
    # What the admin typed is still there to be fixed.
    assert html.escape(mapping.strip()) in response.text
    assert not Source.objects.exists()


def test_a_kind_no_vendor_posts_to_is_refused(cast: dict[str, User]) -> None:
    for kind in ("manual", "import", "nonsense"):
        response = new_source(client_for(cast["admin"]), kind=kind)
        assert response.status_code == 400
    assert not Source.objects.exists()


def test_a_source_needs_a_name(cast: dict[str, User]) -> None:
    response = new_source(client_for(cast["admin"]), name="   ")
    assert response.status_code == 400
    assert not Source.objects.exists()


def test_a_meta_source_needs_its_app_secret_and_page_token(cast: dict[str, User]) -> None:
    client = client_for(cast["admin"])
    response = new_source(client, kind="meta", name="Facebook")
    assert response.status_code == 400
    assert response.text.count("Meta Lead Ads sources need this.") == 2
    assert not Source.objects.exists()

    response = new_source(
        client,
        kind="meta",
        name="Facebook",
        app_secret="app-secret-1",
        access_token="EAAB-page-token",
        graph_base_url="https://graph.facebook.com/v25.0/",
        honeypot_field="ignored_for_meta",
    )
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.secret == "app-secret-1"
    assert source.config["access_token"] == "EAAB-page-token"
    assert source.config["graph_base_url"] == "https://graph.facebook.com/v25.0"
    assert len(source.config["verify_token"]) >= 16  # made up, shown on the page
    assert "honeypot_field" not in source.config
    page = client.get(response["Location"]).text
    assert source.config["verify_token"] in page and "App Secret" in page


def test_the_graph_address_must_be_https(cast: dict[str, User]) -> None:
    response = new_source(
        client_for(cast["admin"]),
        kind="meta",
        app_secret="s",
        access_token="t",
        graph_base_url="http://graph.example/v1",
    )
    assert response.status_code == 400
    assert "Enter an https:// address." in response.text
    assert not Source.objects.exists()


def test_a_honeypot_name_must_be_a_plain_field_name(cast: dict[str, User]) -> None:
    response = new_source(client_for(cast["admin"]), honeypot_field='x" onfocus="alert(1)')
    assert response.status_code == 400
    assert not Source.objects.exists()


# The list ---------------------------------------------------------------------------------


def test_the_list_counts_leads_failures_and_the_last_delivery(cast: dict[str, User]) -> None:
    site = create_source("form", "Site")
    ads = create_source("google_ads", "Google Ads")
    create_source("tilda", "Old landing")
    Source.objects.filter(name="Old landing").update(active=False)
    for i in range(3):
        create_lead(NewLead(name=f"L{i}", source=site, received_at=T0), now=T0)
    deliveries(site, "processed", "failed", "failed", "pending")
    deliveries(ads, "processed")
    RejectionCounter.objects.create(source=site, day=T0.date(), reason="honeypot", count=4)

    page = client_for(cast["admin"]).get(reverse("intake:sources")).text
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    cells = [
        [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]
    assert [c[0] for c in cells] == ["Google Ads", "Site", "Old landing"]  # active first
    assert cells[1][1:] == ["Web form", "active", "3", "2026-03-02 12:03", "2"]
    assert cells[0][3:] == ["0", "2026-03-02 12:00", "0"]
    assert cells[2][2:] == ["off", "0", "—", "0"]
    assert f'href="/intake/deliveries/?source={site.pk}"' in page


def test_the_list_costs_the_same_queries_for_any_number_of_sources(
    cast: dict[str, User], django_assert_num_queries: Any
) -> None:
    client = client_for(cast["admin"])

    def add(n: int) -> None:
        for i in range(n):
            source = create_source("form", f"Site {Source.objects.count()}")
            create_lead(NewLead(name=f"L{i}", source=source, received_at=T0), now=T0)
            deliveries(source, "failed", "processed")

    add(2)
    client.get(reverse("intake:sources"))  # warm the session
    # Session and user, the sources with their three counts in one query, the services.
    with django_assert_num_queries(4):
        assert client.get(reverse("intake:sources")).status_code == 200
    add(5)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("intake:sources")).text.count('class="lead-link"') == 7
    assert len(queries) == 4


# One source -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VENDORS))
def test_every_kind_has_its_address_and_setup_steps_in_both_languages(
    cast: dict[str, User], kind: str
) -> None:
    source = create_source(kind, f"{kind} source")
    url = reverse("intake:source", args=[source.pk])
    english = client_for(cast["admin"]).get(url)
    russian = client_for(cast["admin"], language="ru").get(url)
    assert english.status_code == russian.status_code == 200
    for page in (english.text, russian.text):
        assert html.escape(intake_url(source)) in page
        assert source.secret in page
        assert page.count('<ol class="steps">') == 1
        assert page.count("<li>") >= 4
    assert "Setting up" in english.text and "Recent deliveries" in english.text
    assert "Настройка" in russian.text and "Последние поступления" in russian.text
    assert "Setting up" not in russian.text


def test_a_form_source_shows_the_snippet_to_paste(cast: dict[str, User]) -> None:
    source = create_source("form", "Site", config={"honeypot_field": "website_2"})
    page = client_for(cast["admin"]).get(reverse("intake:source", args=[source.pk])).text
    snippet = re.search(
        r'<textarea class="code" id="form-snippet"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert snippet is not None
    code = html.unescape(snippet.group(1))
    assert f'action="{intake_url(source)}"' in code
    assert 'name="website_2"' in code and 'name="_lr_ts"' in code
    assert "<script>" not in page.split('id="form-snippet"')[1].split("</textarea>")[0]


def test_an_api_source_shows_a_curl_example_with_its_secret(cast: dict[str, User]) -> None:
    source = create_source("api", "CRM backend")
    page = client_for(cast["admin"]).get(reverse("intake:source", args=[source.pk])).text
    match = re.search(r'<pre class="code" id="curl-example">(.*?)</pre>', page, re.S)
    assert match is not None
    curl = html.unescape(match.group(1))
    assert curl.startswith(f"curl -X POST '{intake_url(source)}'")
    assert f"Authorization: Bearer {source.secret}" in curl


def test_a_manual_source_has_no_address(cast: dict[str, User]) -> None:
    source = Source.objects.create(kind=Source.Kind.MANUAL, name="Manual entry")
    page = client_for(cast["admin"]).get(reverse("intake:source", args=[source.pk])).text
    assert "has no address for a vendor" in page
    assert f"/in/{source.key}/" not in page


def test_the_source_page_lists_recent_deliveries_and_spam(
    cast: dict[str, User], django_assert_num_queries: Any
) -> None:
    source = create_source("form", "Site")
    made = deliveries(source, *["processed"] * 12, "failed")
    RejectionCounter.objects.create(source=source, day=T0.date(), reason="too_fast", count=2)
    client = client_for(cast["admin"])
    url = reverse("intake:source", args=[source.pk])
    client.get(url)
    # Session, user, source, leads count, deliveries, spam counts, services.
    with django_assert_num_queries(7):
        page = client.get(url).text
    shown = re.findall(r'href="/intake/deliveries/(\d+)/"', page)
    assert [int(pk) for pk in shown] == [d.pk for d in reversed(made)][:10]


def test_an_unknown_source_is_404(cast: dict[str, User]) -> None:
    assert client_for(cast["admin"]).get(reverse("intake:source", args=[999])).status_code == 404


# Changing a source ----------------------------------------------------------------------------


def test_the_mapping_service_and_switch_are_saved(cast: dict[str, User]) -> None:
    source = create_source("tilda", "Landing")
    ppc = Service.objects.get(code="ppc")
    client = client_for(cast["head_marketing"])
    response = client.post(
        reverse("intake:source_edit", args=[source.pk]),
        {"mapping": '{"Your_phone": "phone"}', "default_service": ppc.pk},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.mapping, source.default_service, source.active) == (
        {"Your_phone": "phone"},
        ppc,
        False,
    )
    page = client.get(response["Location"]).text
    assert "The source is saved." in page
    assert "off: submissions are refused" in page


def test_a_bad_mapping_changes_nothing(cast: dict[str, User]) -> None:
    source = create_source("tilda", "Landing", mapping={"tel": "phone"})
    response = client_for(cast["admin"]).post(
        reverse("intake:source_edit", args=[source.pk]),
        {"mapping": '{"tel": "fax"}', "active": "on"},
    )
    assert response.status_code == 400
    assert "The settings were not saved" in response.text
    source.refresh_from_db()
    assert (source.mapping, source.active) == ({"tel": "phone"}, True)
