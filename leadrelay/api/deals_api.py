"""The JSON API of the sales workspace: deals."""

from __future__ import annotations

from ninja import Router

router = Router()
