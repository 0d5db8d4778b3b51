"""Web test fixtures: clients logged in as one of the cast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User


@pytest.fixture
def client_for() -> Callable[..., Client]:
    """A fresh client logged in as ``user``; English unless ``language`` says otherwise."""

    def make(user: User, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The cast has eight users; the default PBKDF2 hasher makes each test seconds slower.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
