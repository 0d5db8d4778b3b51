"""Logging in at "/", being sent on to the leads, and logging out by POST."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from leadrelay.accounts.models import User


def test_login_page_at_root_asks_for_a_password_in_both_languages(db: None) -> None:
    ru = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/")
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    assert ru.status_code == en.status_code == 200
    assert "Пароль" in ru.text
    assert "Password" in en.text
    assert 'name="password"' in en.text


def test_logging_in_with_the_right_password_opens_the_lead_list(cast: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/", {"username": "sdr", "password": "pw-sdr-123!"})
    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    assert client.get("/leads/").status_code == 200


def test_wrong_password_shows_an_error_and_logs_nobody_in(cast: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/", {"username": "sdr", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.text
    assert client.get("/leads/").status_code == 302


def test_logged_in_user_at_root_is_sent_to_the_lead_list(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["sales"]).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/leads/"


def test_anonymous_user_is_sent_from_the_leads_to_the_login_page(db: None) -> None:
    response = Client().get("/leads/")
    assert response.status_code == 302
    assert response["Location"] == "/?next=/leads/"


def test_logout_by_post_ends_the_session(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["sdr"])
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/leads/").status_code == 302


def test_logout_by_get_is_refused_and_keeps_the_session(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["sdr"])
    assert client.get("/logout/").status_code == 405
    assert client.get("/leads/").status_code == 200


def test_header_shows_the_user_role_language_switch_and_logout(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["head_sales"]).get("/leads/").text
    assert "head_sales" in page
    assert "Head of sales" in page
    assert 'action="/i18n/setlang/"' in page
    assert 'value="ru"' in page and 'value="en"' in page
    assert 'action="/logout/"' in page
    assert 'href="/api/v1/docs"' in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert 'href="/admin/"' not in page  # only staff see the admin link
