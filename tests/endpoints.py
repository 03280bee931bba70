"""Every page with the query parameters it reads, and every form that changes something with
data it accepts, in a small world of documents at each step: for test_input (each form
posted twice, or without its token) and test_fuzz (any value of any parameter or field).

`database_state()` and `media_files()` say what a request changed.
"""

import contextlib
import datetime
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import constants, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from issuance import demo, services
from issuance.models import (
    ArchiveRecord, Decision, Delegation, Department, Organ, RecipientOrgan, ReviewChain, Stage, StepState,
)
from workflows import actions, demo_path, queries

from .builders import decide, gx_content, module_world, open_state, short_content, task_of
from .conftest import CAST, GX_CAST

# The tables a request could change. Sessions and a user's last login change with every
# login, django-axes counts failed logins by design, and none of them is the domain's.
TRACKED_APPS = ("issuance", "workflows", "viewflow", "guardian", "auth")
UNTRACKED_COLUMNS = {"last_login"}


def database_state():
    """Per table of TRACKED_APPS: its row count and a digest of every row."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in TRACKED_APPS:
            columns = [f.attname for f in model._meta.concrete_fields if f.attname not in UNTRACKED_COLUMNS]
            rows = list(model._base_manager.order_by("pk").values_list(*columns))
            state[model._meta.label] = (len(rows), hashlib.sha256(repr(rows).encode("utf-8", "backslashreplace")).hexdigest())
    return state


def changed_tables(before, after):
    return sorted(label for label in after if before.get(label) != after[label])


def media_files():
    """Every file under MEDIA_ROOT with its content digest, but the preview cache (previews/:
    the draft PDFs and page pictures any page view may render and keep, derived data that is
    safe to delete)."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return {}
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and path.relative_to(root).parts[0] != "previews"}


def post(client, path, data):
    """POST as the client's user, so that the response's messages are only its own."""
    client.cookies.pop("messages", None)
    return client.post(path, data)


def levels(response):
    """The levels of the messages a response gave (see `post`)."""
    return {message.level for message in get_messages(response.wsgi_request)}


def succeeded(response):
    """A request that says it did something: a success message."""
    return response.status_code < 400 and constants.SUCCESS in levels(response)


def refused(response):
    """A request that did nothing, and must have changed nothing: an answer of 4xx, the form
    shown again (200), the login page, or a redirect with an error message."""
    if response.status_code != 302:
        return True
    return response["Location"].startswith("/login/") or constants.ERROR in levels(response)


def misprinted(content):
    """A draft whose 格式审查 finds a 错误 with a safe fix: a traditional character."""
    body = [dict(block) for block in content["body"]]
    body[-1]["text"] = "各单位要高度重視，精心组织，确保活动取得实效。"
    return {**content, "body": body}


def _through(content, user, until, **draft):
    return demo_path.take_through_path(content, user, until=until, **draft)


