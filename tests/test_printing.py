"""印制 as a background job: queued on commit by id, retried, failures shown with a retry button."""

import io
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from issuance import services, storage
from issuance.exceptions import IssuanceError
from issuance.models import Document, PrintJob, Stage, StepKind
from issuance.render import layout
from workflows import actions, demo_path, printing
from workflows.models import StepTask

from .builders import gx_content


@pytest.fixture
def at_printing(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)


def test_printing_renders_the_signed_revision_and_moves_on_to_distribution(cast, at_printing):
    job = printing.request(at_printing, cast["clerk"], backend_name="inline")
    job.refresh_from_db()
    document = Document.objects.get(pk=at_printing.pk)
    assert (job.status, job.attempts, job.revision) == (PrintJob.Status.DONE, 1, document.signed_revision)
    assert document.stage == Stage.DISTRIBUTION
    assert storage.sha256_bytes(storage.read(document.issued_pdf.name)) == document.issued_pdf_sha256
    assert actions.open_tasks(document).get().state.kind == StepKind.DISTRIBUTE
    done = StepTask.objects.get(process=actions.process_of(document), state__kind=StepKind.PRINT)
    assert (done.owner, done.state.status, done.state.finished_by) == (cast["clerk"], "done", cast["clerk"])


def test_a_failing_render_is_retried_then_shown_and_can_be_tried_again(cast, at_printing, monkeypatch, client):
    calls = []

    def broken(content, draft=False):
        calls.append(1)
        raise OSError("磁盘已满")

    monkeypatch.setattr(layout, "render_pdf", broken)
    job = printing.request(at_printing, cast["clerk"], backend_name="inline")
    job.refresh_from_db()
    assert len(calls) == printing.MAX_ATTEMPTS
    assert (job.status, job.attempts) == (PrintJob.Status.FAILED, printing.MAX_ATTEMPTS)
    assert "磁盘已满" in job.error
    document = Document.objects.get(pk=at_printing.pk)
    assert document.stage == Stage.PRINTING and not document.issued_pdf
    assert document.events.filter(action="print_failed").exists()

    task = actions.open_tasks(document).get()
    client.force_login(cast["clerk"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "印制失败" in page and "磁盘已满" in page and 'value="retry"' in page
    assert "暂时无法生成页面图片" in page  # the draft pictures fail with the renderer, not the page

    monkeypatch.undo()
    response = client.post(f"/tasks/{task.pk}/", {"action": "retry"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.stage == Stage.DISTRIBUTION
    assert list(document.print_jobs.order_by("pk").values_list("status", flat=True)) == ["failed", "done"]


def test_a_queued_job_shows_progress_and_blocks_a_second_request(cast, at_printing, monkeypatch, client):
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)  # no worker picks it up
    printing.request(at_printing, cast["clerk"], backend_name="inline")
    with pytest.raises(IssuanceError, match="正在印制"):
        printing.request(at_printing, cast["clerk"], backend_name="inline")
    task = actions.open_tasks(at_printing).get()
    client.force_login(cast["clerk"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "印制中" in page and 'http-equiv="refresh"' in page
    # Neither a return nor voiding the number may pull the document away from a running job.
    response = client.post(f"/tasks/{task.pk}/", {"action": "return", "reason": "标题有误"})
    assert response.status_code == 400 and "正在印制" in response.content.decode()
    assert Document.objects.get(pk=at_printing.pk).stage == Stage.PRINTING


def test_a_job_is_run_once_even_if_queued_twice(cast, at_printing, monkeypatch):
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)
    job = printing.request(at_printing, cast["clerk"], backend_name="inline")
    printing.run(job.pk)
    assert printing.run(job.pk) is None  # a second delivery of the same id finds it done
    assert PrintJob.objects.get(pk=job.pk).attempts == 1


def test_only_the_organs_clerk_starts_printing(cast, at_printing):
    for name in ("drafter", "director", "archivist", "outsider", "reviewer", "gx_clerk"):
        with pytest.raises(IssuanceError):
            printing.request(at_printing, cast[name], backend_name="inline")
    assert not PrintJob.objects.exists()
    assert actions.open_tasks(at_printing).get().owner is None  # still in the clerks' queue


def test_the_other_organs_document_is_printed_by_its_own_clerk_under_its_own_number(cast, at_printing, seed_content):
    gx = demo_path.take_through_path(gx_content(seed_content), cast["gx_drafter"], until=Stage.PRINTING)
    with pytest.raises(IssuanceError, match="应由泉州市工业和信息化局的办公室文书办理"):
        printing.request(gx, cast["clerk"], backend_name="inline")
    job = printing.request(gx, cast["gx_clerk"], backend_name="inline")
    job.refresh_from_db()
    gx.refresh_from_db()
    assert (job.status, job.requested_by, gx.stage) == (PrintJob.Status.DONE, cast["gx_clerk"], Stage.DISTRIBUTION)
    assert gx.doc_number.startswith("泉工信〔") and at_printing.doc_number.startswith("泉科〔")
    pages = PdfReader(io.BytesIO(storage.read(gx.issued_pdf.name))).pages
    text = "".join("".join(page.extract_text().split()) for page in pages)
    assert gx.doc_number in text and "泉州市工业和信息化局" in text and "泉州市科学技术局" not in text


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker in another thread or process needs a shared database"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_in_process_worker_thread_prints_after_commit(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    job = printing.request(document, cast["clerk"], backend_name="thread")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (PrintJob.Status.DONE, PrintJob.Status.FAILED):
            break
        time.sleep(0.2)
    assert job.status == PrintJob.Status.DONE
    assert Document.objects.get(pk=document.pk).stage == Stage.DISTRIBUTION


def _redis_reachable():
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


@postgres_only
@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_prints_the_job_it_gets_from_redis(cast, short_content, settings, tmp_path):
    queue = f"gongwen-test-{uuid.uuid4().hex[:8]}"
    broker = "redis://127.0.0.1:6379/15"
    settings.CELERY_BROKER_URL = broker
    from config.celery import app

    app.conf.broker_url = broker
    app.conf.task_default_queue = queue
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": queue,
        "GONGWEN_RENDER_BACKEND": "celery",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "-Q", queue, "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
        job = printing.request(document, cast["clerk"], backend_name="celery")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            job.refresh_from_db()
            if job.status in (PrintJob.Status.DONE, PrintJob.Status.FAILED):
                break
            time.sleep(0.3)
        assert worker.poll() is None, worker.stdout.read().decode(errors="replace")
        assert job.status == PrintJob.Status.DONE, job.error
        document.refresh_from_db()
        assert document.stage == Stage.DISTRIBUTION
        assert storage.sha256_bytes(storage.read(document.issued_pdf.name)) == document.issued_pdf_sha256
    finally:
        worker.terminate()
        worker.wait(20)
        app.conf.broker_url = None
        if shutil.which("redis-cli"):
            subprocess.run(["redis-cli", "-n", "15", "DEL", queue], capture_output=True)


def test_a_job_whose_worker_is_gone_can_be_tried_again(cast, at_printing, monkeypatch, client):
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)  # the worker never comes
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    task = actions.open_tasks(at_printing).get()
    client.force_login(cast["clerk"])
    with pytest.raises(IssuanceError, match="没有失败"):
        printing.retry(at_printing, cast["clerk"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "印制中" in page and 'value="retry"' not in page  # within its lease, the job is waited for
    PrintJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - services.PRINT_JOB_STALE * 2)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "印制服务无响应" in page and 'value="retry"' in page
    monkeypatch.undo()
    assert client.post(f"/tasks/{task.pk}/", {"action": "retry"}).status_code == 302
    statuses = list(at_printing.print_jobs.order_by("pk").values_list("status", "error"))
    assert statuses[0][0] == "failed" and "长时间无响应" in statuses[0][1]
    assert statuses[1][0] == "done"
    assert Document.objects.get(pk=at_printing.pk).stage == Stage.DISTRIBUTION


@pytest.mark.parametrize("name", ["gx_clerk", "drafter"])
def test_nobody_but_the_organs_clerk_may_give_up_a_stale_job(cast, at_printing, monkeypatch, name):
    monkeypatch.setattr(printing, "dispatch", lambda job_id, backend_name=None: None)  # the worker never comes
    job = printing.request(at_printing, cast["clerk"], backend_name="thread")
    PrintJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - services.PRINT_JOB_STALE * 2)
    with pytest.raises(IssuanceError):
        printing.retry(at_printing, cast[name])
    job.refresh_from_db()
    assert job.status == PrintJob.Status.QUEUED
    assert not at_printing.events.filter(action="print_failed").exists()
