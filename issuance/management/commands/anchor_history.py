"""python manage.py anchor_history: append the heads of the history chains to today's anchor file.

Run it daily (cron or a systemd timer): an entry deleted from the end of a chain is found by
verify_archive only once an anchor recorded it. Exit 1 when a configured time-stamp
authority did not answer (the anchor is written without its token all the same).
"""

from django.core.management.base import BaseCommand, CommandError

from issuance import anchors
from issuance.models import Event


class Command(BaseCommand):
    help = ("把每份公文办理记录哈希链的最新一条（序号与哈希）写入数据库之外只追加的锚定文件，"
            "附 HMAC；配置了 GONGWEN_TSA_URL 时再请时间戳服务机构加盖 RFC 3161 时间戳。应每天运行。")

    def handle(self, *args, **options):
        written = anchors.write(Event)
        stamped = "，已加盖时间戳" if written.timestamped else ""
        self.stdout.write(f"已写入锚定：{written.heads} 份公文的链头有更新，文件 {written.path}{stamped}")
        if written.timestamp_error:
            raise CommandError(f"锚定已写入，但时间戳服务未能加盖时间戳：{written.timestamp_error}")
