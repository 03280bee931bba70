"""The migration to review chains carries the data of the fixed three-review path over.

The database is taken back to the migrations before review chains (issuance 0001,
workflows 0001), filled as the old code filled it (role groups and Staff, a document's
revisions, opinions, hash-chained history, viewflow process and tasks, a guardian grant),
and migrated forward. Then the documents stand where they stood, their history verifies,
and the new code takes each one on from there.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from guardian.models import UserObjectPermission
from viewflow.workflow.token import Token

from issuance import anchors, verification
from issuance.models import Appointment, Document, Event, ReviewChain, Role, Round, Stage, StepState
from issuance.roles import can_view, forget_memberships
from workflows import actions
from workflows.models import StepTask

from .builders import decide, open_state

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("issuance", "0001_initial"), ("workflows", "0001_initial")]
FLOW = "workflows/flows.DocumentFlow"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def legacy():
    """The historical models of the fixed path; the database is migrated forward afterwards
    in any case, so that the next test finds the current schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor.loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


def migrate_forward():
    call_command("migrate", verbosity=0)


class OldWorld:
    """Writes rows the way the code before review chains wrote them."""

    def __init__(self, apps):
        self.apps = apps
        model = apps.get_model
        self.User = model("auth", "User")
        self.Group = model("auth", "Group")
        self.Organ, self.Department, self.Staff = (model("issuance", n) for n in ("Organ", "Department", "Staff"))
        self.Document, self.Revision = model("issuance", "Document"), model("issuance", "Revision")
        self.Opinion, self.Event = model("issuance", "Opinion"), model("issuance", "Event")
        self.Process, self.Task = model("workflows", "DocumentProcess"), model("viewflow", "Task")
        self.organ = self.Organ.objects.create(name="泉州市科学技术局", code="泉科", fonds_code="X001",
                                               office_name="泉州市科学技术局办公室")
        self.users = {}
        for username, name in [("drafter", "林晓峰"), ("head", "陈志明"), ("reviewer", "王丽"), ("deputy", "黄建国"),
                               ("director", "张伟"), ("clerk", "李娜"), ("archivist", "郑敏"), ("outsider", "吴强")]:
            self.users[username] = self.User.objects.create(username=username, last_name=name[0], first_name=name[1:])
        self.zhk = self.Department.objects.create(organ=self.organ, name="综合科", code="ZHK",
                                                  head=self.users["head"], supervisor=self.users["deputy"])
        office = self.Department.objects.create(organ=self.organ, name="办公室", code="BGS",
                                                supervisor=self.users["deputy"])
        groups = {"drafter": ["拟稿人"], "head": ["科室负责人", "拟稿人"], "reviewer": ["办公室核稿"],
                  "deputy": ["分管领导"], "director": ["主要领导"], "clerk": ["办公室文书"], "archivist": ["档案员"],
                  "outsider": ["拟稿人"]}
        for username, names in groups.items():
            user = self.users[username]
            user.groups.set([self.Group.objects.get_or_create(name=name)[0] for name in names])
            self.Staff.objects.create(user=user, department=self.zhk if username in ("drafter", "head") else office,
                                      title="")
        self.clock = T0

    def tick(self):
        self.clock += datetime.timedelta(minutes=5)
        return self.clock

    def document(self, title, stage, round_=1, **content):
        content = {"title": title, "body": [{"kind": "paragraph", "text": "正文。"}], "doc_type": "通知",
                   "direction": "下行文", **content}
        document = self.Document.objects.create(organ=self.organ, department=self.zhk, drafter=self.users["drafter"],
                                                stage=stage, title=title, round=round_, created_at=self.clock)
        revision = self.Revision.objects.create(document=document, number=1, content=content, sha256="0" * 64,
                                                author=self.users["drafter"], created_at=self.clock)
        document.current_revision = revision
        document.save()
        self.events, self.last_hash = 0, "0" * 64
        self.process = self.Process.objects.create(flow_class=FLOW, document=document, status="NEW", created=self.clock)
        self.task("start", "START", "DONE")
        return document

    def event(self, document, action, actor, before, after, **detail):
        self.events += 1
        event = Event(document_id=document.pk, seq=self.events, action=action,
                      actor_id=self.users[actor].pk if actor else None, stage_before=before, stage_after=after,
                      detail=detail, created_at=self.tick(), prev_hash=self.last_hash)
        event.hash = event.compute_hash()
        self.Event.objects.create(document=document, seq=event.seq, action=action, actor_id=event.actor_id,
                                  stage_before=before, stage_after=after, detail=detail, created_at=event.created_at,
                                  prev_hash=event.prev_hash, hash=event.hash)
        self.last_hash = event.hash

    def opinion(self, document, step, decision, user, round_=1, text=""):
        return self.Opinion.objects.create(document=document, revision=document.current_revision, round=round_,
                                           step=step, decision=decision, text=text, user=self.users[user],
                                           created_at=self.clock)

    def task(self, node, kind="HUMAN", status="DONE", owner=None):
        return self.Task.objects.create(process_id=self.process.pk, flow_task=f"{FLOW}.{node}", flow_task_type=kind,
                                        status=status, owner=self.users[owner] if owner else None, created=self.tick(),
                                        token=Token("start"), data={})

    def submitted(self, document, round_=1):
        self.opinion(document, "draft", "submit", "drafter", round_)
        self.event(document, "submit", "drafter", "drafting" if round_ == 1 else "returned", "first_review",
                   round=round_, revision=1)
        self.task("route", "SWITCH")

    def approved(self, document, step, user, before, after, node):
        opinion = self.opinion(document, step, "approve", user, text="同意。")
        self.event(document, "approve", user, before, after, step=step, opinion=opinion.pk)
        self.task(node, owner=user)
        self.task("route", "SWITCH")


