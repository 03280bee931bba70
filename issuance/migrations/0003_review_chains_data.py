"""Carry the fixed three-review path over into review chains as data.

- Roles: each member of the old role groups (with their Staff 科室, and the 科室 they headed
  or supervised) gets the same role as an appointment in their organ; the role groups and
  their model permissions are removed.
- Chains: every organ gets the default 公文三审 chain (初审 → 复审 → 会签 → 终审 → 签发), which is
  the old path with a 会签 step that is skipped when nobody countersigns.
- Runs: each document's history is replayed as the old code made it, into rounds and step
  states (with the opinions linked to the step they were given at), so that an in-flight
  document continues exactly where it stood and an archived one shows the path it took.
  A document that stood at 初审, 复审 or 终审 is now at 审核; its history records the change
  in a hash-chained entry of its own.
- Grants: the per-document view grants to people move to the direct-foreign-key table;
  the per-document rows of the office groups are dropped, a rule shows the office every
  submitted document of its organ now.

The viewflow tasks are linked to these states by workflows.0003.
"""

import hashlib
import json

from django.db import migrations
from django.utils import timezone

GROUP_ROLES = {
    "拟稿人": "drafter",
    "科室负责人": "department_head",
    "办公室核稿": "office_reviewer",
    "分管领导": "supervisor",
    "主要领导": "principal",
    "办公室文书": "clerk",
    "档案员": "archivist",
}
OLD_PERMISSIONS = ("review_first", "review_office", "review_final", "sign_document", "issue_document",
                   "archive_document")
CHAIN_NAME = "公文三审"
CHAIN_STEPS = (
    ("初审", "review", "department_head", ""),
    ("复审", "review", "role", "office_reviewer"),
    ("会签", "review", "parties", ""),
    ("终审", "review", "supervisor", ""),
    ("签发", "sign", "role", "principal"),
)
# Positions on the migrated path: the chain's five steps, then the issuing half.
STEP_OF_CODE = {"first_review": 1, "second_review": 2, "final_review": 4, "signing": 5, "recheck": 6,
                "printing": 8}
ISSUING = {6: ("recheck", "复核", "clerk"), 7: ("register", "登记", "clerk"), 8: ("print", "印制", "clerk"),
           9: ("distribute", "核发", "clerk"), 10: ("archive", "归档", "archivist")}
LABELS = {"draft": "拟稿", "first_review": "初审", "second_review": "复审", "final_review": "终审",
          "signing": "签发", "recheck": "复核", "printing": "印制"}
OLD_STAGES = {"first_review": 1, "second_review": 2, "final_review": 4}
STAGE_OF_POSITION = {1: "reviewing", 2: "reviewing", 4: "reviewing", 5: "signing", 6: "recheck", 7: "registration",
                     8: "printing", 9: "distribution", 10: "archiving"}


def _event_hash(event):
    # The same payload as Event.compute_hash: the history's format, fixed once written.
    payload = {
        "document": event.document_id, "seq": event.seq, "action": event.action, "actor": event.actor_id,
        "stage_before": event.stage_before, "stage_after": event.stage_after, "detail": event.detail,
        "created_at": event.created_at.isoformat(), "prev_hash": event.prev_hash,
    }
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def carry_roles(apps):
    Staff = apps.get_model("issuance", "Staff")
    Department = apps.get_model("issuance", "Department")
    Appointment = apps.get_model("issuance", "Appointment")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def appoint(user, organ, role, departments, title):
        appointment, _ = Appointment.objects.get_or_create(user=user, organ=organ, role=role,
                                                           defaults={"title": title})
        if departments:
            appointment.departments.add(*departments)

    for staff in Staff.objects.select_related("department__organ", "user"):
        user, organ = staff.user, staff.department.organ
        for group in user.groups.filter(name__in=GROUP_ROLES):
            role = GROUP_ROLES[group.name]
            departments = []
            if role == "drafter":
                departments = [staff.department]
            elif role == "department_head":
                departments = list(Department.objects.filter(head=user)) or [staff.department]
            elif role == "supervisor":
                departments = list(Department.objects.filter(supervisor=user)) or list(organ.departments.all())
            appoint(user, organ, role, departments, staff.title)
    # A 科室's head or 分管领导 acted as such whether or not they were in the group.
    for department in Department.objects.select_related("organ", "head", "supervisor"):
        if department.head_id:
            appoint(department.head, department.organ, "department_head", [department], "")
        if department.supervisor_id:
            appoint(department.supervisor, department.organ, "supervisor", [department], "")
    Group.objects.filter(name__in=GROUP_ROLES).delete()
    Permission.objects.filter(content_type__app_label="issuance", codename__in=OLD_PERMISSIONS).delete()


