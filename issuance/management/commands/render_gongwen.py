"""python manage.py render_gongwen IN.json -o OUT.pdf [--draft]: one 公文 from JSON to PDF."""

import gc
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "按 GB/T 9704 将公文交换格式（JSON）排版为 PDF。"
    # A file in, a file out: none of the project's system checks bears on it, and they cost a
    # cold process 0.6 s of CPU (docs/benchmarks.md).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("input", help="公文 JSON 文件（UTF-8）")
        parser.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
        parser.add_argument("--draft", action="store_true", help="每页加“草稿”标记")

    def handle(self, *args, **options):
        # One document, then the process ends: the cyclic garbage collector would only walk
        # the objects that importing WeasyPrint and laying the document out make (a tenth
        # of the command's processor time, docs/benchmarks.md); what a render leaves
        # behind is bounded by the document's caps. The collector is on again afterwards
        # for a caller that runs the command in its own process (call_command).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._render(**options)
        finally:
            if enabled:
                gc.enable()

    def _render(self, *, input, output, draft, **options):
        # Imported here, with the collector off: WeasyPrint's import is most of the objects.
        from issuance.exchange import ExchangeError, read_file
        from issuance.render.fonts import FontMissingError
        from issuance.render.layout import count_pages, render_pdf

        try:
            doc = read_file(input)
        except ExchangeError as exc:
            # str(exc) names the field in Chinese and by key, e.g. "标题（title）：不能为空".
            raise CommandError(str(exc)) from None
        try:
            pdf = render_pdf(doc, draft=draft)
        except FontMissingError as exc:
            raise CommandError(str(exc)) from None
        target = Path(output)
        try:
            target.write_bytes(pdf)
        except OSError as exc:
            raise CommandError(f"无法写入 {target}：{exc.strerror}") from None
        self.stdout.write(f"已生成 {target}（{count_pages(pdf)} 页）")
