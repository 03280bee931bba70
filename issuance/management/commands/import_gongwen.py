from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from issuance import exchange, services
from issuance.exceptions import IssuanceError


class Command(BaseCommand):
    help = "从公文交换格式（JSON）导入一份草稿。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON 文件路径")
        parser.add_argument("--user", default="drafter", help="作为拟稿人的用户名（默认：drafter）")

    def handle(self, *args, **options):
        try:
            content = exchange.read_file(options["file"])
        except exchange.ExchangeError as error:
            raise CommandError(f"导入失败，未创建任何内容。{error}") from None
        User = get_user_model()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"用户“{options['user']}”不存在") from None
        try:
            document = services.create_draft(user, content)
        except IssuanceError as error:
            raise CommandError(f"导入失败，未创建任何内容。{error.message}") from None
        self.stdout.write(f"已导入草稿 {document.pk}：{document.title}")
