"""map_fields: the one step from vendor fields to lead fields, shared by every kind."""

from __future__ import annotations

from leadrelay.intake.mapping import map_fields, normalize_key, params_from_url
from leadrelay.intake.vendors.base import Parsed

GCLID = "EAIaIQobChMI-_x+Y/z=="
DEFAULTS = {"Name": "name", "E-mail": "email", "Phone": "phone", "Comments": "message"}


def test_vendor_defaults_map_and_values_are_kept_exactly() -> None:
    parsed = Parsed(
        fields={
            "Name": "Анна-Мария О'Нил",
            "E-mail": " Ivan.Petrov@Example.RU ",
            "Phone": "+7 (999) 123-45-67",
            "Comments": 'Строка 1\nСтрока "2" & +',
        }
    )
    mapped = map_fields(parsed, DEFAULTS, {})
    assert mapped.name == "Анна-Мария О'Нил"
    assert mapped.email == " Ivan.Petrov@Example.RU "
    assert mapped.phone == "+7 (999) 123-45-67"
    assert mapped.message == 'Строка 1\nСтрока "2" & +'


def test_matching_is_case_insensitive_and_separator_blind() -> None:
    parsed = Parsed(fields={"e_mail": "a@b.c", "PHONE": "1", "full name": "X Y", "Org": "O"})
    mapped = map_fields(parsed, DEFAULTS, {"FULL-NAME": "name", "org": "Company "})
    assert (mapped.email, mapped.phone, mapped.name) == ("a@b.c", "1", "X Y")
    assert mapped.company == "O"


def test_a_loosely_written_target_still_names_its_field() -> None:
    parsed = Parsed(fields={"a": "Анна", "b": "vk"})
    mapped = map_fields(parsed, {}, {"a": "First Name", "b": "UTM-Source"})
    assert (mapped.name, mapped.attribution) == ("Анна", {"utm_source": "vk"})


def test_the_source_mapping_overrides_the_vendor_default() -> None:
    parsed = Parsed(fields={"Name": "Рога & Копыта+", "Contact": "Анна"})
    mapped = map_fields(parsed, DEFAULTS, {"name": "company", "contact": "name"})
    assert (mapped.company, mapped.name) == ("Рога & Копыта+", "Анна")


def test_a_mapping_can_send_a_field_to_attribution() -> None:
    parsed = Parsed(fields={"Источник": "vk"}, hidden={"click": GCLID})
    mapped = map_fields(parsed, {}, {"источник": "utm_source", "click": "gclid"})
    assert mapped.attribution == {"utm_source": "vk", "gclid": GCLID}


def test_fields_named_like_lead_fields_or_attribution_keys_map_themselves() -> None:
    parsed = Parsed(
        fields={"company": "ООО Ромашка"}, hidden={"UTM_Source": "google", "yclid": "1+2"}
    )
    mapped = map_fields(parsed, {}, {})
    assert mapped.company == "ООО Ромашка"
    assert mapped.attribution == {"utm_source": "google", "yclid": "1+2"}


def test_labels_are_matched_after_keys() -> None:
    parsed = Parsed(fields={"question_3EKz4n": "Анна"}, labels={"question_3EKz4n": "Ваше имя"})
    assert map_fields(parsed, {"ваше имя": "name"}, {}).name == "Анна"
    assert (
        map_fields(parsed, {"ваше имя": "name"}, {"question_3ekz4n": "company"}).company == "Анна"
    )


def test_hints_fill_a_lead_field_only_when_nothing_else_did() -> None:
    parsed = Parsed(
        fields={"work": "w@x.y", "Email": "e@x.y", "mob": "+7 900"},
        hints={"work": "email", "mob": "phone"},
    )
    mapped = map_fields(parsed, {"email": "email"}, {})
    assert (mapped.email, mapped.phone) == ("e@x.y", "+7 900")
    assert mapped.extra == {"work": "w@x.y"}


def test_unmapped_fields_go_to_extra_under_their_label() -> None:
    parsed = Parsed(
        fields={"q1": "100 000+ ₽", "q2": "вчера"},
        labels={"q1": "Бюджет"},
    )
    assert map_fields(parsed, {}, {}).extra == {"Бюджет": "100 000+ ₽", "q2": "вчера"}


def test_a_second_value_for_a_filled_field_is_kept_in_extra_and_messages_join() -> None:
    parsed = Parsed(
        fields={"email": "a@b.c", "email2": "d@e.f", "message": "Раз", "comment": "Два"}
    )
    mapped = map_fields(parsed, {"email2": "email", "comment": "message"}, {})
    assert mapped.email == "a@b.c" and mapped.extra == {"email2": "d@e.f"}
    assert mapped.message == "Раз\n\nДва"


def test_empty_values_are_dropped_everywhere() -> None:
    parsed = Parsed(
        fields={"name": "  ", "x": ""}, hidden={"utm_source": ""}, consent={"text_version": ""}
    )
    mapped = map_fields(parsed, {}, {})
    assert (mapped.name, mapped.attribution, mapped.extra, mapped.consent) == ("", {}, {}, {})


def test_the_name_is_made_from_first_and_last_when_there_is_no_full_name() -> None:
    parsed = Parsed(fields={"first_name": "Анна-Мария", "last_name": "О'Нил"})
    assert map_fields(parsed, {}, {}).name == "Анна-Мария О'Нил"
    only_last = Parsed(fields={"last_name": "О'Нил"})
    assert map_fields(only_last, {}, {}).name == "О'Нил"
    full = Parsed(fields={"name": "А. О.", "first_name": "Анна"})
    assert map_fields(full, {}, {}).name == "А. О."


def test_click_ids_and_utms_come_from_the_landing_url_when_not_given() -> None:
    parsed = Parsed(
        hidden={"utm_source": "given"},
        landing_url=f"https://a.test/p?utm_source=url&utm_term=seo+москва&gclid={GCLID}&fbclid=a%2Bb#x",
        referrer="https://ya.ru/",
    )
    assert map_fields(parsed, {}, {}).attribution == {
        "utm_source": "given",
        "utm_term": "seo москва",
        "gclid": GCLID,
        "fbclid": "a+b",
        "landing_url": parsed.landing_url,
        "referrer": "https://ya.ru/",
    }


def test_a_landing_url_sent_as_a_field_is_used_too() -> None:
    parsed = Parsed(hidden={"landing_url": "https://a.test/?yclid=123&utm_medium=cpc"})
    attribution = map_fields(parsed, {}, {}).attribution
    assert attribution["yclid"] == "123" and attribution["utm_medium"] == "cpc"


def test_consent_passes_through() -> None:
    consent = {"text_version": "2026-03", "given_at": "2026-03-02T09:00:00+00:00"}
    assert map_fields(Parsed(consent=consent), {}, {}).consent == consent


def test_an_unknown_mapping_target_keeps_the_value_in_extra() -> None:
    parsed = Parsed(fields={"Должность": "CMO"})
    assert map_fields(parsed, {}, {"должность": "job_title"}).extra == {"Должность": "CMO"}


def test_helpers() -> None:
    assert normalize_key("  E-Mail  Address ") == "emailaddress"
    assert normalize_key("phoneNumber") == normalize_key("phone_number")
    assert params_from_url("not a url") == {}
    assert params_from_url("https://x/?gclid=%ZZ&utm_source=%E0%A4") == {"gclid": "%ZZ"}
