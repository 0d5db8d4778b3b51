from django.db import migrations

SERVICES = [
    ("seo", "SEO", "SEO-продвижение"),
    ("ppc", "Contextual advertising", "Контекстная реклама"),
    ("smm", "SMM", "SMM"),
    ("analytics", "Web analytics", "Веб-аналитика"),
    ("development", "Web development", "Разработка сайтов"),
]


def add_services(apps, schema_editor):
    Service = apps.get_model("catalog", "Service")
    for code, en, ru in SERVICES:
        Service.objects.get_or_create(code=code, defaults={"name_en": en, "name_ru": ru})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(add_services, migrations.RunPython.noop)]
