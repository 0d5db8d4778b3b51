"""The API tests share the lead core's fixtures."""

from tests.leads.conftest import fast_password_hashing

__all__ = ["fast_password_hashing"]
