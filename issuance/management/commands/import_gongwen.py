from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from issuance import exchange, params, recognise, services
from issuance.exceptions import IssuanceError
from issuance.roles import drafting_departments


class Command(BaseCommand):
    help = "从公文交换格式（JSON）、Word 文件（.docx）或纯文本（.txt）导入一份草稿。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON、.docx 或 .txt 文件路径")
        parser.add_argument("--user", default="drafter", help="作为拟稿人的用户名（默认：drafter）")
        parser.add_argument("--department", help="承办科室，如“综合科”或“泉工信/综合科”；拟稿人为多个科室拟稿时必须指定")

    def handle(self, *args, **options):
        try:
            content = recognise.read_document(options["file"])
        except exchange.ExchangeError as error:
            raise CommandError(f"导入失败，未创建任何内容。{error}") from None
        except recognise.RecognitionError as error:
            raise CommandError(f"导入失败，未创建任何内容。{error.message}") from None
        for name in ("user", "department"):  # bytes of argv that are no UTF-8 come as surrogates
            if params.UNTYPABLE_RE.search(options[name] or ""):
                raise CommandError(f"导入失败，未创建任何内容。--{name} 含有无法识别的字符")
        User = get_user_model()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"用户“{options['user']}”不存在") from None
        department = None
        if options["department"]:
            code, _, name = options["department"].rpartition("/")
            departments = drafting_departments(user).filter(name=name)
            if code:
                departments = departments.filter(organ__code=code)
            if len(departments) != 1:
                reason = "请写作“机关代字/科室”" if len(departments) > 1 else f"{options['user']}不能为该科室拟稿"
                raise CommandError(f"导入失败，未创建任何内容。承办科室“{options['department']}”：{reason}")
            department = departments[0]
        try:
            document = services.create_draft(user, content, department=department)
        except IssuanceError as error:
            raise CommandError(f"导入失败，未创建任何内容。{error.message}") from None
        self.stdout.write(f"已导入草稿 {document.pk}：{document.title}")
