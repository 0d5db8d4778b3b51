"""The import page: upload, preview with the mapping, import, and who may do it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import include, path, reverse

from leadrelay import urls as root_urls
from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead

# The root URLconf may not include the intake pages yet: this module's does.
urlpatterns: list[Any] = list(root_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "intake" for p in urlpatterns):
    urlpatterns.insert(0, path("intake/", include("leadrelay.intake.urls")))
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

HEADER = "ФИО;Телефон;Email;Комментарий;Дата создания;Откуда\r\n"


def bitrix_like_csv(rows: int = 12) -> bytes:
    lines = [HEADER]
    for i in range(1, rows + 1):
        date = "вчера" if i == 3 else f"0{1 + i % 9}.03.2026 10:00"
        lines.append(
            f"Клиент {i};+7 (999) 000-00-{i:02d};Client{i}@Example.RU;Вопрос {i};{date};сайт\r\n"
        )
    return "".join(lines).encode("cp1251")


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # uploads are kept under DATA_DIR / "imports"
    # The cast has eight users; the default PBKDF2 hasher makes each test seconds slower.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, data: bytes, name: str = "leads.csv", preset: str = "auto") -> Any:
    return client.post(
        reverse("intake:import"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "preset": preset},
    )


def token_of(html: str) -> str:
    match = re.search(r'name="t" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def columns(html: str) -> dict[str, str]:
    """Each mapping select's chosen option: {"col_0": "name", …}."""
    chosen = {}
    for name, body in re.findall(
        r'<select id="col-\d+" name="(col_\d+)">(.*?)</select>', html, re.S
    ):
        match = re.search(r'<option value="([^"]*)" selected>', body)
        chosen[name] = match.group(1) if match else ""
    return chosen


def test_upload_preview_and_import(cast: dict[str, User], tmp_path: Path) -> None:
    client = client_for(cast["sdr"])
    assert client.get(reverse("intake:import")).status_code == 200
    response = upload(client, bitrix_like_csv())
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    html = preview.text
    assert "cp1251" in html and "“;”" in html
    assert columns(html) == {
        "col_0": "name",
        "col_1": "phone",
        "col_2": "email",
        "col_3": "message",
        "col_4": "received_at",
        "col_5": "",
    }
    # The first ten rows, as they will be imported; the bad date shows up now.
    assert "client1@example.ru" in html and "+79990000001" in html
    assert "Клиент 10" in html and "Клиент 11" not in html
    assert html.count('<tr class="rejected">') == 1
    assert len(list((tmp_path / "imports").iterdir())) == 1

    done = client.post(reverse("intake:import_run"), {"t": token_of(html), **columns(html)})
    assert done.status_code == 200
    assert Lead.objects.count() == 11
    lead = Lead.objects.get(email="client1@example.ru")
    assert (lead.name, lead.phone, lead.message) == ("Клиент 1", "+79990000001", "Вопрос 1")
    assert lead.extra == {"Откуда": "сайт"}
    assert re.search(r'<td class="num">4</td><td>[^<]*вчера', done.text)  # line 4 of the file
    assert list((tmp_path / "imports").iterdir()) == []  # the upload is gone


def test_the_user_changes_a_columns_field(cast: dict[str, User]) -> None:
    client = client_for(cast["head_marketing"])
    preview = client.get(upload(client, bitrix_like_csv(2))["Location"])
    token = token_of(preview.text)
    chosen = {**columns(preview.text), "col_3": "", "col_5": "utm_source"}
    again = client.post(reverse("intake:import_preview"), {"t": token, "preset": "auto", **chosen})
    assert columns(again.text) == chosen
    client.post(reverse("intake:import_run"), {"t": token, **chosen})
    lead = Lead.objects.get(email="client1@example.ru")
    assert lead.message == ""
    assert lead.attribution == {"utm_source": "сайт"}
    assert lead.extra == {"Комментарий": "Вопрос 1"}


def test_a_dry_run_then_the_real_import(cast: dict[str, User]) -> None:
    client = client_for(cast["admin"])
    preview = client.get(upload(client, bitrix_like_csv(4))["Location"])
    token = token_of(preview.text)
    dry = client.post(
        reverse("intake:import_run"), {"t": token, "dry_run": "1", **columns(preview.text)}
    )
    assert dry.status_code == 200
    assert not Lead.objects.exists()
    real = client.post(reverse("intake:import_run"), {"t": token_of(dry.text), **columns(dry.text)})
    assert real.status_code == 200
    assert Lead.objects.count() == 3


def test_all_or_nothing(cast: dict[str, User]) -> None:
    client = client_for(cast["sdr"])
    preview = client.get(upload(client, bitrix_like_csv(4))["Location"])
    response = client.post(
        reverse("intake:import_run"),
        {"t": token_of(preview.text), "atomic": "1", **columns(preview.text)},
    )
    assert response.status_code == 200
    assert not Lead.objects.exists()


@pytest.mark.parametrize("role", ["sales", "head_sales", "partner"])
def test_roles_outside_marketing_may_not_import(cast: dict[str, User], role: str) -> None:
    client = client_for(cast[role])
    assert client.get(reverse("intake:import")).status_code == 403
    assert upload(client, bitrix_like_csv(2)).status_code == 403
    assert client.post(reverse("intake:import_run"), {"t": "x"}).status_code == 403
    assert not Lead.objects.exists()


def test_anonymous_users_are_sent_to_log_in() -> None:
    response = Client().get(reverse("intake:import"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_someone_elses_upload_cannot_be_imported(cast: dict[str, User]) -> None:
    mine = client_for(cast["sdr"])
    preview = mine.get(upload(mine, bitrix_like_csv(2))["Location"])
    theirs = client_for(cast["sdr2"])
    response = theirs.post(reverse("intake:import_run"), {"t": token_of(preview.text)})
    assert response.status_code == 400
    assert not Lead.objects.exists()
    forged = theirs.post(reverse("intake:import_run"), {"t": "a" * 40})
    assert forged.status_code == 400


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"\x00\x01binary", "photo.csv"), (b"Company;Budget\nRomashka;1\n", "no-contacts.csv")],
)
def test_an_unusable_file_is_refused_with_a_message(
    cast: dict[str, User], tmp_path: Path, data: bytes, name: str
) -> None:
    response = upload(client_for(cast["sdr"]), data, name)
    assert response.status_code == 400
    assert 'class="alert alert-error"' in response.text
    assert not (tmp_path / "imports").exists() or not list((tmp_path / "imports").iterdir())


def test_choosing_another_preset_on_the_preview(cast: dict[str, User]) -> None:
    client = client_for(cast["sdr"])
    preview = client.get(upload(client, bitrix_like_csv(2))["Location"])
    again = client.post(
        reverse("intake:import_preview"),
        {"t": token_of(preview.text), "preset": "amocrm", **columns(preview.text)},
    )
    assert again.status_code == 200
    assert '<option value="amocrm" selected>' in again.text
    client.post(reverse("intake:import_run"), {"t": token_of(again.text), **columns(again.text)})
    lead = Lead.objects.get(email="client1@example.ru")
    assert lead.source is not None
    assert lead.source.name == "Import: amocrm"
