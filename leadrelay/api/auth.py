"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from leadrelay.accounts.models import ApiToken, User


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return ApiToken.user_for(token)
