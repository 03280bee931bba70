"""A world of documents for the page benchmark (bench/pages.py) and the query-ceiling tests.

Both demo organs, several 科室 each. The open documents are taken along their chain through
the services, as people would take them, so that every kind of open step exists (初审 in a
head's 待办, 复审 in the office's queue, a 会签 of two 科室, 终审, 签发, 复核, 登记). The archived
ones, the bulk, are written as rows in batches: the rows the services would have left
(document, revision, round, every step state with its opinion, the history, the flow's
process and tasks, the 发文字号 and the archive record), without rendering PDFs.
"""

import datetime
import random

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.core.management.color import no_style
from django.db.models import Max
from django.utils import timezone
from viewflow.workflow.token import Token

from issuance import chains, demo, exchange
from issuance.models import (
    ArchiveRecord,
    Department,
    Document,
    Event,
    IssuedNumber,
    NumberSequence,
    Opinion,
    Organ,
    Revision,
    ReviewChain,
    Round,
    StepState,
)
from workflows import demo_path
from workflows.flows import DocumentFlow

BATCH = 500
TOPICS = ("科技活动周", "科普讲解大赛", "科技特派员", "科技统计数据", "科技成果登记", "科技创新论坛", "工业互联网",
          "数字经济", "中小企业服务", "技术改造项目", "专精特新企业", "安全生产检查")
# Where the open documents stand, by the step open on them.
OPEN_STEPS = ("初审", "复审", "会签", "终审", "签发", "复核", "登记")
GENESIS = "0" * 64


def _content(organ, title, serial):
    return exchange.parse_document({
        "doc_type": "通知", "direction": "下行文", "issuer_marks": [organ.name], "signature_orgs": [organ.name],
        "title": title, "main_recipients": "各县（市、区）有关单位", "printed_by": organ.office_name, "seal": True,
        "body": [
            {"kind": "paragraph", "text": f"为做好{title[-12:]}相关工作，现将有关事项通知如下。"},
            {"kind": "heading1", "text": "一、工作要求"},
            {"kind": "paragraph", "text": f"各单位要高度重视，精心组织，确保第{serial}项工作取得实效。"},
        ],
    })


def _cast():
    return {user.username: user for user in get_user_model().objects.filter(username__in=[
        spec["username"] for _, spec in demo.cast_users()])}


