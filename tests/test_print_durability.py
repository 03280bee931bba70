"""印制 jobs outlive their workers: a lease on the job's row, renewed while rendering; a job
whose lease ran out is taken up again by a dispatcher; a slow attempt that lost its lease
is fenced out (issue 9).

Two of them start real worker processes against PostgreSQL (`manage.py print_worker`,
then Celery workers with Redis on 127.0.0.1:6379), kill the first with SIGKILL in the
middle of a render, and watch the second finish the job.
"""

import datetime
import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from issuance import services, storage
from issuance.exceptions import IssuanceError
from issuance.models import Document, PrintAttempt, PrintJob, Stage
from issuance.verification import verify
from workflows import actions, demo_path, printing

from .test_printing import _redis_reachable, postgres_only

LOST, DONE = PrintAttempt.Outcome.LOST, PrintAttempt.Outcome.DONE


@pytest.fixture
def at_printing(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)


@pytest.fixture
def undelivered(monkeypatch):
    """Jobs are queued but never delivered to a worker (the process died after the commit)."""
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)


def expire(job, ago=datetime.timedelta(seconds=1)):
    PrintJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - ago)


def outcomes(job):
    return list(job.attempt_log.order_by("number").values_list("number", "outcome"))


def test_a_running_job_whose_lease_ran_out_is_taken_up_again_and_every_attempt_stays_on_record(
        cast, at_printing, undelivered):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    services.start_print_job(job.pk, "host:111:dead")  # a worker takes it, then dies
    assert printing.sweep("inline") == []  # its lease still runs: nobody steps in
    expire(job)
    taken = services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS)
    assert taken == [job.pk]
    job.refresh_from_db()
    assert job.status == PrintJob.Status.QUEUED and job.lease_until > timezone.now()
    lost = job.attempt_log.get(number=1)
    assert (lost.outcome, lost.worker) == (LOST, "host:111:dead") and "host:111:dead" in lost.error
    assert at_printing.events.filter(action="print_requeued", detail__attempt=1).exists()

    printing.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (PrintJob.Status.DONE, 2)
    assert outcomes(job) == [(1, LOST), (2, DONE)]
    assert Document.objects.get(pk=at_printing.pk).stage == Stage.DISTRIBUTION


def test_the_sweep_prints_a_job_that_no_worker_ever_took(cast, at_printing, undelivered, monkeypatch):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    assert printing.sweep("inline") == []  # within its lease the worker it was sent to may still take it
    expire(job)
    monkeypatch.undo()
    assert printing.sweep("inline") == [job.pk]
    job.refresh_from_db()
    assert (job.status, outcomes(job)) == (PrintJob.Status.DONE, [(1, DONE)])


def test_a_job_that_kills_its_worker_every_time_fails_after_the_last_attempt(cast, at_printing, undelivered):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    for number in range(1, printing.MAX_ATTEMPTS + 1):
        assert services.start_print_job(job.pk, f"host:{number}:dead").attempts == number
        expire(job)
        services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.FAILED and "连续中断" in job.error
    assert outcomes(job) == [(n, LOST) for n in range(1, printing.MAX_ATTEMPTS + 1)]
    assert at_printing.events.filter(action="print_failed").exists()
    assert services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS) == []


def test_a_slow_attempt_that_lost_its_lease_stores_nothing(cast, at_printing, undelivered):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    slow = services.start_print_job(job.pk, "host:1:slow")
    pdf, printed_date = services.render_issue(slow)
    expire(job)
    services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS)
    services.start_print_job(job.pk, "host:2:new")
    with pytest.raises(IssuanceError, match="印制任务已失效"):
        services.finish_print(slow, pdf, printed_date)
    # Its failure is not recorded over the attempt that holds the job now.
    services.fail_print_job(job.pk, 1, "slow", final=True)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (PrintJob.Status.RUNNING, 2, "")
    assert not services.renew_print_lease(job.pk, 1) and services.renew_print_lease(job.pk, 2)
    assert not Document.objects.get(pk=at_printing.pk).issued_pdf


def test_a_renewed_lease_keeps_the_job_its_workers(cast, at_printing, undelivered, settings):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    services.start_print_job(job.pk, "host:1:alive")
    expire(job)
    assert services.renew_print_lease(job.pk, 1)
    job.refresh_from_db()
    assert job.lease_until - timezone.now() > datetime.timedelta(seconds=settings.GONGWEN_PRINT_LEASE_SECONDS - 5)
    assert services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS) == []


