from django.core.management.base import BaseCommand

from issuance import mailer
from issuance.services.reminders import remind_overdue


class Command(BaseCommand):
    help = "每日逾期提醒：给每人发一条通知（及邮件），列出其已逾期的待办。同一天重复运行不重复提醒。由 cron 或 Celery beat 每天运行。"

    def handle(self, *args, **options):
        reminded = remind_overdue()
        sent, failed = mailer.send_due()
        self.stdout.write(f"已提醒 {len(reminded)} 人（{'、'.join(reminded) or '无'}）；邮件已发送 {sent} 封，{failed} 封稍后重试")
