from django.db import migrations


def add_defaults(apps, schema_editor):
    from leadrelay.qualify.defaults import install

    install(
        apps.get_model("qualify", "ReasonCode"),
        apps.get_model("qualify", "NeedCategory"),
        apps.get_model("qualify", "Questionnaire"),
        apps.get_model("qualify", "QuestionnaireVersion"),
        apps.get_model("catalog", "Service"),
    )


class Migration(migrations.Migration):
    dependencies = [("qualify", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
