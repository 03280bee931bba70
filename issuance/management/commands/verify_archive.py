"""python manage.py verify_archive: re-hash the archive and the history chains; exit 1 on any mismatch."""

from django.core.management.base import BaseCommand, CommandError

from issuance import verification


class Command(BaseCommand):
    help = ("核验档案：重新计算每个档案文件和正式文件的 SHA-256，检查每份公文办理记录的哈希链，"
            "逐条列出不符之处；有不符时以非零状态退出。")

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-cleanup", action="store_true",
            help="不清理未完成归档遗留的文件（默认先清理已中止的归档操作留下、无档案记录引用的文件）",
        )

    def handle(self, *args, no_cleanup=False, **options):
        report = verification.verify(cleanup=not no_cleanup)
        for path in report.cleaned:
            self.stdout.write(f"已清理未完成归档遗留的文件：{path}")
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"不符 {problem}"))
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()))
            return
        raise CommandError(report.summary())
