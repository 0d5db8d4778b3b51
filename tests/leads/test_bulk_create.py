"""create_leads_bulk writes what create_lead writes, with ids nobody else gets.

It bypasses the ORM's INSERT (executemany on SQLite, COPY on PostgreSQL, ids taken by
leadrelay.leads.bulk), so every stored column is compared with the ORM's, byte for byte
as the database returns them, and the ids are checked against the sequences and against
a concurrent writer. Runs on the suite's database: SQLite, or PostgreSQL with
DATABASE_URL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.transaction import TransactionManagementError

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads import bulk
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, create_lead, create_leads_bulk
from tests.conftest import T0

MOSCOW = ZoneInfo("Europe/Moscow")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NOW = T0 + timedelta(hours=5, microseconds=250)

# Text that a hand-rolled COPY or JSON encoding gets wrong.
NESTED: dict[str, Any] = {"nested": {"list": [1, 2.5, None, True, "ё"]}}
AWKWARD = 'Ирина "Ира" & Co + партнёры\nвторая строка\tтаб \\ обратная черта, 100% ₽'


def stored(model: type[Lead] | type[LeadEvent], pk: int) -> dict[str, Any]:
    """The row as the database returns it, column by column (no ORM conversion)."""
    columns = [str(f.column) for f in model._meta.concrete_fields]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(q(c) for c in columns)} FROM {q(model._meta.db_table)}"
            f" WHERE {q('id')} = %s",
            [pk],
        )
        row = cursor.fetchone()
    assert row is not None, (model, pk)
    return dict(zip(columns, row, strict=True))


def instant(value: Any) -> Any:
    """Datetimes as instants: Python never finds a time in a fold equal to another zone's."""
    return value.timestamp() if isinstance(value, datetime) else value


def without(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in columns}


@pytest.fixture
def catalog(db: None) -> tuple[Service, Source]:
    service = Service.objects.create(code="bulk-seo", name_en="SEO", name_ru="SEO")
    source = Source.objects.create(kind=Source.Kind.IMPORT, name="Import: HubSpot", secret="")
    return service, source


def variety(service: Service, source: Source, original: Lead) -> list[NewLead]:
    """New leads covering each kind of value create_lead stores."""
    return [
        NewLead(
            name=AWKWARD,
            email="ira+test@example.ru",
            phone="+7 (999) 123-45-67",
            company="ООО «Ромашка» & Sons",
            website="https://example.ru/?a=1&b=2+3",
            message=AWKWARD,
            attribution={"utm_source": "яндекс & co", "utm_term": "a+b", "q": '"quoted"'},
            service=service,
            source=source,
            received_at=datetime(2026, 3, 2, 12, 30, 15, 123456, tzinfo=MOSCOW),
            consent={"text": AWKWARD, "given_at": "2026-03-02T12:30:15+03:00"},
            extra={"Lifecycle Stage": "lead", "Заметка": "line1\nline2\r\nline3", "": ""},
            review=["no_contact", "email_invalid"],
            duplicate_of=original,
        ),
        # Nothing but a name; received_at from ``now``.
        NewLead(name="Только имя"),
        # 01:30 on the night Los Angeles goes back to winter time, in both folds: equal
        # as Python datetimes, an hour apart as instants.
        NewLead(
            email="anna@example.com",
            received_at=datetime(2025, 11, 2, 1, 30, tzinfo=LOS_ANGELES),
            attribution=NESTED,  # JSON beyond the annotation
            extra={"emoji": "🙂", "backslash": "C:\\path\\to"},
            source=source,
        ),
        NewLead(
            email="anna@example.com",
            received_at=datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=LOS_ANGELES),
            source=source,
        ),
    ]


