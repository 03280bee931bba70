"""A task claimed from a queue is now recorded on its step state too (StepState.claimed_by),
so that who holds it is known to the domain: for 催办, the daily reminder and 代理."""

from django.db import migrations


def forward(apps, schema_editor):
    StepTask = apps.get_model("workflows", "StepTask")
    StepState = apps.get_model("issuance", "StepState")
    for task in StepTask.objects.filter(status__in=("ASSIGNED", "STARTED"), state__isnull=False,
                                        state__assignee__isnull=True, owner__isnull=False):
        StepState.objects.filter(pk=task.state_id, status="open").update(claimed_by_id=task.owner_id)


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0003_step_task_data"),
        ("issuance", "0005_notices_due_dates_delegation"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop, elidable=False),
    ]