def build(seed_content):
    """The world: a document at each step a form acts on, in 泉科, and a draft of 泉工信."""
    demo.load_organisation()
    users = {user.username: user for user in get_user_model().objects.filter(username__in=CAST + GX_CAST)}
    drafter = users["drafter"]

    def qk(topic):
        return short_content(seed_content, f"泉州市科学技术局关于{topic}的通知")

    docs = {
        "draft": services.create_draft(drafter, qk("征集2026年科普作品")),
        "first": _through(qk("开展2026年科普讲解大赛"), drafter, "初审"),
        "queued": _through(qk("做好2026年科技特派员工作"), drafter, "复审"),
        "claimed": _through(qk("报送2026年科技统计数据"), drafter, "复审"),
        "returned": _through(qk("组织2026年科技成果登记"), drafter, "初审"),
        "registration": _through(qk("举办2026年科技创新论坛"), drafter, Stage.REGISTRATION),
        "printing": _through(qk("评选2026年科技进步奖"), drafter, Stage.PRINTING),
        "distribution": _through(qk("开展2026年科技下乡活动"), drafter, Stage.DISTRIBUTION),
        "archiving": _through(qk("推荐2026年科技特派员"), drafter, Stage.ARCHIVING),
        "archived": _through(short_content(seed_content), drafter, Stage.ARCHIVED),
        "gx_draft": services.create_draft(users["gx_drafter"], gx_content(seed_content)),
        "misprinted": services.create_draft(drafter, misprinted(qk("推广2026年科普读物"))),
    }
    actions.claim(task_of(open_state(docs["claimed"])), users["reviewer"])
    decide(docs["returned"], users["head"], Decision.RETURN, "请补充活动安排。")
    today = timezone.localdate()
    # 初审 of "first" is overdue, so that the drafter may urge it (催办).
    StepState.objects.filter(pk=open_state(docs["first"]).pk).update(due_on=today - datetime.timedelta(days=3))
    delegation = services.delegate(drafter, users["head"], today, today + datetime.timedelta(days=5), drafter, "出差")
    qk_organ = Organ.objects.get(code="泉科")
    services.save_recipient(qk_organ, users["clerk"], "泉州市科学技术协会", "市科协")
    client = Client()  # five wrong passwords lock `outsider` out, for the administrator to unlock
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "outsider", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    ids = {name: document.pk for name, document in docs.items()}

    def task(name):
        return queries.open_tasks(ids[name]).order_by("pk").first().pk

    ids.update({
        f"task_{name}": task(name)
        for name in ("first", "queued", "claimed", "returned", "registration", "printing", "distribution", "archiving")
    })
    ids.update(
        first_state=open_state(docs["first"]).pk,
        record=ArchiveRecord.objects.get(document_id=ids["archived"]).pk,
        recipient=RecipientOrgan.objects.get(organ=qk_organ, name="泉州市科学技术协会").pk,
        chain=ReviewChain.objects.get(organ=qk_organ, name="公文三审").pk,
        delegation=delegation.pk,
        qk_organ=qk_organ.pk,
        gx_organ=Organ.objects.get(code="泉工信").pk,
        department=Department.objects.get(organ=qk_organ, name="综合科").pk,
        other_department=Department.objects.get(organ=qk_organ, name="政策法规科").pk,
        head=users["head"].pk,
        later=(today + datetime.timedelta(days=10)).isoformat(),
        later_end=(today + datetime.timedelta(days=12)).isoformat(),
    )
    assert Delegation.objects.filter(pk=delegation.pk).exists()
    return SimpleNamespace(ids=ids)


@contextlib.contextmanager
def built(django_db_blocker, seed_content, media):
    """The world, built once for a module or class, its files in `media`, rolled back at the end."""
    with module_world(django_db_blocker, media):
        world = build(seed_content)
        world.media = media
        world.users = {user.username: user for user in get_user_model().objects.all()}
        yield world


# --- The pages and their query parameters ---------------------------------------------------

@dataclass(frozen=True)
class Page:
    url: str  # formatted with the world's ids
    params: dict = field(default_factory=dict)  # name -> values the page understands
    who: str = "drafter"  # a user who may see it

    def path(self, ids):
        return self.url.format(**ids)