@pytest.mark.django_db
def test_bulk_rows_and_events_are_those_create_lead_writes(
    cast: dict[str, User], catalog: tuple[Service, Source], make_lead: Any
) -> None:
    service, source = catalog
    original = make_lead(name="Оригинал")
    actor = cast["sdr"]
    items = variety(service, source, original)

    one_by_one = [create_lead(item, actor=actor, now=NOW) for item in items]
    in_bulk = create_leads_bulk(items, actor=actor, now=NOW)
    connection.check_constraints()  # foreign keys are deferred: check them now

    assert len(in_bulk) == len(items)
    for expected, lead in zip(one_by_one, in_bulk, strict=True):
        assert isinstance(lead, Lead) and lead.pk is not None
        # Bulk creation brings history in (imports, demo): it starts no SLA clock.
        sla = ("sla_due_at", "sla_warn_at")
        assert without(stored(Lead, lead.pk), "id", *sla) == without(
            stored(Lead, expected.pk), "id", *sla
        )
        assert stored(Lead, lead.pk)["sla_due_at"] is None
        (event,) = LeadEvent.objects.filter(lead_id=lead.pk)
        (expected_event,) = LeadEvent.objects.filter(lead_id=expected.pk)
        assert without(stored(LeadEvent, event.pk), "id", "lead_id") == without(
            stored(LeadEvent, expected_event.pk), "id", "lead_id"
        )
        assert event.actor_id == actor.pk
        assert instant(event.at) == instant(lead.received_at)
        assert (event.kind, event.from_status, event.to_status) == ("created", "", "new")

    # The stored values as the ORM reads them back, to the microsecond and the offset.
    first = Lead.objects.get(pk=in_bulk[0].pk)
    assert first.received_at == items[0].received_at == first.status_changed_at
    assert first.name == AWKWARD and first.message == AWKWARD
    assert first.attribution == items[0].attribution
    assert first.consent == items[0].consent
    assert first.extra == items[0].extra
    assert first.review == ["no_contact", "email_invalid"]
    assert (first.duplicate_of_id, first.source_id, first.service_id) == (
        original.pk,
        source.pk,
        service.pk,
    )
    assert (first.status, first.version) == ("new", 1)
    assert Lead.objects.get(pk=in_bulk[1].pk).received_at == NOW
    third, fourth = (Lead.objects.get(pk=lead.pk) for lead in in_bulk[2:])
    assert third.attribution == NESTED
    assert third.received_at == datetime(2025, 11, 2, 8, 30, tzinfo=UTC)  # PDT
    assert fourth.received_at == datetime(2025, 11, 2, 9, 30, tzinfo=UTC)  # PST


@pytest.mark.django_db
def test_returned_leads_hold_the_stored_values(
    catalog: tuple[Service, Source], make_lead: Any
) -> None:
    service, source = catalog
    items = variety(service, source, make_lead())
    for lead in create_leads_bulk(items, now=NOW):
        assert not lead._state.adding  # saved, as after bulk_create
        fresh = Lead.objects.get(pk=lead.pk)
        for field in Lead._meta.concrete_fields:
            mine, theirs = getattr(lead, field.attname), getattr(fresh, field.attname)
            assert instant(mine) == instant(theirs), field.name


@pytest.mark.django_db
def test_ids_are_new_and_usable_and_the_orm_continues_after_them(make_lead: Any) -> None:
    before = make_lead(name="before")
    leads = create_leads_bulk([NewLead(name=f"bulk {i}", received_at=T0) for i in range(50)])
    ids = [lead.pk for lead in leads]
    assert len(set(ids)) == 50
    assert min(ids) > before.pk
    for lead in leads:
        assert Lead.objects.get(pk=lead.pk).name == lead.name
        assert LeadEvent.objects.filter(lead_id=lead.pk).count() == 1
    # A second pass pointing at leads of the first one (as the importer does).
    more = create_leads_bulk([NewLead(name="dup", received_at=T0, duplicate_of=leads[0])])
    assert more[0].pk > max(ids)
    assert Lead.objects.get(pk=more[0].pk).duplicate_of_id == leads[0].pk
    connection.check_constraints()
    # The ORM's next id is past the block: the sequence (PostgreSQL) or SQLite's
    # AUTOINCREMENT counter moved on.
    after = make_lead(name="after")
    assert after.pk > more[0].pk
    assert LeadEvent.objects.latest("id").lead_id == after.pk


@pytest.mark.django_db
def test_an_id_once_used_is_not_given_again(make_lead: Any) -> None:
    last = make_lead(name="deleted later")
    with connection.cursor() as cursor:  # events are append-only: past the guards
        cursor.execute("DELETE FROM leads_leadevent WHERE lead_id = %s", [last.pk])
        cursor.execute("DELETE FROM sla_clock WHERE lead_id = %s", [last.pk])
        cursor.execute("DELETE FROM leads_lead WHERE id = %s", [last.pk])
    (lead,) = create_leads_bulk([NewLead(name="new", received_at=T0)])
    assert lead.pk > last.pk