def default_chains(apps):
    Organ = apps.get_model("issuance", "Organ")
    ReviewChain = apps.get_model("issuance", "ReviewChain")
    ChainVersion = apps.get_model("issuance", "ChainVersion")
    ChainStep = apps.get_model("issuance", "ChainStep")
    made = {}
    for organ in Organ.objects.all():
        chain = ReviewChain.objects.create(organ=organ, name=CHAIN_NAME)
        version = ChainVersion.objects.create(chain=chain, number=1, note="新建：由固定的三审流程转入")
        steps = {}
        for position, (name, kind, actor, role) in enumerate(CHAIN_STEPS, 1):
            steps[position] = ChainStep.objects.create(version=version, position=position, name=name, kind=kind,
                                                       actor=actor, role=role)
        chain.version = version
        chain.save(update_fields=["version"])
        made[organ.pk] = (chain, version, steps)
    return made


class Replay:
    """Rebuild one document's rounds and step states from its history, as the old code ran."""

    def __init__(self, apps, document, chain, version, steps):
        self.Round = apps.get_model("issuance", "Round")
        self.StepState = apps.get_model("issuance", "StepState")
        self.Opinion = apps.get_model("issuance", "Opinion")
        self.document, self.chain, self.version, self.steps = document, chain, version, steps
        self.round = None
        self.open = []  # states opened and not yet decided

    def _candidate(self, position):
        organ, department = self.document.organ, self.document.department
        if position == 1:
            return {"candidate_role": "department_head", "candidate_department": department}
        if position == 4:
            return {"candidate_role": "supervisor", "candidate_department": department}
        if position == 2:
            return {"candidate_role": "office_reviewer"}
        if position == 5:
            return {"candidate_role": "principal"}
        return {"candidate_role": ISSUING[position][2]}

    def open_step(self, position, when):
        self.round.openings += 1
        if position == 0:
            fields = dict(kind="revise", name="修改", assignee_id=self.document.drafter_id)
        elif position in ISSUING:
            kind, name, _ = ISSUING[position]
            fields = dict(kind=kind, name=name, **self._candidate(position))
        else:
            step = self.steps[position]
            fields = dict(kind=step.kind, name=step.name, chain_step=step, is_review=True, **self._candidate(position))
        state = self.StepState.objects.create(
            document=self.document, round=self.round, position=position, opening=self.round.openings,
            candidate_organ=self.document.organ, opened_at=when, **fields,
        )
        self.open.append(state)
        return state

    def close(self, event, status, note=""):
        state = self.open.pop(0)
        state.status, state.finished_at, state.note = status, event.created_at, note
        if status in ("done", "returned"):
            state.finished_by_id = event.actor_id
            state.revision_id = self.document.current_revision_id
        state.save()
        opinion = event.detail.get("opinion")
        if opinion:
            self.Opinion.objects.filter(pk=opinion).update(state=state)
        return state

    def next_after(self, position, event):
        if position == 2:  # the 会签 step nobody was named for
            self.round.openings += 1
            self.StepState.objects.create(
                document=self.document, round=self.round, position=3, opening=self.round.openings, kind="review",
                name="会签", chain_step=self.steps[3], is_review=True, candidate_organ=self.document.organ,
                status="skipped", opened_at=event.created_at, finished_at=event.created_at, note="未选定会签单位，跳过",
            )
            return self.open_step(4, event.created_at)
        if position == 10:
            self.round.status, self.round.ended_at = "done", event.created_at
            return None
        return self.open_step(position + 1, event.created_at)

    def event(self, event):
        action, when = event.action, event.created_at
        if action == "submit":
            if self.open:  # the drafter's 修改, done by submitting again
                self.close(event, "done")
            if self.round is not None:
                self.round.save()
            self.round = self.Round.objects.create(
                document=self.document, number=event.detail.get("round") or 1, chain=self.chain, version=self.version,
                started_by_id=event.actor_id, started_at=when,
            )
            self.open_step(1, when)
        elif not self.open:
            return
        elif action in ("approve", "sign", "register", "print", "distribute", "archive"):
            state = self.close(event, "done")
            self.next_after(state.position, event)
        elif action == "return":
            self.close(event, "returned")
            self.round.status, self.round.ended_at = "returned", when
            self.open_step(0, when)
        elif action == "withdraw":
            self.close(event, "taken_back", "拟稿人撤回")
            self.round.status, self.round.ended_at = "withdrawn", when
            self.open_step(0, when)
        elif action == "resign_required":
            self.close(event, "returned", "复核时修改正文，退回签发")
            self.open_step(5, when)
        elif action == "void_number":
            self.close(event, "returned", f"作废文号{event.detail.get('doc_number', '')}，重新登记")
            self.open_step(7, when)

    def finish(self, open_tasks):
        """Name the person an open step was assigned to, as the old flow did for 初审 and 终审."""
        if self.round is not None:
            self.round.save()
        for state in self.open:
            owner = open_tasks.get(self.document.pk)
            if state.kind == "revise" or state.position not in (1, 4) or owner is None:
                continue
            state.assignee_id = owner
            state.save(update_fields=["assignee"])


