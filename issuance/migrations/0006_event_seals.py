"""Entries of the history carry an HMAC with a key kept outside the database.

The entries already written cannot be given one: the key would certify whatever the
database holds at this moment, and nothing says it was not changed before. Instead they
are sealed by the first anchor, written here: the head of every document's chain goes
to the anchor file (outside the database, with its own HMAC), and from then on each
entry without an HMAC must lie at or below a head some anchor recorded, in a chain that
still leads to it. See docs/tamper-evidence.md.
"""

from django.db import migrations, models

from issuance import anchors


def seal_existing_chains(apps, schema_editor):
    Event = apps.get_model("issuance", "Event")
    if Event.objects.filter(mac="").exists():
        anchors.write(Event)


class Migration(migrations.Migration):

    dependencies = [
        ("issuance", "0005_notices_due_dates_delegation"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="key_id",
            field=models.CharField(blank=True, max_length=16, verbose_name="密钥标识"),
        ),
        migrations.AddField(
            model_name="event",
            name="mac",
            field=models.CharField(blank=True, max_length=64, verbose_name="HMAC"),
        ),
        migrations.RunPython(seal_existing_chains, migrations.RunPython.noop),
    ]
