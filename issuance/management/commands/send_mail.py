from django.core.management.base import BaseCommand

from issuance import mailer


class Command(BaseCommand):
    help = "发送待发的通知邮件（邮件服务器中断期间积压的邮件在恢复后由此补发）。可由 cron 每几分钟运行一次。"

    def handle(self, *args, **options):
        sent, failed = mailer.send_due()
        self.stdout.write(f"已发送 {sent} 封，{failed} 封稍后重试")