def replay_documents(apps, chains):
    Document = apps.get_model("issuance", "Document")
    Event = apps.get_model("issuance", "Event")
    Opinion = apps.get_model("issuance", "Opinion")
    Task = apps.get_model("viewflow", "Task")
    DocumentProcess = apps.get_model("workflows", "DocumentProcess")
    document_of = dict(DocumentProcess.objects.values_list("process_ptr_id", "document_id"))
    open_tasks = {
        document_of[process]: owner for process, owner in Task.objects.filter(
            status__in=("NEW", "ASSIGNED", "STARTED"), flow_task_type="HUMAN", owner__isnull=False,
            process_id__in=list(document_of),
        ).values_list("process_id", "owner_id")
    }
    for document in Document.objects.select_related("organ", "department").order_by("pk"):
        chain, version, steps = chains[document.organ_id]
        replay = Replay(apps, document, chain, version, steps)
        events = list(Event.objects.filter(document=document).order_by("seq"))
        for event in events:
            replay.event(event)
        replay.finish(open_tasks)
        if document.stage in OLD_STAGES:
            last = events[-1]
            moved = Event(document=document, seq=last.seq + 1, action="migrate", actor=None,
                          stage_before=document.stage, stage_after="reviewing",
                          detail={"chain": CHAIN_NAME, "version": 1, "step": LABELS[document.stage]},
                          created_at=timezone.now(), prev_hash=last.hash)
            moved.hash = _event_hash(moved)
            moved.save()
            Document.objects.filter(pk=document.pk).update(stage="reviewing")
    for code, label in LABELS.items():
        Opinion.objects.filter(step=code).update(step=label)


def carry_grants(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    DocumentUserObjectPermission = apps.get_model("issuance", "DocumentUserObjectPermission")
    document_type = ContentType.objects.filter(app_label="issuance", model="document").first()
    if document_type is None:
        return
    rows = UserObjectPermission.objects.filter(content_type=document_type, permission__codename="view_document")
    DocumentUserObjectPermission.objects.bulk_create(
        [DocumentUserObjectPermission(user_id=row.user_id, permission_id=row.permission_id,
                                      content_object_id=int(row.object_pk)) for row in rows],
        ignore_conflicts=True,
    )
    UserObjectPermission.objects.filter(content_type=document_type).delete()
    GroupObjectPermission.objects.filter(content_type=document_type).delete()


def forward(apps, schema_editor):
    carry_roles(apps)
    chains = default_chains(apps)
    replay_documents(apps, chains)
    carry_grants(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("issuance", "0002_review_chains_schema"),
        ("guardian", "0002_generic_permissions_index"),
        ("workflows", "0001_initial"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop, elidable=False),
    ]