def test_an_attempt_renews_its_lease_while_it_renders(cast, at_printing, undelivered, settings, monkeypatch):
    settings.GONGWEN_PRINT_LEASE_SECONDS = 0.3
    renewals = []
    monkeypatch.setattr(services, "renew_print_lease", lambda job_id, attempt: renewals.append(attempt) or True)
    render = services.render_issue

    def slow(job):
        time.sleep(0.5)
        return render(job)

    monkeypatch.setattr(services, "render_issue", slow)
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    printing.run(job.pk)
    assert renewals and set(renewals) == {1}
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE and job.lease_until is None


def test_the_page_waits_while_the_job_is_taken_up_and_offers_a_retry_only_when_nobody_does(
        cast, at_printing, undelivered, client):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    services.start_print_job(job.pk, "host:1:dead")
    task = actions.open_tasks(at_printing).get()
    client.force_login(cast["clerk"])
    expire(job)  # lost, but a dispatcher will take it up within the minute
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "印制中" in page and 'value="retry"' not in page
    with pytest.raises(IssuanceError, match="正在印制"):
        printing.request(at_printing, cast["clerk"], backend_name="thread")
    services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS)
    printing.run(job.pk)
    assert Document.objects.get(pk=at_printing.pk).stage == Stage.DISTRIBUTION
    job.refresh_from_db()
    assert outcomes(job) == [(1, LOST), (2, DONE)]


def test_the_print_page_lists_the_attempts_of_the_job(cast, at_printing, undelivered, client):
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    services.start_print_job(job.pk, "host:4242:gone")
    expire(job)
    services.requeue_lost_print_jobs(printing.MAX_ATTEMPTS)
    services.start_print_job(job.pk, "host:4343:now")
    client.force_login(cast["clerk"])
    page = client.get(f"/tasks/{actions.open_tasks(at_printing).get().pk}/").content.decode()
    assert "第2次尝试" in page and "中断（印制进程退出）" in page and "host:4242:gone" in page


def test_each_process_starts_one_dispatcher_and_a_forked_child_its_own(monkeypatch):
    started, hooks = [], []
    monkeypatch.setattr(printing, "dispatch_forever", lambda backend_name=None: started.append(backend_name))
    monkeypatch.setattr(printing, "_dispatcher_pid", None)
    monkeypatch.setattr(os, "register_at_fork", lambda after_in_child: hooks.append(after_in_child))
    printing.start_dispatcher("thread")
    printing.start_dispatcher("thread")
    deadline = time.monotonic() + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started == ["thread"] and len(hooks) == 1
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a forked child
    hooks[0]()
    deadline = time.monotonic() + 5
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started == ["thread", "thread"] and len(hooks) == 1


def test_the_wsgi_application_starts_the_dispatcher(monkeypatch):
    calls = []
    monkeypatch.setattr(printing, "start_dispatcher", lambda backend_name=None: calls.append(backend_name))
    monkeypatch.delitem(sys.modules, "config.wsgi", raising=False)
    importlib.import_module("config.wsgi")
    assert calls == [None]


# A worker process killed in the middle of a render ------------------------------------------

# A worker whose render announces itself in a file, then hangs until it is killed; the
# last line starts the worker (`manage.py print_worker`, or a Celery worker).
HANGING = """
import os, pathlib, time
import django
django.setup()
from issuance.render import layout

def hang(content, draft=False):
    pathlib.Path(os.environ["RENDER_STARTED"]).write_text(str(os.getpid()))
    time.sleep(600)

layout.render_pdf = hang
"""
HANGING_WORKER = HANGING + "from django.core.management import call_command; call_command('print_worker')"
HANGING_CELERY_WORKER = HANGING + (
    "from config.celery import app; app.worker_main(['worker', '--pool=solo', '-Q', os.environ['CELERY_QUEUE'], "
    "'--loglevel=WARNING', '--without-heartbeat', '--without-gossip', '--without-mingle'])")
LEASE, POLL = 3, 0.5


