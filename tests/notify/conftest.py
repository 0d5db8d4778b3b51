"""Fixtures of the notification tests."""

from tests.notify.receiver import receiver

__all__ = ["receiver"]
