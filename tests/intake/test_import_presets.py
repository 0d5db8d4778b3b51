"""Each vendor preset on a small export written from the columns that vendor exports.

Column names come from the vendors' documentation and exports: HubSpot's contacts export
(property labels), a Salesforce lead report, Pipedrive's people and deals exports,
amoCRM's deals export (Сделки → Ещё → Экспорт) and Bitrix24's leads export (CSV in
Windows-1251 with semicolons, as Bitrix24 writes it for Excel).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest

from leadrelay.catalog.models import Source
from leadrelay.intake.importers import (
    PRESETS,
    detect_preset,
    import_rows,
    plan_mapping,
    read_table,
)
from leadrelay.leads.models import Lead, LeadEvent


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue().encode(encoding)


def leads_by_email() -> dict[str, Lead]:
    return {lead.email: lead for lead in Lead.objects.select_related("source")}


@pytest.fixture(autouse=True)
def _moscow(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Moscow"


HUBSPOT = [
    [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Mobile Phone Number",
        "Company Name",
        "Website URL",
        "Create Date",
        "Lifecycle Stage",
        "Lead Status",
        "Contact owner",
        "Original Source",
        "Message",
    ],
    [
        "51",
        "Ирина",
        "Петрова",
        "Irina.Petrova@Example.RU",
        "+7 (999) 123-45-67",
        "",
        "ООО «Ромашка»",
        "https://romashka.example.ru",
        "2026-03-02 09:15",
        "lead",
        "NEW",
        "Olga Sidorova",
        "Paid Search",
        "Нужна консультация по SEO",
    ],
    [
        "52",
        "John",
        "Smith",
        "JOHN@ACME.EXAMPLE.COM",
        "",
        "+1 650 253 0000",
        "Acme Inc",
        "",
        "2026-03-03 18:40",
        "subscriber",
        "",
        "",
        "Direct Traffic",
        "",
    ],
]


@pytest.mark.django_db
def test_hubspot_contacts_export() -> None:
    table = read_table(csv_bytes(HUBSPOT), "hubspot-crm-exports-all-contacts-2026-03-04.csv")
    assert detect_preset(table.headers) == "hubspot"
    mapping = plan_mapping(table.headers, "auto")
    fields = {c.header: c.field for c in mapping.columns}
    assert fields["Phone Number"] == fields["Mobile Phone Number"] == "phone"
    assert fields["Create Date"] == "received_at"
    assert "Lifecycle Stage" in mapping.unmapped
    summary = import_rows(table, mapping)
    assert (summary.created, summary.rejected, summary.duplicates) == (2, [], [])
    leads = leads_by_email()
    irina = leads["irina.petrova@example.ru"]
    assert irina.name == "Ирина Петрова"
    assert irina.phone == "+79991234567"
    assert irina.company == "ООО «Ромашка»"
    assert irina.website == "https://romashka.example.ru"
    assert irina.message == "Нужна консультация по SEO"
    assert irina.received_at == datetime(2026, 3, 2, 6, 15, tzinfo=UTC)
    assert irina.extra["Lifecycle Stage"] == "lead"
    assert irina.extra["Original Source"] == "Paid Search"
    assert irina.source is not None
    assert (irina.source.kind, irina.source.name) == ("import", "Import: hubspot")
    john = leads["john@acme.example.com"]
    assert john.phone == "+16502530000"  # the mobile column fills in for the empty phone
    assert john.review == []
    assert LeadEvent.objects.filter(kind="created").count() == 2


SALESFORCE = [
    [
        "Lead ID",
        "First Name",
        "Last Name",
        "Title",
        "Company / Account",
        "Email",
        "Phone",
        "Mobile",
        "Lead Source",
        "Lead Status",
        "Create Date",
        "Lead Owner",
        "Description",
        "Website",
    ],
    [
        "00Q5g00000AbCdE",
        "Алексей",
        "Кузнецов",
        "CTO",
        "АО «Вектор»",
        "A.Kuznetsov@Vector.Example.RU",
        "8 (495) 123-45-67",
        "",
        "Web",
        "Open - Not Contacted",
        "3/2/2026",
        "Olga Sidorova",
        "Интересует продвижение\nв Яндексе",
        "vector.example.ru",
    ],
]


@pytest.mark.django_db
def test_salesforce_lead_report_as_xlsx() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in SALESFORCE:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "report1709395200000.xlsx")
    mapping = plan_mapping(table.headers, "auto")
    assert mapping.preset == "salesforce"
    fields = {c.header: c.field for c in mapping.columns}
    assert fields["Company / Account"] == "company"
    assert fields["Description"] == "message"
    assert fields["Title"] is None  # a job title, not a lead field
    summary = import_rows(table, mapping)
    assert summary.created == 1
    lead = Lead.objects.get()
    assert lead.name == "Алексей Кузнецов"
    assert lead.email == "a.kuznetsov@vector.example.ru"
    assert lead.phone == "+74951234567"
    assert lead.company == "АО «Вектор»"
    assert lead.message == "Интересует продвижение\nв Яндексе"
    assert lead.received_at == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    assert lead.extra == {
        "Lead ID": "00Q5g00000AbCdE",
        "Title": "CTO",
        "Lead Source": "Web",
        "Lead Status": "Open - Not Contacted",
        "Lead Owner": "Olga Sidorova",
    }


PIPEDRIVE_PEOPLE = [
    [
        "ID",
        "Name",
        "First name",
        "Last name",
        "Organization",
        "Email - Work",
        "Email - Home",
        "Phone - Work",
        "Phone - Mobile",
        "Label",
        "Owner",
        "Person created",
    ],
    [
        "1201",
        "Мария Смирнова",
        "Мария",
        "Смирнова",
        "ТехноСтрой",
        "",
        "Maria.S@Mail.Example.RU",
        "",
        "+7 (916) 555-12-34",
        "Hot lead",
        "Olga Sidorova",
        "2026-03-02 10:00:00",
    ],
    [
        "1202",
        "Пётр Волков",
        "Пётр",
        "Волков",
        "",
        "petr@volkov.example.com",
        "petr.home@example.com",
        "+7 (812) 300-00-00",
        "",
        "",
        "Olga Sidorova",
        "2026-03-02 11:00:00",
    ],
]


@pytest.mark.django_db
def test_pipedrive_people_export() -> None:
    table = read_table(csv_bytes(PIPEDRIVE_PEOPLE), "people-export.csv")
    mapping = plan_mapping(table.headers, "pipedrive")
    assert detect_preset(table.headers) == "pipedrive"
    summary = import_rows(table, mapping)
    assert summary.created == 2
    leads = leads_by_email()
    maria = leads["maria.s@mail.example.ru"]
    assert (maria.name, maria.phone, maria.company) == (
        "Мария Смирнова",
        "+79165551234",
        "ТехноСтрой",
    )
    petr = leads["petr@volkov.example.com"]
    assert petr.phone == "+78123000000"
    # The second e-mail is not lost: it stays on the lead under its column.
    assert petr.extra["Email - Home"] == "petr.home@example.com"
    assert maria.source is not None and maria.source.name == "Import: pipedrive"


PIPEDRIVE_DEALS = [
    [
        "Deal - Title",
        "Deal - Value",
        "Deal - Stage",
        "Person - Name",
        "Person - Email",
        "Person - Phone",
        "Organization - Name",
        "Deal - Deal created",
    ],
    [
        "Сайт для ТехноСтрой",
        "250000",
        "Qualified",
        "Дмитрий Попов",
        "D.Popov@TechnoStroy.Example",
        "8 999 765-43-21",
        "ТехноСтрой",
        "2026-02-20 12:30:00",
    ],
]


@pytest.mark.django_db
def test_pipedrive_deals_export() -> None:
    table = read_table(csv_bytes(PIPEDRIVE_DEALS), "deals.csv")
    mapping = plan_mapping(table.headers)
    assert mapping.preset == "pipedrive"
    import_rows(table, mapping)
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone) == (
        "Дмитрий Попов",
        "d.popov@technostroy.example",
        "+79997654321",
    )
    assert lead.extra["Deal - Title"] == "Сайт для ТехноСтрой"


AMOCRM = [
    [
        "ID",
        "Название сделки",
        "Бюджет",
        "Ответственный",
        "Дата создания",
        "Кем создана",
        "Теги",
        "Основной контакт",
        "Компания контакта",
        "Рабочий телефон",
        "Мобильный телефон",
        "Рабочий email",
        "Личный email",
        "Должность",
        "Этап сделки",
        "Воронка",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "yclid",
    ],
    [
        "24680",
        "Заявка с сайта",
        "120000",
        "Ольга Сидорова",
        "02.03.2026 09:15:00",
        "Робот",
        "сайт, seo",
        "Ольга Кузнецова",
        "ИП Кузнецова",
        "+7 (999) 123-45-67, +7 (999) 765-43-21",
        "",
        "Olga.K@Yandex.RU",
        "",
        "Директор",
        "Первичный контакт",
        "Воронка",
        "yandex",
        "cpc",
        "seo_spring",
        "8431873468291234567",
    ],
    [
        "24681",
        "Звонок",
        "",
        "Ольга Сидорова",
        "03.03.2026 14:00:00",
        "Ольга Сидорова",
        "",
        "Без контактов",
        "",
        "",
        "",
        "",
        "",
        "",
        "Первичный контакт",
        "Воронка",
        "",
        "",
        "",
        "",
    ],
]


@pytest.mark.django_db
def test_amocrm_deals_export_with_bom_and_semicolons() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes(AMOCRM, delimiter=";")
    table = read_table(data, "amocrm_export_leads_2026-03-04.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    mapping = plan_mapping(table.headers)
    assert mapping.preset == "amocrm"
    summary = import_rows(table, mapping)
    assert summary.created == 2
    assert summary.review == 1  # the row with neither e-mail nor phone
    lead = Lead.objects.get(email="olga.k@yandex.ru")
    assert lead.name == "Ольга Кузнецова"
    assert lead.company == "ИП Кузнецова"
    assert lead.phone == "+79991234567"  # the first of the two numbers in the cell…
    assert lead.extra["Рабочий телефон"] == "+7 (999) 123-45-67, +7 (999) 765-43-21"  # …all kept
    assert lead.attribution == {
        "utm_source": "yandex",
        "utm_medium": "cpc",
        "utm_campaign": "seo_spring",
        "yclid": "8431873468291234567",
    }
    assert lead.received_at == datetime(2026, 3, 2, 6, 15, tzinfo=UTC)
    assert lead.extra["Название сделки"] == "Заявка с сайта"
    empty = Lead.objects.get(name="Без контактов")
    assert empty.review == ["no_contact"]
    assert empty.source is not None and empty.source.name == "Import: amocrm"


BITRIX24 = [
    [
        "ID",
        "Название лида",
        "Имя",
        "Отчество",
        "Фамилия",
        "Рабочий телефон",
        "Мобильный телефон",
        "Рабочий e-mail",
        "Частный e-mail",
        "Название компании",
        "Корпоративный сайт",
        "Стадия",
        "Источник",
        "Ответственный",
        "Дата создания",
        "Комментарий",
        "Рекламная система",
        "Тип трафика",
        "Обозначение рекламной кампании",
        "Содержание кампании",
        "Условие поиска кампании",
    ],
    [
        "1001",
        "Лид с формы",
        "Светлана",
        "Игоревна",
        "Орлова",
        "",
        "8 (926) 111-22-33",
        "",
        "Sveta.Orlova@Mail.Example.RU",
        "ООО «Орлов и партнёры»",
        "orlov.example.ru",
        "Новый",
        "Веб-сайт",
        "Ольга Сидорова",
        "04.03.2026 16:45:10",
        "Перезвоните после обеда",
        "google",
        "cpc",
        "brand",
        "ad_1",
        "сайт под ключ",
    ],
]


@pytest.mark.django_db
def test_bitrix24_leads_export_in_windows_1251() -> None:
    data = csv_bytes(BITRIX24, delimiter=";", encoding="cp1251")
    table = read_table(data, "LEAD_20260304.csv")
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    mapping = plan_mapping(table.headers)
    assert mapping.preset == "bitrix24"
    import_rows(table, mapping)
    lead = Lead.objects.get()
    assert lead.name == "Светлана Орлова"
    assert lead.email == "sveta.orlova@mail.example.ru"
    assert lead.phone == "+79261112233"
    assert lead.company == "ООО «Орлов и партнёры»"
    assert lead.website == "orlov.example.ru"
    assert lead.message == "Перезвоните после обеда"
    assert lead.received_at == datetime(2026, 3, 4, 13, 45, 10, tzinfo=UTC)
    assert lead.attribution == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "brand",
        "utm_content": "ad_1",
        "utm_term": "сайт под ключ",
    }
    assert lead.extra["Отчество"] == "Игоревна"
    assert lead.extra["Источник"] == "Веб-сайт"


@pytest.mark.django_db
def test_bitrix24_field_codes_read_name_as_the_first_name() -> None:
    rows = [
        ["TITLE", "NAME", "LAST_NAME", "PHONE", "EMAIL", "UTM_SOURCE"],
        ["Заявка", "Анна", "Лебедева", "+7 999 000-11-22", "Anna@Example.RU", "vk"],
    ]
    table = read_table(csv_bytes(rows, delimiter=";"), "leads.csv")
    import_rows(table, plan_mapping(table.headers, "bitrix24"))
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.email) == (
        "Анна Лебедева",
        "+79990001122",
        "anna@example.ru",
    )
    assert lead.attribution == {"utm_source": "vk"}


@pytest.mark.django_db
def test_a_plain_table_uses_generic_synonyms() -> None:
    rows = [
        ["ФИО", "Телефон", "Почта", "Сайт", "Дата заявки", "UTM Source", "Откуда узнали"],
        [
            "Ирина Петрова",
            "+7 (999) 123-45-67",
            "IRINA@EXAMPLE.RU",
            "",
            "02.03.2026",
            "yandex",
            "друзья",
        ],
    ]
    table = read_table(csv_bytes(rows, delimiter=";"), "список.csv")
    mapping = plan_mapping(table.headers)
    assert mapping.preset == "generic"
    assert mapping.unmapped == ["Откуда узнали"]
    summary = import_rows(table, mapping)
    assert summary.created == 1
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone) == (
        "Ирина Петрова",
        "irina@example.ru",
        "+79991234567",
    )
    assert lead.attribution == {"utm_source": "yandex"}
    assert lead.extra == {"Откуда узнали": "друзья"}
    assert Source.objects.get().name == "Import: auto"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_names_contact_columns(preset: str) -> None:
    targets = set(PRESETS[preset].values())
    assert {"email", "phone", "received_at"} <= targets
    assert targets & {"name", "first_name"}


def test_headers_match_whatever_the_case_spacing_or_yo() -> None:
    mapping = plan_mapping(["  EMAIL ", "phone NUMBER", "Полное имя контакта", "Дата создания"])
    assert [c.field for c in mapping.columns] == ["email", "phone", "name", "received_at"]
    assert plan_mapping(["Пётр"]).columns[0].field is None
    assert plan_mapping(["Телефон для рассылок", "Имя"], "bitrix24").columns[0].field == "phone"
