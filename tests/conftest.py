"""The shared cast: one user per role, two of the roles that own leads, a lead factory."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from leadrelay.accounts.models import ApiToken, Department, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import NewLead, create_lead

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The cast has eight users; the default PBKDF2 hasher makes each test seconds slower.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def release_live_server_connections(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """Let the PostgreSQL test database be dropped after the live server has stopped.

    A live-server request thread can end while holding a connection checked out of the
    psycopg pool; nothing returns it, so DROP DATABASE would find the database in use.
    """
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            connection.close()
            connection.close_pool()  # type: ignore[attr-defined]
            with connection._nodb_cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"]],
                )


@pytest.fixture(autouse=True)
def default_sla_policies_and_lists(request: pytest.FixtureRequest) -> None:
    """Put back the policies migration sla/0002 (and the services and lists of catalog/0002,
    qualify/0002 and presale/0002) create when a transactional test's flush
    has emptied the tables, so every test starts from what a new install has."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    from django.apps import apps

    from leadrelay.sla.models import Policy

    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        if not Policy.objects.exists():
            migration = importlib.import_module("leadrelay.sla.migrations.0002_default_policies")
            migration.create(apps, None)
        from leadrelay.catalog.models import Service
        from leadrelay.qualify.defaults import install_now
        from leadrelay.qualify.models import ReasonCode

        if not Service.objects.exists():
            services = importlib.import_module("leadrelay.catalog.migrations.0002_default_services")
            services.add_services(apps, None)
        if not ReasonCode.objects.exists():
            install_now()
        from leadrelay.presale.defaults import install_now as install_briefs
        from leadrelay.presale.models import BriefTemplate

        if not BriefTemplate.objects.exists():
            install_briefs()


@pytest.fixture
def departments(db: None) -> dict[str, Department]:
    return {
        "marketing": Department.objects.create(name="Marketing", kind=Department.Kind.MARKETING),
        "sales": Department.objects.create(name="Sales", kind=Department.Kind.SALES),
        "partners": Department.objects.create(name="Partners", kind=Department.Kind.PARTNERS),
    }


@pytest.fixture
def cast(departments: dict[str, Department]) -> dict[str, User]:
    """sdr, sdr2, sales, sales2, partner, head_marketing, head_sales, admin."""
    mk, sl, pt = departments["marketing"], departments["sales"], departments["partners"]
    spec: list[tuple[str, Role, Department | None]] = [
        ("sdr", Role.SDR, mk),
        ("sdr2", Role.SDR, mk),
        ("sales", Role.SALES, sl),
        ("sales2", Role.SALES, sl),
        ("partner", Role.PARTNER_MANAGER, pt),
        ("head_marketing", Role.HEAD_MARKETING, mk),
        ("head_sales", Role.HEAD_SALES, sl),
        ("admin", Role.ADMIN, None),
    ]
    return {
        name: User.objects.create_user(
            name, f"{name}@agency.test", "pw-" + name + "-123!", role=role, department=dept
        )
        for name, role, dept in spec
    }


@pytest.fixture
def make_lead(db: None) -> Callable[..., Lead]:
    def make(**fields: Any) -> Lead:
        fields.setdefault("name", "Ирина Петрова")
        fields.setdefault("email", "irina@example.ru")
        fields.setdefault("received_at", T0)
        return create_lead(NewLead(**fields), now=T0)

    return make


@pytest.fixture
def api_client() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        _, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