def test_documents_on_the_old_path_continue_on_the_new_one(legacy):
    old = OldWorld(legacy)

    at_second = old.document("关于复审中的通知", "second_review")
    old.event(at_second, "create", "drafter", "", "drafting", revision=1)
    old.submitted(at_second)
    old.approved(at_second, "first_review", "head", "first_review", "second_review", "first_review")
    queued = old.task("second_review", status="NEW")

    withdrawn = old.document("关于已撤回的通知", "drafting")
    old.event(withdrawn, "create", "drafter", "", "drafting", revision=1)
    old.submitted(withdrawn)
    old.task("first_review", status="CANCELED", owner="head")
    old.opinion(withdrawn, "draft", "withdraw", "drafter")
    old.event(withdrawn, "withdraw", "drafter", "first_review", "drafting", round=1)
    old.task("revise", status="ASSIGNED", owner="drafter")

    returned = old.document("关于已退回的通知", "returned")
    old.event(returned, "create", "drafter", "", "drafting", revision=1)
    old.submitted(returned)
    opinion = old.opinion(returned, "first_review", "return", "head", text="请补充预算。")
    old.event(returned, "return", "head", "first_review", "returned", step="first_review", reason="请补充预算。",
              opinion=opinion.pk)
    old.task("first_review", owner="head")
    old.task("route", "SWITCH")
    old.task("revise", status="ASSIGNED", owner="drafter")

    # A 联合行文 with an organ that is not in the system: it passed review before 会签 existed.
    signed = old.document("关于签发中的通知", "signing", issuer_marks=["泉州市科学技术局", "泉州市财政局"])
    old.event(signed, "create", "drafter", "", "drafting", revision=1)
    old.submitted(signed)
    old.approved(signed, "first_review", "head", "first_review", "second_review", "first_review")
    old.approved(signed, "second_review", "reviewer", "second_review", "final_review", "second_review")
    old.approved(signed, "final_review", "deputy", "final_review", "signing", "final_review")
    old.task("sign", status="NEW")

    # guardian's tables are the same before and after: its current model writes the old grant.
    document_type, _ = ContentType.objects.get_or_create(app_label="issuance", model="document")
    view, _ = Permission.objects.get_or_create(content_type=document_type, codename="view_document",
                                               defaults={"name": "Can view 公文"})
    UserObjectPermission.objects.bulk_create([UserObjectPermission(  # bulk: its save() would load the document
        user_id=old.users["outsider"].pk, permission=view, content_type=document_type, object_pk=str(at_second.pk))])
    ids = {name: d.pk for name, d in
           [("second", at_second), ("withdrawn", withdrawn), ("returned", returned), ("signed", signed)]}
    queued_pk = queued.pk

    migrate_forward()

    # Roles are appointments now; the role groups are gone.
    head = Appointment.objects.get(user__username="head", role=Role.DEPARTMENT_HEAD)
    assert [d.name for d in head.departments.all()] == ["综合科"]
    assert set(Appointment.objects.filter(user__username="head").values_list("role", flat=True)) == {
        Role.DEPARTMENT_HEAD, Role.DRAFTER}
    deputy = Appointment.objects.get(user__username="deputy", role=Role.SUPERVISOR)
    assert sorted(d.name for d in deputy.departments.all()) == ["办公室", "综合科"]
    assert not Group.objects.filter(name__in=["拟稿人", "办公室文书"]).exists()
    assert ReviewChain.objects.get().name == "公文三审"

    documents = {name: Document.objects.get(pk=pk) for name, pk in ids.items()}
    assert {name: d.stage for name, d in documents.items()} == {
        "second": Stage.REVIEWING, "withdrawn": Stage.DRAFTING, "returned": Stage.RETURNED, "signed": Stage.SIGNING}

    # Every history still verifies; the documents that changed stage say so in an entry of their own.
    report = verification.verify(cleanup=False)
    assert report.ok, [str(p) for p in report.problems]
    # The old entries carry no HMAC: the first anchor, which the migration wrote, seals their heads.
    assert not Event.objects.exclude(mac="").exists()
    heads = anchors.read().latest_heads()
    assert {pk: heads[pk][0] for pk in ids.values()} == {
        pk: Event.objects.filter(document_id=pk).count() for pk in ids.values()}
    moved = Event.objects.get(document=documents["second"], action="migrate")
    assert (moved.stage_before, moved.stage_after, moved.detail["step"]) == ("second_review", "reviewing", "复审")
    assert not Event.objects.filter(document=documents["signed"], action="migrate").exists()

    # The open task of each document does the work of its open step.
    second = documents["second"]
    state = open_state(second)
    assert (state.name, state.position, state.candidate_role) == ("复审", 2, Role.OFFICE_REVIEWER)
    assert StepTask.objects.get(pk=queued_pk).state == state
    assert [(s.name, s.status, s.finished_by.username if s.finished_by else None)
            for s in second.step_states.order_by("opening")] == [("初审", "done", "head"), ("复审", "open", None)]
    assert second.opinions.get(decision="approve").state.name == "初审"
    assert list(second.opinions.values_list("step", flat=True)) == ["拟稿", "初审"]

    users = {u.username: u for u in get_user_model().objects.all()}
    for user in users.values():
        forget_memberships(user)
    assert can_view(users["outsider"], second)  # the grant kept
    assert can_view(users["clerk"], second) and not can_view(users["outsider"], documents["signed"])

    # … and the new code takes them on from there.
    decide(second, users["reviewer"])
    assert open_state(second).name == "终审" and open_state(second).assignee == users["deputy"]
    decide(documents["signed"], users["director"], text="同意印发。")
    assert documents["signed"].stage == Stage.RECHECK
    for name in ("withdrawn", "returned"):
        document = documents[name]
        revise = actions.open_tasks(document).get()
        assert (revise.state.kind, revise.owner) == ("revise", users["drafter"])
        actions.submit(document, users["drafter"], "重新送审")
        document.refresh_from_db()
        assert (document.stage, document.round, open_state(document).name) == (Stage.REVIEWING, 2, "初审")
        assert document.rounds.get(number=1).status == (Round.Status.WITHDRAWN if name == "withdrawn"
                                                        else Round.Status.RETURNED)
    assert StepState.objects.filter(document=documents["withdrawn"], status="taken_back").count() == 1
    assert timezone.now() > T0


def test_existing_documents_take_their_doc_type_from_the_current_revision():
    """0008 fills the new 文种 column of every document from its current revision."""
    before = [("issuance", "0007_print_job_lease")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        model = apps.get_model
        user = model("auth", "User").objects.create(username="old-drafter")
        organ = model("issuance", "Organ").objects.create(name="旧机关", code="旧", fonds_code="X009",
                                                          office_name="旧机关办公室")
        department = model("issuance", "Department").objects.create(organ=organ, name="综合科", code="ZHK")
        OldDocument, Revision = model("issuance", "Document"), model("issuance", "Revision")
        made = {}
        for doc_type in ("请示", "函", None):
            document = OldDocument.objects.create(organ=organ, department=department, drafter=user,
                                                  title=f"关于{doc_type}的稿")
            if doc_type:
                revision = Revision.objects.create(document=document, number=1, author=user, sha256="0" * 64,
                                                   content={"title": document.title, "doc_type": doc_type})
                OldDocument.objects.filter(pk=document.pk).update(current_revision=revision)
            made[document.pk] = doc_type or ""
    finally:
        migrate_forward()
    assert dict(Document.objects.filter(pk__in=made).values_list("pk", "doc_type")) == made
