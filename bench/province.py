"""A province on PostgreSQL: the world of bench/world.py grown to 100 organs, 10,000 users and
1,000,000 documents by SQL (`INSERT … SELECT` over `generate_series`), in minutes.

The documents of 泉科 that bench/world.py made through the services and as rows (the
templates: open ones at every kind of step, archived ones with their full trail) are
copied, table by table, `copies` times. Copy k belongs to organ k mod 100 (0 is 泉科
itself, the others are copies of 泉科 with its 科室 and its people, made first), and to a
slice of years (the templates' three years moved back by 3 × ((k div 100) mod 4), so
twelve years in all); its 发文字号, 件号 and 档号 go on after the templates' so that every
unique rule holds. Every id is the template's id plus k times the table's largest id, and
every reference to a copied table is moved the same way, so each copy is a whole world of
its own: a document's revisions, rounds, step states, opinions, history, flow process and
tasks, number and archive record all belong to it.

What the copies do not have: the history's hash chain is the template's (the copies'
Event rows carry the template's hashes, so `verify_archive` would flag them; this database
is a benchmark's, dropped afterwards), the 审核流程 of the other organs is 泉科's (their
rounds refer to it), and no PDFs exist (as in bench/world.py).

Foreign-key triggers are off while the rows are written (`session_replication_role =
replica`, as pg_restore does); the ids are consistent by construction, and the unique
indexes stay on.
"""

import itertools
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from viewflow.workflow.models import Process, Task

from issuance.models import (
    Appointment, ArchiveFile, ArchiveRecord, Department, Distribution, Document, DocumentUserObjectPermission, Event,
    FormatCheck, IssuedNumber, Opinion, Organ, PrintAttempt, PrintJob, Revision, Role, Round,
    StepState,
)
from workflows.models import DocumentProcess, StepTask

ORGANS = 100
YEAR_SLICES = 4  # the templates span three years: four slices make twelve
STAFF = 90  # people of an organ besides the demo cast: drafters of its 科室
TEMPLATE_ORGAN = "泉科"
TEMPLATE_NAME = "泉州市科学技术局"
_TEMPLATES = itertools.count(1)  # the temporary tables' names


def _q(name):
    return connection.ops.quote_name(name)


