from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from issuance import demo, exchange
from issuance.models import IssuedNumber, Role

from workflows import demo_path


class Command(BaseCommand):
    help = ("迁移数据库，载入演示机关、用户，生成演示签名证书，办理范例公文（走完全流程直至归档），"
            "写入当天的锚定。可重复执行。")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        demo.load_organisation()
        cast = demo.load_cast()
        # Before the seed: its 印制 signs with them.
        written = demo.create_signing_keys(settings.GONGWEN_SIGNING_DIR, demo.signing_organs(cast))
        if written:
            self.stdout.write(f"已在 {settings.GONGWEN_SIGNING_DIR} 生成演示签名证书：{'、'.join(written)}")
        labels = dict(Role.choices)
        User = get_user_model()
        for spec in cast["seed_documents"]:
            content = exchange.read_file(demo.FIXTURES / spec["file"])
            if IssuedNumber.objects.filter(number=content["doc_number"]).exists():
                self.stdout.write(f"范例公文 {content['doc_number']} 已存在")
                continue
            document = demo_path.take_through_path(
                content, User.objects.get(username=spec["drafter"]), copies=spec["copies"], retention=spec["retention"],
                format_reason=demo_path.SEED_REASON,
            )
            self.stdout.write(f"范例公文 {document.doc_number} 已办理至归档")
        call_command("anchor_history", stdout=self.stdout)
        for organ in cast["organs"]:
            self.stdout.write(f"{organ['organ']['name']}演示用户：" + "、".join(
                f"{u['username']}（{u['name']}，{'/'.join(labels[r['role']] for r in u['roles'])}）" for u in organ["users"]
            ))
        self.stdout.write(f"演示用户密码均为 {cast['password']}")
