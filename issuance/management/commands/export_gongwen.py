from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issuance import exchange
from issuance.models import Document


class Command(BaseCommand):
    help = "把一份公文导出为公文交换格式（JSON）：已印发的导出正式文本，否则导出当前稿。"

    def add_arguments(self, parser):
        parser.add_argument("id", type=int, help="公文编号（文档页地址中的数字）")
        parser.add_argument("-o", "--output", required=True, help="输出的 JSON 文件路径")

    def handle(self, *args, **options):
        try:
            document = Document.objects.get(pk=options["id"])
        except Document.DoesNotExist:
            raise CommandError(f"公文 {options['id']} 不存在") from None
        Path(options["output"]).write_text(exchange.dump_json(document.exchange_content()), encoding="utf-8")
        self.stdout.write(f"已导出到 {options['output']}")
