from django.db import migrations


def add_templates(apps, schema_editor):
    from leadrelay.presale.defaults import install

    install(apps.get_model("presale", "BriefTemplate"), apps.get_model("catalog", "Service"))


class Migration(migrations.Migration):
    dependencies = [("presale", "0001_initial"), ("catalog", "0002_default_services")]

    operations = [migrations.RunPython(add_templates, migrations.RunPython.noop)]