def open_documents(count, seed=7):
    """`count` documents open at the steps of OPEN_STEPS, spread over both organs."""
    users = _cast()
    rng = random.Random(seed)
    organs = [
        (Organ.objects.get(code="泉科"), users["drafter"], []),
        (Organ.objects.get(code="泉工信"), users["gx_drafter"],
         list(Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科"]))),
    ]
    made = []
    for i in range(count):
        organ, drafter, parties = organs[i % 2]
        step = OPEN_STEPS[(i // 2) % len(OPEN_STEPS)]
        countersign = parties if step == "会签" else []
        if step == "会签" and not parties:
            step = "复审"
        title = f"{organ.name}关于做好第{i + 1}批{rng.choice(TOPICS)}工作的通知"
        until = step if step in ("初审", "复审", "会签", "终审") else {
            "签发": "signing", "复核": "recheck", "登记": "registration"}[step]
        made.append(demo_path.take_through_path(_content(organ, title, i + 1), drafter, until=until,
                                                countersign=countersign))
    return made


class _Rows:
    """Rows to write in batches, with ids given here so that they can refer to each other."""

    def __init__(self):
        self.ids = {}

    def next_id(self, model):
        if model not in self.ids:
            self.ids[model] = (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
        self.ids[model] += 1
        return self.ids[model]


def _insert_children(table, parent_column, rows):
    """Multi-table-inheritance children (the flow's process and tasks): their own rows only."""
    if not rows:
        return
    columns = [parent_column, *rows[0][1]]
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            [(parent, *values.values()) for parent, values in rows],
        )


def _reset_sequences(*models):
    """Rows written with their ids: the database's own counters must go on after them."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def archived_documents(count, seed=11):
    """`count` archived documents, written as rows, spread over both organs, their 科室 and three years."""
    from viewflow.workflow.models import Process, Task

    rng = random.Random(seed)
    users = _cast()
    organs = []
    for code, prefix in (("泉科", ""), ("泉工信", "gx_")):
        organ = Organ.objects.get(code=code)
        chain = ReviewChain.objects.get(organ=organ, name="公文三审")
        steps = chains.path(chain.version)
        organs.append({
            "organ": organ, "chain": chain, "steps": steps,
            "departments": list(organ.departments.all()),
            "drafter": users[prefix + "drafter"],
            "actors": {1: users[prefix + "head"], 2: users[prefix + "reviewer"], 4: users[prefix + "deputy"],
                       5: users[prefix + "director"], 6: users[prefix + "clerk"], 7: users[prefix + "clerk"],
                       8: users[prefix + "clerk"], 9: users[prefix + "clerk"], 10: users[prefix + "archivist"]},
        })
    flow_class = DocumentFlow
    start, step_node, end = DocumentFlow.start, DocumentFlow.step, DocumentFlow.end
    this_year = timezone.localdate().year
    # Numbers and 件号 go on from what the organs already have (the seed, earlier builds).
    serials = {(s.organ_code, s.year): s.last_serial for s in NumberSequence.objects.all()}
    items = {}
    for record in ArchiveRecord.objects.values("document__organ_id", "year").annotate(last=Max("item_number")):
        items[(record["document__organ_id"], record["year"])] = record["last"]
    ids = _Rows()
    now = timezone.now()
    for batch_start in range(0, count, BATCH):
        batch = range(batch_start, min(count, batch_start + BATCH))
        documents, revisions, rounds, states, opinions, events = [], [], [], [], [], []
        numbers, records, processes, tasks, step_tasks = [], [], [], [], []
        for i in batch:
            world = organs[0] if i % 3 else organs[1]
            organ, department = world["organ"], rng.choice(world["departments"])
            year = this_year - (i % 3)
            when = timezone.make_aware(datetime.datetime(year, 1 + i % 12, 1 + i % 28, 9, 0)) \
                if year < this_year else now - datetime.timedelta(days=1 + i % 200)
            serial = serials[(organ.code, year)] = serials.get((organ.code, year), 0) + 1
            number = f"{organ.code}〔{year}〕{serial}号"
            title = f"{organ.name}关于做好{rng.choice(TOPICS)}工作的通知（{year}年第{serial}号）"
            content = _content(organ, title, serial)
            document_id, revision_id = ids.next_id(Document), ids.next_id(Revision)
            drafter = world["drafter"]
            documents.append(Document(
                pk=document_id, organ=organ, department=department, drafter=drafter, stage="archived", title=title, doc_type="通知",
                current_revision_id=revision_id, signed_revision_id=revision_id, signed_by=world["actors"][5],
                signed_at=when, doc_number=number, copies=10, printed_date=when.date(), issued_pages=1, round=1,
                created_at=when, updated_at=when,
            ))
            revisions.append(Revision(pk=revision_id, document_id=document_id, number=1, content=content,
                                      sha256=exchange.content_sha256(content), author=drafter, created_at=when))
            round_id = ids.next_id(Round)
            rounds.append(Round(pk=round_id, document_id=document_id, number=1, chain=world["chain"],
                                version=world["chain"].version, status="done", openings=len(world["steps"]),
                                started_by=drafter, started_at=when, ended_at=when))
            process_id = ids.next_id(Process)
            processes.append((process_id, document_id, when))
            tasks.append((ids.next_id(Task), process_id, start, "START", None, when))
            history = [("create", drafter, "", "drafting", {"revision": 1}), ("submit", drafter, "drafting", "reviewing",
                                                                             {"round": 1, "revision": 1})]
            opinions.append(Opinion(pk=ids.next_id(Opinion), document_id=document_id, revision_id=revision_id,
                                    round=1, step="拟稿",
                                    decision="submit", text="请审核。", user=drafter, created_at=when))
            for step in world["steps"]:
                state_id = ids.next_id(StepState)
                actor = world["actors"].get(step.position)
                skipped = step.actor == "parties"
                states.append(StepState(
                    pk=state_id, document_id=document_id, round_id=round_id, position=step.position,
                    opening=step.position, kind=step.kind, name=step.name, chain_step=step.chain_step,
                    is_review=step.is_review, candidate_organ=organ, candidate_role=step.role or "",
                    status="skipped" if skipped else "done", opened_at=when, finished_at=when,
                    finished_by=None if skipped else actor, revision_id=None if skipped else revision_id,
                ))
                if skipped:
                    continue
                if step.kind in ("review", "sign", "recheck"):
                    opinion_id = ids.next_id(Opinion)
                    opinions.append(Opinion(pk=opinion_id, document_id=document_id, revision_id=revision_id, round=1,
                                            step=step.name, state_id=state_id, decision="approve", text="同意。",
                                            user=actor, created_at=when))
                action = {"sign": "sign", "register": "register", "print": "print", "distribute": "distribute",
                          "archive": "archive"}.get(step.kind, "approve")
                history.append((action, actor, "", "", {"step": step.name}))
                task_id = ids.next_id(Task)
                tasks.append((task_id, process_id, step_node, "HUMAN", actor, when))
                step_tasks.append((task_id, state_id))
            tasks.append((ids.next_id(Task), process_id, end, "END", None, when))
            numbers.append(IssuedNumber(organ_code=organ.code, year=year, serial=serial, number=number,
                                        document_id=document_id, given_by=world["actors"][7], given_at=when))
            item = items[(organ.pk, year)] = items.get((organ.pk, year), 0) + 1
            code = f"{organ.fonds_code}-WS·{year}-Y-{department.code}-{item:04d}"
            history[-1][4]["archive_code"] = code
            records.append(ArchiveRecord(
                document_id=document_id, archive_code=code, fonds_code=organ.fonds_code, year=year, retention="Y",
                department_code=department.code, item_number=item, doc_number=number, responsible=organ.name,
                title=title, date=when.date(), pages=1, full_text="\n".join(b["text"] for b in content["body"]),
                archived_by=world["actors"][10], archived_at=when,
            ))
            previous = GENESIS
            for seq, (action, actor, before, after, detail) in enumerate(history, 1):
                event = Event(document_id=document_id, seq=seq, action=action, actor=actor, stage_before=before or
                              "reviewing", stage_after=after or "reviewing", detail=detail, created_at=when,
                              prev_hash=previous)
                if seq == len(history):
                    event.stage_before, event.stage_after = "archiving", "archived"
                event.hash = event.compute_hash()
                previous = event.hash
                events.append(event)
        with transaction.atomic():
            Document.objects.bulk_create(documents)
            Revision.objects.bulk_create(revisions)
            Round.objects.bulk_create(rounds)
            StepState.objects.bulk_create(states)
            Opinion.objects.bulk_create(opinions)
            Event.objects.bulk_create(events)
            IssuedNumber.objects.bulk_create(numbers)
            ArchiveRecord.objects.bulk_create(records)
            Process.objects.bulk_create([Process(pk=pk, flow_class=flow_class, status="DONE", created=when,
                                                 finished=when) for pk, _, when in processes])
            _insert_children("workflows_documentprocess", "process_ptr_id",
                             [(pk, {"document_id": document}) for pk, document, _ in processes])
            Task.objects.bulk_create([
                Task(pk=pk, process_id=process, flow_task=node, flow_task_type=kind, status="DONE", owner=owner,
                     created=when, started=when, finished=when, token=Token("start"))
                for pk, process, node, kind, owner, when in tasks
            ])
            state_of = dict(step_tasks)
            _insert_children("workflows_steptask", "task_ptr_id",
                             [(pk, {"state_id": state_of.get(pk)}) for pk, *_ in tasks])
            _reset_sequences(Document, Revision, Round, StepState, Opinion, Process, Task)
    for (code, year), last in serials.items():
        sequence, _ = NumberSequence.objects.get_or_create(organ_code=code, year=year)
        if sequence.last_serial < last:
            sequence.last_serial = last
            sequence.save(update_fields=["last_serial"])


def build(documents, open_count=60):
    """The demo organisation, `open_count` open documents, and archived ones up to `documents`."""
    demo.load_organisation()
    archived_documents(max(documents - open_count, 0))
    open_documents(min(open_count, documents))

