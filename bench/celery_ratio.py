"""Pages a second that one and then two Celery worker processes render (issue 11).

    .venv/bin/python bench/celery_ratio.py [--documents 40] [--broker redis://127.0.0.1:6379/9]

Starts `celery worker` processes of this module's own app (one process each, `--pool solo`,
prefetching one task at a time, acknowledging late, as config/settings.py sets the
project's), first one, then two, on the Redis at 127.0.0.1 (a database number of its own,
emptied before and after), and renders `--documents` variants of the seed 公文 through
them (each its own 发文字号, so that no two documents are the same input), after
`--warmup` documents per worker that load the fonts, templates and dictionaries. Prints

    workers=1 pages_per_s=… workers=2 pages_per_s=… ratio=…

and the load average before and after each run. On a 2-core machine a ratio of 1.8-2.0
means that rendering is CPU bound and the workers do not wait for one another; the work
that other processes do on the same machine lowers it. Not a test: docs/benchmarks.md
records the numbers.

The task renders with issuance.render.layout.render, the renderer that 印制 runs in a
worker (workflows/tasks.py), without the database rows around it.
"""

import argparse
import collections
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "quanzhou-2024-123.json"
BROKER = os.environ.get("RENDER_BENCH_BROKER", "redis://127.0.0.1:6379/9")
QUEUE = "render-bench"

app = Celery("render-bench", broker=BROKER, backend=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


def _setup_django():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


@app.task(name="render_bench.render", bind=True)
def render(self, content):
    """Render one document (the exchange format's JSON object); its page count and the
    worker that rendered it."""
    _setup_django()
    from issuance.exchange import parse_document
    from issuance.render import layout

    return {"pages": layout.render(parse_document(content)).pages, "worker": self.request.hostname}


def variants(count, start=1):
    """`count` copies of the seed, each with a 发文字号 of its own."""
    seed = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for number in range(start, start + count):
        content = copy.deepcopy(seed)
        content["doc_number"] = f"泉科〔2024〕{number}号"
        yield content


def _ping(count, timeout=120):
    """Wait until `count` workers answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = app.control.ping(timeout=1.0) or []
        if len(answers) >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"only {len(answers)} of {count} Celery workers started within {timeout} s")


def start_workers(count):
    env = dict(os.environ, RENDER_BENCH_BROKER=BROKER, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("DATABASE_URL", None)  # the renderer needs no database
    workers = []
    for number in range(1, count + 1):
        command = [
            sys.executable, "-m", "celery", "-A", "bench.celery_ratio", "worker",
            "--pool", "solo", "--concurrency", "1", "-Q", QUEUE, "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "-n", f"render-bench-{number}@%h",
        ]
        workers.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL))
    _ping(count)
    return workers


def stop_workers(workers):
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def run(workers, documents, warmup):
    """Pages a second through `workers` worker processes."""
    started = start_workers(workers)
    try:
        # Enough documents that every worker has rendered some before the clock starts.
        warm = [render.delay(content) for content in variants(warmup * workers, start=9000)]
        for result in warm:
            result.get(timeout=300)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        results = [render.delay(content) for content in variants(documents)]
        done = [result.get(timeout=600) for result in results]
        elapsed = time.perf_counter() - start
    finally:
        stop_workers(started)
    pages = sum(item["pages"] for item in done)
    by_worker = collections.Counter(item["worker"].split("@")[0] for item in done)
    return {"pages": pages, "seconds": elapsed, "pages_per_s": pages / elapsed, "load_before": load,
            "load_after": os.getloadavg()[0], "by_worker": dict(sorted(by_worker.items()))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3, help="documents per worker before timing")
    args = parser.parse_args(argv)

    app.control.purge()
    backend = app.backend.client
    try:
        results = {}
        for workers in (1, 2):
            results[workers] = run(workers, args.documents, args.warmup)
            result = results[workers]
            print(f"{workers} worker(s): {args.documents} documents, {result['pages']} pages in "
                  f"{result['seconds']:.2f} s (load average {result['load_before']:.2f} before, "
                  f"{result['load_after']:.2f} after), documents by worker {result['by_worker']}")
    finally:
        backend.flushdb()
    one, two = results[1]["pages_per_s"], results[2]["pages_per_s"]
    print(f"workers=1 pages_per_s={one:.1f} workers=2 pages_per_s={two:.1f} ratio={two / one:.2f}")
    return results


if __name__ == "__main__":
    main()