YEARS = ["2024", "2026"]
ORGANS = ["泉科", "泉工信", "{qk_organ}", "{gx_organ}"]
PAGES = [
    Page("/"),
    Page("/documents/", {"q": ["通知", "泉科〔2024〕"], "scope": ["mine", "all"], "page": ["1", "2"]}),
    Page("/documents/{draft}/"),
    Page("/documents/{draft}/edit/"),
    Page("/documents/new/"),
    Page("/documents/{draft}/preview.pdf", {"r": ["1", "2"]}),
    Page("/documents/{archived}/issued.pdf", {"download": ["1", "0"]}),
    Page("/documents/{archived}/export.json"),
    Page("/documents/{draft}/revisions/1/", {"compare": ["1", "2"]}),
    Page("/documents/{draft}/sheet/", {"print": ["1", "0"]}),
    Page("/documents/{draft}/pages/1.png", {"w": ["480", "960", "1600"], "r": ["1", "2"]}),
    Page("/tasks/inbox/", {"page": ["1", "2"]}),
    Page("/tasks/queue/", {"page": ["1", "2"]}),
    Page("/tasks/done/", {"page": ["1", "2"]}),
    Page("/tasks/{task_first}/", who="head"),
    Page("/archive/", {"code": ["X001"], "number": ["泉科"], "title": ["通知"], "organ": ["科学技术局"],
                       "text": ["科技"], "year": YEARS, "retention": ["Y", "D30", "D10"], "page": ["1", "2"]}, who="clerk"),
    Page("/archive/{record}/", who="clerk"),
    Page("/archive/{record}/files/issued_pdf/", {"download": ["1", "0"]}, who="clerk"),
    Page("/archive/{record}/export.zip", who="clerk"),
    Page("/numbers/", {"code": ["泉科", "泉工信"], "year": YEARS, "page": ["1", "2"]}, who="clerk"),
    Page("/recipients/", {"organ": ORGANS}, who="clerk"),
    Page("/recipients/new/", {"organ": ORGANS}, who="clerk"),
    Page("/recipients/{recipient}/", {"organ": ORGANS}, who="clerk"),
    Page("/chains/", {"organ": ORGANS}, who="clerk"),
    Page("/chains/new/", {"organ": ORGANS}, who="clerk"),
    Page("/chains/{chain}/", who="clerk"),
    Page("/chains/{chain}/sample/", {"department": ["{department}"], "doc_type": ["通知", "函"],
                                     "direction": ["下行文", "上行文"], "countersign": ["{other_department}"],
                                     "co_organs": ["{gx_organ}"]}, who="clerk"),
    Page("/notices/", {"page": ["1", "2"]}),
    Page("/delegations/"),
    Page("/lockouts/", {"organ": ORGANS}, who="clerk"),
    Page("/password/"),
    Page("/login/", {"next": ["/documents/", "/archive/"]}, who="anonymous"),
]


# --- The forms that change something, with data each accepts --------------------------------

def draft_data(ids, **changes):
    name = "泉州市科学技术局"
    data = {
        "doc_type": "通知", "direction": "下行文", "format": "文件", "issuer_marks": name,
        "title": f"{name}关于举办开放日活动的通知", "main_recipients": "市直有关单位",
        "body": "定于2026年9月举办开放日活动。\n一、时间\n9月16日。", "signature_orgs": name,
        "seal": "on", "copies": "5", "department": str(ids["department"]),
    }
    data.update(changes)
    return data


def chain_data(name="纪要审核"):
    return {
        "name": name, "doc_types": ["纪要"], "active": "on",
        "s-TOTAL_FORMS": "2", "s-INITIAL_FORMS": "0", "s-MIN_NUM_FORMS": "0", "s-MAX_NUM_FORMS": "12",
        "s-0-name": "初审", "s-0-kind": "review", "s-0-actor": "department_head", "s-0-ORDER": "1",
        "s-1-name": "签发", "s-1-kind": "sign", "s-1-actor": "role", "s-1-role": "principal", "s-1-ORDER": "2",
    }


@dataclass(frozen=True)
class Form:
    name: str
    url: str  # formatted with the world's ids
    who: str  # a user who may submit it
    data: object = lambda ids: {}  # ids -> the data it accepts

    def path(self, ids):
        return self.url.format(**ids)


