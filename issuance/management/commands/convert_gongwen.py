from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issuance import exchange, recognise


class Command(BaseCommand):
    help = "识别 Word 文件（.docx）或纯文本（.txt）中的公文，写出公文交换格式（JSON），不创建任何内容。"

    def add_arguments(self, parser):
        parser.add_argument("file", help=".docx 或 .txt 文件路径")
        parser.add_argument("-o", "--output", required=True, help="输出的 JSON 文件路径")

    def handle(self, *args, **options):
        try:
            recognised = recognise.read_path(options["file"])
            content = exchange.parse_document(recognised.content)
        except recognise.RecognitionError as error:
            raise CommandError(f"识别失败。{error.message}") from None
        except exchange.ExchangeError as error:
            raise CommandError(f"识别失败。{error}") from None
        Path(options["output"]).write_text(exchange.dump_json(content), encoding="utf-8")
        for label, value in recognised.found:
            self.stdout.write(f"{label}：{value}")
        for note in recognised.notes:
            self.stdout.write(f"注意：{note}")
        self.stdout.write(f"已写出 {options['output']}")
