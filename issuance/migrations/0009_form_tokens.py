"""Form tokens once used (issuance.submissions): a form submitted twice does its work once."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issuance', '0008_document_doc_type'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='FormToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(max_length=32, unique=True, verbose_name='令牌')),
                ('used_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='提交时间')),
                ('result', models.CharField(blank=True, max_length=300, verbose_name='结果页面')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='提交人')),
            ],
            options={
                'verbose_name': '表单令牌',
                'verbose_name_plural': '表单令牌',
            },
        ),
    ]
