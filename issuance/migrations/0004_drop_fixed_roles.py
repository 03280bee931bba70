"""The fixed roles are gone: who heads or supervises a 科室, and where a person works, are
appointments now (0003 carried them over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("issuance", "0003_review_chains_data"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='staff',
            name='department',
        ),
        migrations.RemoveField(
            model_name='staff',
            name='user',
        ),
        migrations.RemoveField(
            model_name='department',
            name='head',
        ),
        migrations.RemoveField(
            model_name='department',
            name='supervisor',
        ),
        migrations.DeleteModel(
            name='Staff',
        ),
    ]