FORMS = [
    Form("拟稿", "/documents/new/", "drafter", lambda ids: draft_data(ids)),
    Form("修改稿纸", "/documents/{draft}/edit/", "drafter", lambda ids: draft_data(ids, title="泉州市科学技术局关于举办科技开放日活动的通知")),
    Form("送审", "/documents/{draft}/submit/", "drafter", lambda ids: {"note": "请审核。"}),
    Form("撤回", "/documents/{first}/withdraw/", "drafter", lambda ids: {"reason": "需补充材料"}),
    Form("改正格式", "/documents/{misprinted}/format/fix/", "drafter", lambda ids: {"revision": "1", "finding": "all"}),
    Form("授权查看", "/documents/{first}/grant/", "drafter", lambda ids: {"username": "outsider"}),
    Form("催办", "/documents/{first}/urge/{first_state}/", "drafter"),
    Form("审核", "/tasks/{task_first}/", "head", lambda ids: {"decision": Decision.APPROVE, "text": "同意。"}),
    Form("领取", "/tasks/{task_queued}/claim/", "reviewer"),
    Form("退回待领取", "/tasks/{task_claimed}/release/", "reviewer"),
    Form("重新送审", "/tasks/{task_returned}/", "drafter", lambda ids: {"note": "已补充。"}),
    Form("登记", "/tasks/{task_registration}/", "clerk", lambda ids: {"copies": "10"}),
    Form("印制", "/tasks/{task_printing}/", "clerk", lambda ids: {"action": "print"}),
    Form("作废文号", "/tasks/{task_printing}/", "clerk", lambda ids: {"action": "void", "reason": "文号有误"}),
    Form("核发", "/tasks/{task_distribution}/", "clerk", lambda ids: {
        "r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-0-recipient": "市科协", "r-0-role": "cc", "r-0-copies": "2"}),
    Form("归档", "/tasks/{task_archiving}/", "archivist", lambda ids: {"retention": "Y", "remarks": ""}),
    Form("作废下一个文号", "/numbers/", "clerk", lambda ids: {"reason": "已用于纸质公文"}),
    Form("新增收文机关", "/recipients/new/", "clerk", lambda ids: {"name": "泉州市测试中心", "aliases": "", "active": "on"}),
    Form("修改收文机关", "/recipients/{recipient}/", "clerk", lambda ids: {"name": "泉州市科学技术协会", "aliases": "科协",
                                                                      "active": "on"}),
    Form("新建审核流程", "/chains/new/", "clerk", lambda ids: chain_data()),
    Form("修改审核流程", "/chains/{chain}/", "clerk", lambda ids: {**chain_data("公文三审"), "doc_types": []}),
    Form("全部标为已读", "/notices/read/", "head"),
    Form("设置代理", "/delegations/", "drafter", lambda ids: {
        "deputy": str(ids["head"]), "starts_on": ids["later"], "ends_on": ids["later_end"], "reason": "培训"}),
    Form("取消代理", "/delegations/{delegation}/end/", "drafter"),
    Form("解除登录锁定", "/lockouts/", "clerk", lambda ids: {"username": "outsider"}),
]
# Forms that need no token: a second login or logout does nothing new, a second password
# change is refused (the old password no longer matches).
NATURAL_FORMS = [
    Form("登录", "/login/", "anonymous", lambda ids: {"username": "drafter", "password": "gongwen-demo",
                                                    "next": "/documents/"}),
    Form("修改密码", "/password/", "drafter", lambda ids: {
        "old_password": "gongwen-demo", "new_password1": "Quanzhou-Keji-2026", "new_password2": "Quanzhou-Keji-2026"}),
]
# Forms that save nothing: the 稿纸 filled from a file, shown for the drafter to check.
IMPORTED_TEXT = "泉州市科学技术局关于举办科技开放日活动的通知\n\n市直有关单位：\n\n定于2026年9月举办科技开放日活动。\n"
READING_FORMS = [
    Form("从文件拟稿", "/documents/new/import/", "drafter", lambda ids: {
        "file": SimpleUploadedFile("通知.txt", IMPORTED_TEXT.encode("utf-8"), content_type="text/plain")}),
]
