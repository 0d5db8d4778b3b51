"""The JSON API of the sales workspace: sales."""

from __future__ import annotations

from ninja import Router

router = Router()