def _execute(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def add_staff(count=STAFF):
    """`count` more drafters in 泉科's 科室 (the organisation copies take them along)."""
    User = get_user_model()
    organ = Organ.objects.get(code=TEMPLATE_ORGAN)
    departments = list(organ.departments.all())
    password = make_password("gongwen-demo")
    users = User.objects.bulk_create([
        User(username=f"staff{n:02d}", last_name="科员", first_name=f"{n:02d}", password=password)
        for n in range(1, count + 1)
    ])
    appointments = Appointment.objects.bulk_create([
        Appointment(user=user, organ=organ, role=Role.DRAFTER) for user in users
    ])
    Appointment.departments.through.objects.bulk_create([
        Appointment.departments.through(appointment_id=appointment.pk, department_id=departments[n % len(departments)].pk)
        for n, appointment in enumerate(appointments)
    ])


class _Copier:
    """Writes copies of template rows with every id and reference moved by the copy's number."""

    def __init__(self):
        self.strides = {}  # model -> its largest id before copying: ids and references move by k times it
        self.mapped = {}  # model -> (template ids, stride): references to those ids move by the organ's number

    def stride(self, model):
        if model not in self.strides:
            self.strides[model] = _largest(model)
        return self.strides[model]

    def template(self, model, where):
        """A temporary table of the template rows' ids of `model`, fixed before any copy."""
        name = f"bench_t{next(_TEMPLATES)}"
        _execute(f"CREATE TEMPORARY TABLE {name} AS SELECT t.id FROM {_q(model._meta.db_table)} t WHERE {where}")
        _execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
        return name

    def reference(self, field, column, key, organ):
        """The SQL of a copied row's value of the relation `field` (its column `column`)."""
        target = field.related_model
        if target in self.strides:
            return f"{column} + {key} * {self.strides[target]}"
        if target in self.mapped:
            table, stride = self.mapped[target]
            return f"CASE WHEN {column} IN (SELECT id FROM {table}) THEN {column} + {organ} * {stride} ELSE {column} END"
        return column

    def copy(self, model, template, key, organ, overrides, copies_sql):
        """INSERT … SELECT the rows of `template` once per k of `copies_sql` (a FROM item binding
        `k`): a new key (the row's id plus `key` times the table's stride; a multi-table child's
        key is its parent's), references moved likewise, or by `organ` for the mapped models."""
        columns, values = [], []
        pk = model._meta.pk
        for field in model._meta.local_concrete_fields:
            column = f"t.{_q(field.column)}"
            columns.append(_q(field.column))
            if field.column in overrides:
                values.append(overrides[field.column])
            elif field.primary_key and not field.is_relation:
                values.append(f"{column} + {key} * {self.stride(model)}")
            elif field.is_relation:
                values.append(self.reference(field, column, key, organ))
            else:
                values.append(column)
        return _execute(
            f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {_q(model._meta.db_table)} t "
            f"JOIN {template} tpl ON tpl.id = t.{_q(pk.column)}, {copies_sql}"
        )


def _largest(model):
    return _scalar(f"SELECT COALESCE(MAX({_q(model._meta.pk.column)}), 0) FROM {_q(model._meta.db_table)}") or 1


def _code(organ):
    return f"(CASE WHEN {organ} = 0 THEN '{TEMPLATE_ORGAN}' ELSE '{TEMPLATE_ORGAN}' || {organ} END)"


def _fonds(organ, fonds):
    return f"(CASE WHEN {organ} = 0 THEN '{fonds}' ELSE 'P' || lpad(({organ})::text, 3, '0') END)"


def _name(organ):
    return f"(CASE WHEN {organ} = 0 THEN '{TEMPLATE_NAME}' ELSE '泉州市第' || {organ} || '局' END)"


def copy_organisation(organs):
    """Organs 1 … organs − 1: copies of 泉科 with its 科室, its people and their appointments.
    Returns the mapping of 泉科's people, organ and 科室 to theirs in the copy of organ o
    (id + o × stride), for the documents' copies."""
    User = get_user_model()
    organ = Organ.objects.get(code=TEMPLATE_ORGAN)
    through = Appointment.departments.through
    copier = _Copier()
    # A person who also works for another organ (none in the demo) is copied as one of 泉科's.
    people = copier.template(User, f"t.id IN (SELECT user_id FROM issuance_appointment WHERE organ_id = {organ.pk})")
    organ_t = copier.template(Organ, f"t.id = {organ.pk}")
    departments = copier.template(Department, f"t.organ_id = {organ.pk}")
    appointments = copier.template(Appointment, f"t.organ_id = {organ.pk}")
    appointment_departments = copier.template(through, f"t.appointment_id IN (SELECT id FROM {appointments})")
    for model in (User, Organ, Department, Appointment, through):
        copier.stride(model)
    series = f"generate_series(1, {organs - 1}) AS k"
    copier.copy(User, people, "k", "k", {"username": "t.username || '_o' || k", "email": "''"}, series)
    copier.copy(Organ, organ_t, "k", "k", {
        "name": _name("k"), "short_name": "'第' || k || '局'", "code": _code("k"),
        "fonds_code": _fonds("k", organ.fonds_code), "office_name": _name("k") + " || '办公室'"}, series)
    copier.copy(Department, departments, "k", "k", {}, series)
    copier.copy(Appointment, appointments, "k", "k", {}, series)
    copier.copy(through, appointment_departments, "k", "k", {}, series)
    return organ, {User: (people, copier.strides[User]), Organ: (organ_t, copier.strides[Organ]),
                   Department: (departments, copier.strides[Department])}


def copy_documents(organ, mapped, copies, organs, chunk=50, progress=print):
    """`copies` copies of every document of 泉科 and of everything that belongs to it."""
    copier = _Copier()
    copier.mapped = mapped
    documents = copier.template(Document, f"t.organ_id = {organ.pk}")
    in_docs = f"t.document_id IN (SELECT id FROM {documents})"
    revisions = copier.template(Revision, in_docs)
    records = copier.template(ArchiveRecord, in_docs)
    jobs = copier.template(PrintJob, in_docs)
    states = copier.template(StepState, in_docs)
    processes = copier.template(Process, f"t.id IN (SELECT process_ptr_id FROM workflows_documentprocess d WHERE d.document_id IN (SELECT id FROM {documents}))")
    tasks = copier.template(Task, f"t.process_id IN (SELECT id FROM {processes})")
    plan = [
        (Document, documents), (Document.countersign_departments.through, copier.template(Document.countersign_departments.through, in_docs)),
        (Revision, revisions), (FormatCheck, copier.template(FormatCheck, f"t.revision_id IN (SELECT id FROM {revisions})")),
        (Round, copier.template(Round, in_docs)), (StepState, states),
        (StepState.candidate_users.through, copier.template(StepState.candidate_users.through, f"t.stepstate_id IN (SELECT id FROM {states})")),
        (Opinion, copier.template(Opinion, in_docs)), (Event, copier.template(Event, in_docs)),
        (IssuedNumber, copier.template(IssuedNumber, in_docs)), (ArchiveRecord, records),
        (ArchiveFile, copier.template(ArchiveFile, f"t.record_id IN (SELECT id FROM {records})")),
        (Distribution, copier.template(Distribution, in_docs)), (PrintJob, jobs),
        (PrintAttempt, copier.template(PrintAttempt, f"t.job_id IN (SELECT id FROM {jobs})")),
        (Process, processes), (DocumentProcess, processes),
        (Task, tasks), (Task.previous.through, copier.template(Task.previous.through, f"t.to_task_id IN (SELECT id FROM {tasks})")),
        (StepTask, copier.template(Task, f"t.id IN (SELECT id FROM {tasks}) AND t.id IN (SELECT task_ptr_id FROM workflows_steptask)")),
        (DocumentUserObjectPermission, copier.template(DocumentUserObjectPermission, f"t.content_object_id IN (SELECT id FROM {documents})")),
    ]
    for model, _ in plan:
        copier.stride(model)
    # Multi-table children take their parents' ids: their own key is the parent link.
    copier.strides[DocumentProcess] = copier.strides[Process]
    copier.strides[StepTask] = copier.strides[Task]
    serial_step = _scalar("SELECT COALESCE(MAX(serial), 0) FROM issuance_issuednumber WHERE organ_code = %s", [TEMPLATE_ORGAN]) or 1
    item_step = _scalar("SELECT COALESCE(MAX(item_number), 0) FROM issuance_archiverecord WHERE fonds_code = %s",
                        [organ.fonds_code]) or 1
    o, years, batch = f"(k % {organs})", f"(3 * ((k / {organs}) % {YEAR_SLICES}))", f"(k / {organs * YEAR_SLICES})"
    code = _code(o)

    def number(column):
        return (f"CASE WHEN {column} = '' THEN '' ELSE {code} || '〔' || (substring({column} from '〔(\\d+)〕')::int - {years})"
                f" || '〕' || (substring({column} from '〕(\\d+)号')::int + {batch} * {serial_step}) || '号' END")

    def title(column):
        return f"replace({column}, '{TEMPLATE_NAME}', {_name(o)})"

    overrides = {
        Document: {"doc_number": number("t.doc_number"), "title": title("t.title")},
        IssuedNumber: {"organ_code": code, "year": f"t.year - {years}", "serial": f"t.serial + {batch} * {serial_step}",
                       "number": number("t.number")},
        ArchiveRecord: {
            "fonds_code": _fonds(o, organ.fonds_code), "year": f"t.year - {years}", "doc_number": number("t.doc_number"),
            "item_number": f"t.item_number + {batch} * {item_step}", "responsible": _name(o), "title": title("t.title"),
            "archive_code": (f"{_fonds(o, organ.fonds_code)} || '-WS·' || (t.year - {years}) || '-' || t.retention || '-' || "
                             f"t.department_code || '-' || lpad((t.item_number + {batch} * {item_step})::text, 4, '0')"),
        },
    }
    tables = sorted({model._meta.db_table for model, _ in plan})
    indexes = _drop_secondary_indexes(tables)
    for model, template in plan:
        moved = {f.column: f"t.{_q(f.column)} - make_interval(years => {years})"
                 for f in model._meta.local_concrete_fields if f.get_internal_type() in ("DateTimeField", "DateField")}
        moved.update(overrides.get(model, {}))
        written, started = 0, time.perf_counter()
        for first in range(1, copies + 1, chunk):
            last = min(copies, first + chunk - 1)
            written += copier.copy(model, template, "k", o, moved, f"generate_series({first}, {last}) AS k")
        progress(f"copied table={model._meta.db_table} rows={written} s={time.perf_counter() - started:.1f}")
    started = time.perf_counter()
    for definition in indexes:
        _execute(definition)
    progress(f"indexed indexes={len(indexes)} s={time.perf_counter() - started:.1f}")
    return copier


def _drop_secondary_indexes(tables):
    """Drop the tables' indexes but the primary keys and the unique ones (which keep every
    unique rule checked while the rows go in), and return their definitions: building an
    index once over all the rows is several times faster than keeping it up to date."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND i.indexdef NOT LIKE 'CREATE UNIQUE INDEX%%'", [tables])
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {_q(name)}")
    return [definition for _, definition in found]


def grow(documents, organs=ORGANS, progress=print):
    """Grow the world (bench/world.py, already built) to `documents` over `organs` organs."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the province is built on PostgreSQL (INSERT … SELECT over generate_series)")
    _execute("SET session_replication_role = replica")
    _execute("SET maintenance_work_mem = '512MB'")
    try:
        started = time.perf_counter()
        organ, mapped = copy_organisation(organs)
        progress(f"copied organs={organs} users={get_user_model().objects.count()} s={time.perf_counter() - started:.1f}")
        have = Document.objects.count()
        templates = Document.objects.filter(organ=organ).count()
        copies = max(0, -(-(documents - have) // templates))
        copier = copy_documents(organ, mapped, copies, organs, progress=progress)
    finally:
        _execute("SET session_replication_role = DEFAULT")
    _execute("""INSERT INTO issuance_numbersequence (organ_code, year, last_serial)
                SELECT organ_code, year, MAX(serial) FROM issuance_issuednumber GROUP BY organ_code, year
                ON CONFLICT (organ_code, year) DO UPDATE SET last_serial = EXCLUDED.last_serial""")
    models = [get_user_model(), Organ, Department, Appointment, Appointment.departments.through, *copier.strides]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [m for m in models if not m._meta.parents]):
            cursor.execute(sql)
        # As autovacuum would in time: the statistics, and the visibility map that lets a
        # list be read off an index alone.
        cursor.execute("VACUUM ANALYZE")
