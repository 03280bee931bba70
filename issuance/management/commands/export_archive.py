"""python manage.py export_archive 档号 -o FILE.zip: one archive package with its manifest, for transfer."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issuance import archiving
from issuance.exceptions import IssuanceError
from issuance.models import ArchiveRecord


class Command(BaseCommand):
    help = "把一件档案的档案包导出为 zip（含 manifest.json：各文件的路径、类别、大小、SHA-256 和目录字段），供移交档案系统。"

    def add_arguments(self, parser):
        parser.add_argument("archive_code", help="档号，如 X001-WS·2024-Y-ZHK-0001")
        parser.add_argument("-o", "--output", required=True, help="输出的 zip 文件路径")

    def handle(self, *args, archive_code, output, **options):
        try:
            record = ArchiveRecord.objects.get(archive_code=archive_code.strip())
        except ArchiveRecord.DoesNotExist:
            raise CommandError(f"档号 {archive_code} 不存在") from None
        target = Path(output)
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as handle:
                manifest = archiving.write_zip(record, handle)
            partial.replace(target)
        except IssuanceError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(error.message) from None
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"无法写入 {target}：{error.strerror}") from None
        self.stdout.write(f"已导出档号 {record.archive_code} 的档案包（{len(manifest['files'])} 个文件）到 {target}")
