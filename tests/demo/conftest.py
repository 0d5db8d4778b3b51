"""Shared by the demo tests."""

from __future__ import annotations

import pytest
from django.conf import LazySettings


@pytest.fixture(autouse=True)
def fast_passwords(settings: LazySettings) -> None:
    # Ten PBKDF2 hashes per load would dominate these tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
