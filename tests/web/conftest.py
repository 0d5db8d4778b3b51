"""Web test fixtures: clients logged in as one of the cast."""

from __future__ import annotations

from collections.abc import Callable

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