def _wait(predicate, seconds, worker=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if worker is not None and worker.poll() is not None:
            raise AssertionError(worker.stdout.read().decode(errors="replace"))
        time.sleep(0.2)
    return False


def _workers(settings, started, **env):
    """Popen options for worker processes on the test's database and media, with a short
    lease; `started` is the file a hanging render writes."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "GONGWEN_PRINT_LEASE_SECONDS": str(LEASE),
        "GONGWEN_PRINT_POLL_SECONDS": str(POLL),
        "RENDER_STARTED": str(started),
        **env,
    }
    return {"cwd": django_settings.BASE_DIR, "env": env, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}


def _kill_mid_render(worker, started, job):
    assert _wait(started.exists, LEASE + 60, worker), "the first worker never started rendering"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (PrintJob.Status.RUNNING, 1)
    assert f":{worker.pid}:" in job.worker
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    return time.monotonic()


def _assert_taken_up(job, document, settings, killed_at, worker):
    """Within a minute of the kill the second worker finished the job: two attempts on
    record, the document at 核发, one issued PDF and nothing else under issued/."""

    def finished():
        job.refresh_from_db()
        return job.status in (PrintJob.Status.DONE, PrintJob.Status.FAILED)

    assert _wait(finished, 60, worker), f"the job was not taken up: {job.status}, attempt {job.attempts}"
    assert job.status == PrintJob.Status.DONE, job.error
    assert time.monotonic() - killed_at < 60
    attempts = list(job.attempt_log.order_by("number"))
    assert [(a.number, a.outcome) for a in attempts] == [(1, LOST), (2, DONE)]
    assert f":{worker.pid}:" in attempts[1].worker
    document.refresh_from_db()
    assert document.stage == Stage.DISTRIBUTION
    issued = [p for p in (settings.MEDIA_ROOT / storage.ISSUED_ROOT).rglob("*") if p.is_file()]
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in issued] == [document.issued_pdf.name]
    assert storage.sha256_bytes(issued[0].read_bytes()) == document.issued_pdf_sha256
    assert document.events.filter(action="print_requeued").count() == 1
    assert verify(cleanup=False).ok


def _stop(workers):
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait(10)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_loses_nothing(cast, short_content, settings, tmp_path, monkeypatch):
    settings.GONGWEN_PRINT_LEASE_SECONDS = LEASE
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)  # only the workers print
    started = tmp_path / "render-started"
    options = _workers(settings, started)
    workers = [subprocess.Popen([sys.executable, "-c", HANGING_WORKER], **options)]
    try:
        document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
        # Undelivered, the job waits out its first lease; then the first worker takes it.
        job = printing.request(document, cast["clerk"], backend_name="thread")
        killed_at = _kill_mid_render(workers[0], started, job)
        workers.append(subprocess.Popen([sys.executable, "manage.py", "print_worker"], **options))
        _assert_taken_up(job, document, settings, killed_at, workers[1])
    finally:
        _stop(workers)


@postgres_only
@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_killed_mid_render_loses_nothing(cast, short_content, settings, tmp_path):
    queue = f"gongwen-test-{uuid.uuid4().hex[:8]}"
    broker = "redis://127.0.0.1:6379/15"
    settings.GONGWEN_PRINT_LEASE_SECONDS = LEASE
    settings.CELERY_BROKER_URL = broker
    from config.celery import app

    app.conf.broker_url = broker
    app.conf.task_default_queue = queue
    started = tmp_path / "render-started"
    options = _workers(settings, started, CELERY_BROKER_URL=broker, CELERY_QUEUE=queue, GONGWEN_RENDER_BACKEND="celery")
    workers = [subprocess.Popen([sys.executable, "-c", HANGING_CELERY_WORKER], **options)]
    try:
        document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
        job = printing.request(document, cast["clerk"], backend_name="celery")
        killed_at = _kill_mid_render(workers[0], started, job)
        # The second worker's dispatcher sends the job again once the dead one's lease ran out.
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
             "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"], **options))
        _assert_taken_up(job, document, settings, killed_at, workers[1])
    finally:
        _stop(workers)
        app.conf.broker_url = None
        if shutil.which("redis-cli"):
            subprocess.run(["redis-cli", "-n", "15", "DEL", queue], capture_output=True)


# The upgrade ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_upgrade_records_the_attempts_of_existing_jobs_and_takes_up_those_left_running(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    before = [("issuance", "0004_drop_fixed_roles")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        executor.loader.build_graph()
        OldJob = executor.loader.project_state(before).apps.get_model("issuance", "PrintJob")
        started = timezone.now() - datetime.timedelta(minutes=3)
        common = {"document_id": document.pk, "revision_id": document.signed_revision_id,
                  "requested_by_id": cast["clerk"].pk, "started_at": started}
        failed = OldJob.objects.create(status="failed", attempts=3, error="OSError: 磁盘已满", finished_at=started,
                                       **common)
        running = OldJob.objects.create(status="running", attempts=1, **common)
    finally:
        call_command("migrate", verbosity=0)
    assert outcomes(PrintJob.objects.get(pk=failed.pk)) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert PrintAttempt.objects.get(job_id=failed.pk, number=3).error == "OSError: 磁盘已满"
    assert PrintAttempt.objects.get(job_id=failed.pk, number=1).error == "升级前的尝试，未记录详情"
    job = PrintJob.objects.get(pk=running.pk)
    assert outcomes(job) == [(1, "running")] and job.lease_until <= timezone.now()
    # The old process that ran it is gone: the first sweep after the upgrade takes it up.
    assert printing.sweep("inline") == [job.pk]
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE and outcomes(job) == [(1, LOST), (2, DONE)]