@pytest.mark.django_db
def test_an_empty_list_does_nothing(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert create_leads_bulk([]) == []


@pytest.mark.django_db
def test_it_writes_in_the_callers_transaction() -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        create_leads_bulk([NewLead(name="rolled back", received_at=T0)])
        assert Lead.objects.filter(name="rolled back").exists()
        raise Boom
    assert not Lead.objects.filter(name="rolled back").exists()
    assert not LeadEvent.objects.exists()


@pytest.mark.django_db
def test_an_unsaved_related_object_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicate_of"):
        create_leads_bulk([NewLead(name="x", duplicate_of=Lead(name="unsaved"))])


@pytest.mark.django_db
def test_the_writer_checks_its_inputs() -> None:
    leads = bulk.Table(Lead)
    with pytest.raises(ValueError, match="received_at"):
        leads.row({"id": 1, "status_changed_at": T0})
    with pytest.raises(ValueError, match="'nope'"):
        leads.row({"id": 1, "received_at": T0, "status_changed_at": T0, "nope": 1})
    with pytest.raises(ValueError, match="columns"):
        leads.insert([[1, "new"]])
    assert bulk.Table(LeadEvent).new_ids(0) == []


@pytest.mark.django_db(transaction=True)
def test_new_ids_outside_a_transaction_are_refused() -> None:
    with pytest.raises(TransactionManagementError):
        bulk.Table(Lead).new_ids(3)


@pytest.mark.django_db(transaction=True)
def test_two_imports_at_once_get_distinct_ids() -> None:
    """Two threads, each with its own connection, bulk-create 500 leads at the same time.

    On PostgreSQL both transactions are open at once when they take their ids (a
    barrier inside the transaction); SQLite has one writer at a time, so the second
    waits for the first one's commit (busy timeout) and must then see its ids.
    """
    per_thread = 500
    start = threading.Barrier(2)
    both_written = threading.Barrier(2)
    errors: list[BaseException] = []
    created: dict[int, list[int]] = {}

    def run(index: int) -> None:
        try:
            items = [
                NewLead(name=f"t{index}-{i}", email=f"t{index}.{i}@example.ru", received_at=T0)
                for i in range(per_thread)
            ]
            start.wait(timeout=60)
            if connection.vendor == "postgresql":
                with transaction.atomic():
                    leads = create_leads_bulk(items)
                    both_written.wait(timeout=60)  # the other's ids are taken, not committed
            else:
                leads = create_leads_bulk(items)  # its own transaction
            created[index] = [lead.pk for lead in leads]
        except BaseException as exc:
            errors.append(exc)
            start.abort()
            both_written.abort()
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    ids = created[0] + created[1]
    assert len(set(ids)) == 2 * per_thread
    assert Lead.objects.count() == 2 * per_thread
    assert set(Lead.objects.values_list("id", flat=True)) == set(ids)
    names = dict(Lead.objects.values_list("id", "name"))
    for index, pks in created.items():
        assert all(names[pk].startswith(f"t{index}-") for pk in pks)
    events = list(LeadEvent.objects.values_list("lead_id", flat=True))
    assert sorted(events) == sorted(ids)
    # And the ORM carries on after both blocks.
    lead = create_lead(NewLead(name="after", received_at=T0), now=T0)
    assert lead.pk > max(ids)


def test_only_columns_that_adapt_alike_share_adapted_values() -> None:
    """A datetime a lead and its event both hold is converted once; a value in columns
    whose options change its conversion (an encoder, a length) is converted for each."""
    at = LeadEvent._meta.get_field("at")
    assert bulk._kind(Lead._meta.get_field("received_at")) == bulk._kind(at)
    assert bulk._kind(Lead._meta.get_field("reached_mql_at")) == bulk._kind(at)  # null
    assert bulk._kind(Lead._meta.get_field("name")) != bulk._kind(Lead._meta.get_field("email"))
    assert bulk._kind(models.JSONField()) != bulk._kind(models.JSONField(encoder=DjangoJSONEncoder))
    assert bulk._kind(models.JSONField()) == bulk._kind(models.JSONField(verbose_name="x"))
