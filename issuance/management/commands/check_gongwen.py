import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issuance import exchange, format_check, recognise


class Command(BaseCommand):
    help = "对一份公文做格式审查：每行一条问题（级别、位置、规则、说明）；有“错误”时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="公文交换格式（JSON）文件；也可以是 .docx 或 .txt，先识别再审查")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = recognise.read_path(path).content if path.suffix.lower() in recognise.SUFFIXES else \
                json.loads(path.read_text(encoding="utf-8"))
        except recognise.RecognitionError as error:
            raise CommandError(error.message) from None
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"无法读取 {path}：{error}") from None
        findings = format_check.check(data)
        for finding in findings:
            self.stdout.write(finding.line())
        errors = len(format_check.errors(findings))
        try:
            exchange.parse_document(data)
        except exchange.ExchangeError as error:
            # What the exchange format refuses and no rule of the check has named already.
            if not any(f.is_error and f.field == error.field.split("[", 1)[0].split(".", 1)[0] for f in findings):
                self.stdout.write(f"{format_check.LEVELS[format_check.ERROR]}\t{exchange.FIELD_LABELS.get(error.field, '交换格式')}"
                                  f"\t交换格式：{error}")
                errors += 1
        hints = len(findings) - len(format_check.errors(findings))
        summary = f"格式审查：错误 {errors} 处，提示 {hints} 处"
        if errors:
            raise CommandError(summary, returncode=1)
        self.stderr.write(summary)
