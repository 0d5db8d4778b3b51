"""The source's rules as the starting policies: 30 working minutes to first contact,
2 working hours to assign an MQL, one working day (9 hours) for the manager's first
action; escalation at half, all and one and a half of each deadline."""

from typing import Any

from django.db import migrations

DEFAULTS = [
    ("First contact within 30 minutes", "first_contact", 30),
    ("MQL assigned within 2 hours", "assignment", 120),
    ("Manager acts within 1 working day", "manager_action", 540),
]


def create(apps: Any, schema_editor: Any) -> None:
    Policy = apps.get_model("sla", "Policy")
    for name, kind, minutes in DEFAULTS:
        if not Policy.objects.filter(kind=kind).exists():
            Policy.objects.create(name=name, kind=kind, minutes=minutes, ladder=[0.5, 1.0, 1.5])


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
