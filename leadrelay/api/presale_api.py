"""The JSON API of the sales workspace: presale."""

from __future__ import annotations

from ninja import Router

router = Router()
