"""`manage.py print_worker`: the print dispatcher of workflows.printing in the foreground.

Every GONGWEN_PRINT_POLL_SECONDS it takes up the print jobs whose worker is gone (and
those queued that no worker took) and prints them in this process. For a machine that
renders besides the web processes, or instead of a web process that was stopped.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from workflows import printing


class Command(BaseCommand):
    help = "在本进程中接手并完成无人处理的印制任务（印制进程中断、排队后无人领取的任务）。"

    def handle(self, *args, **options):
        self.stdout.write(f"印制进程 {printing.worker_name()} 已启动，"
                          f"每 {settings.GONGWEN_PRINT_POLL_SECONDS:g} 秒检查一次待接手的印制任务。")
        self.stdout.flush()
        printing.dispatch_forever("inline")
