"""Print jobs held by a renewed lease, and a record of each attempt.

Existing jobs get their attempts as far as they are known: every attempt but the last
ended in an error the job no longer holds; the last ended as the job did. A job queued
or running before the upgrade lost its worker with the old process: its lease is
already over, so the first dispatcher after the upgrade takes it up again.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


EARLIER_ATTEMPT = "升级前的尝试，未记录详情"


def record_attempts(apps, schema_editor):
    PrintJob = apps.get_model("issuance", "PrintJob")
    PrintAttempt = apps.get_model("issuance", "PrintAttempt")
    PrintJob.objects.filter(status__in=["queued", "running"]).update(lease_until=django.utils.timezone.now())
    attempts = []
    for job in PrintJob.objects.order_by("pk").iterator():
        start = job.started_at or job.created_at
        for number in range(1, job.attempts + 1):
            if number < job.attempts:
                outcome, error, finished = "failed", EARLIER_ATTEMPT, start
            elif job.status in ("done", "running"):
                outcome, error, finished = job.status, "", job.finished_at
            else:  # failed, or queued again after a failure
                outcome, error, finished = "failed", job.error, job.finished_at or start
            attempts.append(PrintAttempt(job_id=job.pk, number=number, outcome=outcome, error=error,
                                         started_at=start, finished_at=finished))
    PrintAttempt.objects.bulk_create(attempts, batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('issuance', '0006_event_seals'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PrintAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(verbose_name='第几次')),
                ('worker', models.CharField(blank=True, max_length=200, verbose_name='执行进程')),
                ('outcome', models.CharField(choices=[('running', '进行中'), ('done', '完成'), ('failed', '失败'), ('lost', '中断（印制进程退出）')], default='running', max_length=10, verbose_name='结果')),
                ('error', models.TextField(blank=True, verbose_name='错误信息')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='开始时间')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='结束时间')),
            ],
            options={
                'verbose_name': '印制尝试',
                'verbose_name_plural': '印制尝试',
                'ordering': ['job', 'number'],
            },
        ),
        migrations.AddField(
            model_name='printjob',
            name='lease_until',
            field=models.DateTimeField(blank=True, null=True, verbose_name='租约到期'),
        ),
        migrations.AddField(
            model_name='printjob',
            name='worker',
            field=models.CharField(blank=True, max_length=200, verbose_name='执行进程'),
        ),
        migrations.AddIndex(
            model_name='printjob',
            index=models.Index(condition=models.Q(('status__in', ['queued', 'running'])), fields=['lease_until'], name='print_job_active_lease'),
        ),
        migrations.AddField(
            model_name='printattempt',
            name='job',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attempt_log', to='issuance.printjob', verbose_name='印制任务'),
        ),
        migrations.AddConstraint(
            model_name='printattempt',
            constraint=models.UniqueConstraint(fields=('job', 'number'), name='print_attempt_unique_number'),
        ),
        migrations.RunPython(record_attempts, migrations.RunPython.noop),
    ]
