"""Memory of a web worker after 1,000 requests of which 100 render a PDF (issue 11).

    .venv/bin/python bench/worker_memory.py [--requests 1000] [--renders 100] [--users 8] [--workers 1]

Builds a scratch VAR_DIR (`setup_demo`, then bench/world.py's archived documents, as many
as there are renders, each a text of its own), starts the server the way `scripts/run` does
(config/serve.py: gunicorn, worker processes of several threads; `--workers` of them, one by
default so that it takes every request) on a free port of 127.0.0.1, and sends `--requests`
requests from `--users` signed-in users at once, on as many connections. `--renders` of them
are draft previews (PDF) of documents whose preview nobody asked for before, so that each is
rendered, not read from the cache; the others are what people open meanwhile: 待办, 可领取,
已办, the 公文 list, the 发文稿纸, the archive, and the pages and first page picture of the
documents rendered before (the picture drawn by PDFium the first time).

Prints, from /proc/<pid>/status of the worker processes (VmRSS now, VmHWM its peak):

    requests=1000 renders=100 page_pictures=… errors=… worker_rss_start_mb=… worker_rss_mb=… worker_peak_mb=… seconds=…

worker_rss_mb is the largest worker's resident memory after the last request; the target is
below 400 MB.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Server, Session  # noqa: E402

# Who asks: people of both organs who see every document of their organ.
PEOPLE = ("clerk", "director", "archivist", "reviewer", "gx_clerk", "gx_director", "gx_archivist", "gx_reviewer")
LISTS = ("/tasks/inbox/", "/tasks/queue/", "/tasks/done/", "/documents/?scope=all", "/documents/?scope=all&page=2")


def prepare(var_dir, documents):
    """In the scratch environment: the demo, `documents` archived ones (a third of them 泉工信's), and which of them
    each person sees (written to VAR_DIR/worker-memory.json)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import world
    from issuance.models import Document
    from issuance.roles import visible_documents

    call_command("setup_demo", verbosity=0, stdout=open(os.devnull, "w"))
    before = Document.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    world.archived_documents(documents)
    made = set(Document.objects.filter(pk__gt=before).values_list("pk", flat=True))
    seen = {user.username: sorted(made & set(visible_documents(user).values_list("pk", flat=True)))
            for user in get_user_model().objects.filter(username__in=PEOPLE)}
    Path(var_dir, "worker-memory.json").write_text(json.dumps(seen))


def status_mb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def plan(requests, renders, seen, users, seed=5):
    """Each user's requests in order: ("render", pk), ("page", pk) or ("list", path).

    The renders are spread evenly over the run; the documents they render are each
    rendered once, by one user who sees them; pages are opened only of documents that user
    rendered before."""
    rng = random.Random(seed)
    people = [PEOPLE[i % len(PEOPLE)] for i in range(users)]
    documents = {}
    for index, person in enumerate(people):
        documents[index] = [pk for pk in seen[person]]
    # One owner per document, so that no two users render the same one.
    owners, taken = {i: [] for i in range(users)}, set()
    for pk in sorted({pk for pks in documents.values() for pk in pks}):
        holders = [i for i in range(users) if pk in documents[i]]
        owner = min(holders, key=lambda i: len(owners[i]))
        owners[owner].append(pk)
        taken.add(pk)
    if len(taken) < renders:
        raise RuntimeError(f"only {len(taken)} documents to render, {renders} wanted")
    per_user = [requests // users + (1 if i < requests % users else 0) for i in range(users)]
    renders_of = [renders // users + (1 if i < renders % users else 0) for i in range(users)]
    schedules = []
    for i in range(users):
        to_render = owners[i][:renders_of[i]]
        if len(to_render) < renders_of[i]:
            raise RuntimeError(f"user {i} sees too few documents to render {renders_of[i]}")
        steps, rendered, budget = [], [], per_user[i]
        every = per_user[i] / max(renders_of[i], 1)
        while budget > 0:
            done = per_user[i] - budget
            if to_render and done >= len(rendered) * every:
                pk = to_render.pop(0)
                rendered.append(pk)
                steps.append(("render", pk))
                budget -= 1
            elif rendered and budget >= 2 and rng.random() < 0.3:
                steps.append(("page", rng.choice(rendered)))  # the page and its first picture
                budget -= 2
            elif rendered and rng.random() < 0.1:
                steps.append(("sheet", rng.choice(rendered)))
                budget -= 1
            else:
                steps.append(("list", rng.choice(LISTS)))
                budget -= 1
        schedules.append((people[i], steps))
    return schedules


def drive(port, schedules, rendered_ok):
    """Run the schedules, one thread per user; returns (errors, page pictures, requests)."""
    sessions = [Session("127.0.0.1", port, person) for person, _ in schedules]
    for session in sessions:
        session.log_in()
        session.recording = True
    counts = {"pictures": 0}
    lock = threading.Lock()

    def run(session, steps):
        for kind, what in steps:
            if kind == "render":
                status, _, body = session.request("render", "GET", f"/documents/{what}/preview.pdf")
                if status == 200 and bytes(body[:5]) == b"%PDF-":
                    rendered_ok.append(what)
            elif kind == "page":
                status, _, page = session.request("公文页", "GET", f"/documents/{what}/")
                if f"/documents/{what}/pages/1.png" in page:
                    session.request("页面图", "GET", f"/documents/{what}/pages/1.png?w=960")
                    with lock:
                        counts["pictures"] += 1
            elif kind == "sheet":
                session.request("发文稿纸", "GET", f"/documents/{what}/sheet/")
            else:
                session.request("list", "GET", what)

    threads = [threading.Thread(target=run, args=(s, steps)) for s, (_, steps) in zip(sessions, schedules)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timings = [t for s in sessions for t in s.timings]
    for session in sessions:
        for failure in session.failures:
            print(f"error user={session.username} {failure}", flush=True)
    return sum(1 for _, _, ok in timings if not ok), counts["pictures"], len(timings)


def main():
    if sys.argv[1:2] == ["--prepare"]:
        prepare(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests in all (a page picture counts as one)")
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--users", type=int, default=8, help="users asking at once")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, help="threads of each worker (default: config/serve.py's)")
    parser.add_argument("--trace", action="store_true", help="print the worker's memory every 2 s")
    parser.add_argument("--keep", action="store_true", help="keep the scratch VAR_DIR and its server.log")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="gongwen-memory-"))
    server = Server(var_dir, args.workers, threads=args.threads)
    try:
        import subprocess

        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--prepare", str(var_dir),
                        str(3 * args.renders + 10)], cwd=ROOT, env={**server.env, "GONGWEN_MAIL_SENDER": "off"},
                       check=True)
        server.manage("collectstatic", "--noinput", "--verbosity", "0")
        seen = json.loads((var_dir / "worker-memory.json").read_text())
        server.start()
        workers = server.worker_pids()
        start = max(status_mb(pid, "VmRSS") for pid in workers)
        began = time.perf_counter()
        rendered = []
        stop = threading.Event()
        if args.trace:
            def trace():
                while not stop.wait(2):
                    print(f"trace seconds={time.perf_counter() - began:.0f} renders={len(rendered)} "
                          f"worker_rss_mb={max(status_mb(pid, 'VmRSS') for pid in workers):.1f}", flush=True)

            threading.Thread(target=trace, daemon=True).start()
        errors, pictures, sent = drive(server.port, plan(args.requests, args.renders, seen, args.users), rendered)
        elapsed = time.perf_counter() - began
        stop.set()
        if server.worker_pids() != workers:
            raise RuntimeError("a worker was restarted during the run: its memory is not the one measured")
        rss = max(status_mb(pid, "VmRSS") for pid in workers)
        peak = max(status_mb(pid, "VmHWM") for pid in workers)
        print(f"requests={sent} renders={len(set(rendered))} page_pictures={pictures} "
              f"errors={errors} workers={args.workers} threads={server.threads} worker_rss_start_mb={start:.1f} "
              f"worker_rss_mb={rss:.1f} worker_peak_mb={peak:.1f} seconds={elapsed:.1f}", flush=True)
    finally:
        server.stop()
        if args.keep:
            print(f"kept var_dir={var_dir}", flush=True)
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
