"""How many SQL queries and how long each page takes, at a given number of documents.

    .venv/bin/python bench/pages.py --documents 2000 [--open 60] [--runs 15] [--database postgres|sqlite]
    .venv/bin/python bench/pages.py --documents 1000000 --organs 100   # a province (bench/province.py)

Builds a scratch database (PostgreSQL `gongwen_bench_<pid>` on 127.0.0.1, or a temporary
SQLite file), fills it with bench/world.py (both demo organs; most documents archived,
`--open` of them open at every kind of step), then requests each page as a drafter, a
科室负责人, the office clerk and the 主要领导 of 泉科 (and 泉工信's clerk), `--runs` times,
and prints one line per page and user:

    page=待办 user=clerk documents=2000 status=200 queries=12 median_ms=… p95_ms=…

The pages are served as `scripts/run` serves them (config/serve.py: DEBUG off). The scratch
database is dropped at the end. Not a test: the query counts are asserted by
tests/test_pages.py; the timings depend on the machine (docs/benchmarks.md records them).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432/{name}"

USERS = ("drafter", "head", "clerk", "director", "gx_clerk")


def _scratch(kind, keep=None):
    if keep:  # a database kept between runs: built once, measured again after a change
        import psycopg

        with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [keep]).fetchone():
                connection.execute(f'CREATE DATABASE "{keep}"')
        return PG.format(name=keep), lambda: None
    if kind == "sqlite":
        handle, path = tempfile.mkstemp(suffix=".sqlite3", prefix="gongwen-bench-")
        os.close(handle)
        return f"sqlite:///{path}", lambda: os.unlink(path)
    import psycopg

    name = f"gongwen_bench_{os.getpid()}"
    with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return PG.format(name=name), drop


def _pages(user):
    """The pages measured, with a document and an archive record this user may open."""
    from issuance.models import ArchiveRecord
    from issuance.roles import ARCHIVE_ROLES, memberships, visible_documents

    document = visible_documents(user).order_by("-pk").first()
    record = ArchiveRecord.objects.filter(document__organ_id__in=memberships(user).organs(*ARCHIVE_ROLES)).first()
    pages = [
        ("待办", "/tasks/inbox/"),
        ("可领取", "/tasks/queue/"),
        ("已办", "/tasks/done/"),
        ("公文", "/documents/?scope=all"),
        ("公文页", f"/documents/{document.pk}/" if document else None),
        ("文号登记簿", "/numbers/"),
        ("档案", "/archive/"),
        ("档案检索", "/archive/?text=工作"),
        ("档案页", f"/archive/{record.pk}/" if record else None),
    ]
    return [(name, url) for name, url in pages if url]


def measure(documents, runs):
    import logging

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    logging.getLogger("django.request").setLevel(logging.ERROR)  # a 403 is a result here, not news
    User = get_user_model()
    for username in USERS:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        for name, url in _pages(user):
            client.get(url)  # warm: templates, caches, the connection
            timings, queries, status = [], 0, None
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                queries, status = len(captured), response.status_code
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
            print(f"page={name} user={username} documents={documents} status={status} queries={queries} "
                  f"median_ms={statistics.median(timings):.1f} p95_ms={p95:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--open", type=int, default=60, help="how many of them are open (at every kind of step)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--keep", metavar="NAME",
                        help="build into the PostgreSQL database NAME and keep it; a later run with it measures again")
    parser.add_argument("--organs", type=int, default=2,
                        help="more than 2: a province (bench/province.py, PostgreSQL): 泉科's documents copied over this many organs")
    parser.add_argument("--templates", type=int, default=1500,
                        help="with --organs: the documents built through bench/world.py before copying")
    args = parser.parse_args()
    url, drop = _scratch(args.database, args.keep)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The pages as scripts/run serves them: DEBUG off (no query log, no template debugging),
    # its keys kept in VAR_DIR (config/serve.py); the test client's host allowed.
    sys.path.insert(0, str(ROOT))
    from config.serve import local_environment

    served = local_environment({**os.environ, "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost"})
    os.environ.update({name: served[name] for name in (
        "DEBUG", "SECRET_KEY", "GONGWEN_HISTORY_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_COOKIES",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")})
    os.environ["GONGWEN_RENDER_BACKEND"] = "inline"
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")  # the notices stay quiet
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="gongwen-bench-media-")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from django.contrib.auth import get_user_model

        from bench import world
        from issuance.models import Document, Organ, StepState

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        if args.keep and Document.objects.exists():
            pass  # built by an earlier run
        elif args.organs > 2:
            from bench import province

            world.build(args.templates, open_count=args.open)
            province.add_staff()
            province.grow(args.documents, organs=args.organs, progress=lambda line: print(line, flush=True))
        else:
            world.build(args.documents, open_count=args.open)
            if args.database == "postgres":
                from django.db import connection

                with connection.cursor() as cursor:  # the statistics autovacuum gathers after a load
                    cursor.execute("ANALYZE")
        print(f"built documents={Document.objects.count()} open={args.open} organs={Organ.objects.count()} "
              f"users={get_user_model().objects.count()} open_steps={StepState.objects.filter(status='open').count()} "
              f"database={args.database} build_s={time.perf_counter() - started:.1f}", flush=True)
        measure(args.documents, args.runs)
    finally:
        drop()


if __name__ == "__main__":
    main()
