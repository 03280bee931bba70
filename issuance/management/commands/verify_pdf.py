"""python manage.py verify_pdf FILE.pdf: is this issued PDF intact, and who signed it when?"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from issuance import signing
from issuance.exceptions import IssuanceError


class Command(BaseCommand):
    help = ("核验一份正式文件 PDF 的数字签名：文件是否自签名以来未被改动、由哪个机关在何时签名、"
            "签名证书是否来自受信任的证书颁发机构。有效时以状态 0 退出，否则以状态 1 退出。不需要数据库。")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="要核验的 PDF 文件")
        parser.add_argument("--ca", help="受信任的证书颁发机构证书（PEM 或 DER）；默认为 GONGWEN_SIGNING_CA 或签名目录中的 ca.pem")

    def handle(self, *args, file, ca=None, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"无法读取文件 {path}：{error.strerror or error}") from error
        try:
            roots = signing.load_certificates(Path(ca)) if ca else None
            verdict = signing.verify(data, roots)
        except IssuanceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"文件：{path}")
        if verdict.present:
            self.stdout.write(f"签名机关：{verdict.signer}")
            when = timezone.localtime(verdict.signed_at) if verdict.signed_at else None
            self.stdout.write(f"签名时间：{when:%Y年%m月%d日 %H:%M:%S}" if when else "签名时间：未知")
        if verdict.valid:
            self.stdout.write(self.style.SUCCESS(
                f"数字签名有效：文件自签名以来未被改动，签名证书经受信任的“{verdict.authority}”认证。"))
            return
        if verdict.status == "untrusted":
            raise CommandError(f"文件内容与签名相符，但无法确认签名者：{verdict.problem}。")
        if verdict.status == "unsigned":
            raise CommandError("文件没有数字签名，无法确认它出自哪个机关、是否被改动。")
        raise CommandError(f"数字签名无效：{verdict.problem}。")
