"""Load: signed-in users of several roles against the production-style server (issue 11).

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--documents 2000] [--open 60]
                                   [--first-reviews 40] [--workers 2] [--threads 4] [--pool 30] [--think 0]
                                   [--database sqlite|postgres] [--keep | --var-dir DIR | --url URL]

Builds a scratch VAR_DIR (its SQLite file, media and keys; or a PostgreSQL database
`gongwen_load` on 127.0.0.1 with `--database postgres`): `setup_demo`, then bench/world.py's
archived documents up to `--documents`, `--open` of them open at every kind of step and
`--first-reviews` more per organ waiting for 初审. It then starts the server the way
`scripts/run` does (config/serve.py: collectstatic, gunicorn with threads, DEBUG off) on a free
port of 127.0.0.1 and runs `--users` users, spread over both organs' demo people (drafter,
head, reviewer, deputy, director, clerk, archivist and the gx_ ones), each on a connection of
its own, signed in through the login form.

Each user first finds, from its own lists, the documents and tasks it may open; one warm-up
pass then opens each of those documents once, so that the draft previews and page pictures
are in the cache, as they are for documents people have looked at before. The measured
`--seconds` follow: each user in turn, after `--think` seconds (0: at once), opens 待办,
可领取, 已办, the 公文 list (its second page now and then), a document page with its first
page picture, a draft preview (PDF), the 发文稿纸, the archive list and an archive record (those
who may); now and then a 科室负责人 approves a 初审 from its 待办 (task page, the form, the
document page it leads to) and the office claims a task from 可领取 and releases it.

Prints one line per kind of request, the CPU time the server's processes spent a request
(from /proc, while measuring: the figure that depends least on what else the machine runs)
and, last:

    rps=… p50_ms=… p95_ms=… errors=… requests=… decisions=… raced=… users=… seconds=…

An error is a status of 400 or more, a connection failure, or a page that sent the user back
to the login form; a decision refused because another session of the same person had just
made it (the 400 says so) is counted as `raced`, not as an error. Only 127.0.0.1 is ever requested. `--url http://127.0.0.1:PORT` runs the
users against a server already serving the demo instead (nothing is built or started).
"""

import argparse
import collections
import html
import http.client
import http.cookies
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "gongwen-demo"
PG = "postgres://postgres@127.0.0.1:5432/{name}"
PG_NAME = "gongwen_load"
# Both demo organs' people who act on documents (outsider sees almost nothing).
PEOPLE = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist",
          "gx_drafter", "gx_head", "gx_industry", "gx_digital", "gx_reviewer", "gx_deputy", "gx_director",
          "gx_clerk", "gx_archivist")
HEADS = ("head", "gx_head")
CLAIMERS = ("reviewer", "clerk", "gx_reviewer", "gx_clerk")

DOCUMENT_LINK = re.compile(r'href="/documents/(\d+)/"')
TASK_LINK = re.compile(r'href="/tasks/(\d+)/"')
RECORD_LINK = re.compile(r'href="/archive/(\d+)/"')
CLAIM_FORM = re.compile(r'<form method="post" action="/tasks/(\d+)/claim/">(.*?)</form>', re.S)
RELEASE_FORM = re.compile(r'<form method="post" action="/tasks/\d+/release/" class="release">(.*?)</form>', re.S)
DECISION_FORM = re.compile(r'<form method="post" class="stack">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
SAID = re.compile(r'role="(?:status|alert)">(.*?)</')
# What a decision is told when another session of the same person decided that task a moment
# before (each person is signed in several times, and each session found the same 待办): the
# refusal of a task no longer open (services.why_closed, held_by_another), a 400 with the
# reason on the page. The right answer to a real race, counted apart (`raced=`), not an error.
RACED = re.compile(r"已由.+(?:办理|领取)|无需再办理|已重新打开|已取消|已退回")


# The users ------------------------------------------------------------------------------

class Session:
    """One user: a keep-alive connection to the server, its cookies, and what it measured."""

    def __init__(self, host, port, username):
        self.host, self.port, self.username = host, port, username
        self.connection = None
        self.cookies = {}
        self.timings = []  # (kind, ms, ok), while `recording`
        self.recording = False
        self.documents, self.tasks, self.claimable, self.records = [], [], [], []
        self.archive = False
        self.decisions = 0
        self.raced = 0
        self.failures = []

    def _connect(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, kind, method, path, form=None, raced=False):
        """One request; returns (status, headers, body text or bytes). Records it when measuring.
        `raced`: a 400 that says the task was done meanwhile (RACED) is the answer expected."""
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "gongwen-bench-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}:{self.port}{path}"  # CSRF checks it on HTTPS only
        started = time.perf_counter()
        status, response_headers, data = None, {}, b""
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self._connect()
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                status, response_headers = response.status, response.headers
                if response.will_close:
                    self.connection.close()
                    self.connection = None
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                # The server closed an idle keep-alive connection: a browser reconnects too.
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    status, data = None, repr(error).encode()
            except OSError as error:
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                status, data = None, repr(error).encode()
                break
        elapsed = (time.perf_counter() - started) * 1000
        for header in response_headers.get_all("Set-Cookie") or [] if status else []:
            cookie = http.cookies.SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        location = response_headers.get("Location", "") if status else ""
        text = data.decode("utf-8", "replace") if response_headers.get("Content-Type", "").startswith("text/") \
            else data
        said = SAID.findall(text) if isinstance(text, str) else []
        lost_race = raced and status == 400 and any(RACED.search(line) for line in said)
        ok = status is not None and (status < 400 or lost_race) and not location.startswith("/login/")
        if self.recording:
            self.timings.append((kind, elapsed, ok))
            self.raced += lost_race
            if not ok and len(self.failures) < 5:
                self.failures.append(f"{kind} {method} {path} -> {status} {location} said={said} {data[:200]!r}")
        return status, location, text

    def follow(self, kind, status, location):
        """The page a form's redirect leads to, as a browser opens it."""
        if status in (301, 302, 303) and location:
            return self.request(kind, "GET", urllib.parse.urlsplit(location).path or "/")
        return status, location, ""

    def log_in(self):
        status, _, _ = self.request("login", "GET", "/login/")
        form = {"username": self.username, "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), "next": ""}
        status, location, _ = self.request("login", "POST", "/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.username} could not log in: {status} {location}")

    def discover(self, pool=30):
        """The documents, tasks and records this user's own lists show."""
        documents = []
        for path in ("/tasks/inbox/", "/tasks/queue/", "/tasks/done/", "/documents/?scope=all"):
            status, _, page = self.request("discover", "GET", path)
            if status == 200:
                documents += DOCUMENT_LINK.findall(page)
                if path == "/tasks/inbox/":
                    self.tasks = TASK_LINK.findall(page)
                if path == "/tasks/queue/":
                    self.claimable = [pk for pk, _ in CLAIM_FORM.findall(page)]
        status, _, page = self.request("discover", "GET", "/archive/")
        self.archive = status == 200
        if self.archive:
            self.records = list(dict.fromkeys(RECORD_LINK.findall(page)))[:20]
        self.documents = list(dict.fromkeys(documents))[:pool]

    def open_document(self, pk):
        status, _, page = self.request("公文页", "GET", f"/documents/{pk}/")
        if status == 200 and f"/documents/{pk}/pages/1.png" in page:
            self.request("页面图", "GET", f"/documents/{pk}/pages/1.png?w=960")

    def approve(self, rng):
        """A 科室负责人's 初审: the task page, 同意, and the document page it leads to."""
        while self.tasks:
            pk = self.tasks.pop(rng.randrange(len(self.tasks)))
            status, location, page = self.request("任务页", "GET", f"/tasks/{pk}/")
            if status != 200:  # done by another session of the same person meanwhile
                self.follow("公文页", status, location)
                continue
            form = DECISION_FORM.search(page)
            if not form:
                continue
            fields = dict(HIDDEN.findall(form.group(1)))
            fields.update(decision="approve", text="同意，请办公室核稿。")
            status, location, _ = self.request("审批", "POST", f"/tasks/{pk}/", fields, raced=True)
            self.follow("公文页", status, location)
            self.decisions += status in (301, 302, 303)
            return

    def claim_and_release(self, rng):
        """The office takes a task from 可领取, looks at it, and gives it back."""
        status, _, page = self.request("可领取", "GET", "/tasks/queue/")
        forms = CLAIM_FORM.findall(page) if status == 200 else []
        if not forms:
            return
        pk, form = rng.choice(forms)
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(form)}
        status, location, _ = self.request("领取", "POST", f"/tasks/{pk}/claim/", fields)
        status, _, page = self.follow("任务页", status, location)
        release = RELEASE_FORM.search(page) if isinstance(page, str) else None
        if release:
            fields = {name: html.unescape(value) for name, value in HIDDEN.findall(release.group(1))}
            status, location, _ = self.request("退回待领取", "POST", f"/tasks/{pk}/release/", fields)
            self.follow("待办", status, location)
            self.decisions += 1

    def one_step(self, rng):
        """One thing a person does: a list, a document, a picture, the paper form …"""
        choices = [("待办", 4), ("可领取", 2), ("已办", 2), ("公文", 3), ("公文第2页", 1)]
        if self.documents:
            choices += [("公文页", 5), ("预览", 2), ("发文稿纸", 1)]
        if self.archive:
            choices += [("档案", 2), ("档案页", 1 if self.records else 0)]
        if self.username in HEADS and self.tasks:
            choices.append(("审批", 1))
        if self.username in CLAIMERS:
            choices.append(("领取", 1))
        kind = rng.choices([name for name, _ in choices], [weight for _, weight in choices])[0]
        if kind == "待办":
            self.request(kind, "GET", "/tasks/inbox/")
        elif kind == "可领取":
            self.request(kind, "GET", "/tasks/queue/")
        elif kind == "已办":
            self.request(kind, "GET", "/tasks/done/")
        elif kind == "公文":
            self.request(kind, "GET", "/documents/?scope=all")
        elif kind == "公文第2页":
            self.request(kind, "GET", "/documents/?scope=all&page=2")
        elif kind == "公文页":
            self.open_document(rng.choice(self.documents))
        elif kind == "预览":
            self.request(kind, "GET", f"/documents/{rng.choice(self.documents)}/preview.pdf")
        elif kind == "发文稿纸":
            self.request(kind, "GET", f"/documents/{rng.choice(self.documents)}/sheet/")
        elif kind == "档案":
            self.request(kind, "GET", "/archive/")
        elif kind == "档案页":
            self.request(kind, "GET", f"/archive/{rng.choice(self.records)}/")
        elif kind == "审批":
            self.approve(rng)
        elif kind == "领取":
            self.claim_and_release(rng)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))]


def cpu_seconds(pids):
    """User and system CPU time the processes `pids` used so far (those still alive)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run_users(host, port, users, seconds, think, pool=30, seed=1, out=sys.stdout, server_pids=None):
    """Sign in `users` sessions, warm the cache, then measure `seconds`; returns the summary.
    `server_pids()`, if given, names the server's processes, whose CPU time per request is printed."""
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("bench/load.py requests 127.0.0.1 only")
    sessions = [Session(host, port, PEOPLE[i % len(PEOPLE)]) for i in range(users)]

    def in_threads(work):
        problems = []

        def guarded(session):
            try:
                work(session)
            except Exception as error:  # reported below: one user's failure must not hang the others
                problems.append(f"{session.username}: {error!r}")

        threads = [threading.Thread(target=guarded, args=(s,)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if problems:
            raise RuntimeError("; ".join(problems[:5]))

    started = time.perf_counter()
    # A few at a time: each login hashes the password (PBKDF2), which takes a core for a while.
    gate = threading.Semaphore(4)

    def log_in(session):
        with gate:
            session.log_in()
            session.discover(pool)

    in_threads(log_in)
    print(f"signed_in users={users} seconds={time.perf_counter() - started:.1f}", file=out, flush=True)
    started = time.perf_counter()
    # Each document once, by one of those who may see it: the previews and pictures get cached.
    owners = {}
    for session in sessions:
        for pk in session.documents:
            owners.setdefault(pk, session)
    work = collections.defaultdict(list)
    for pk, session in owners.items():
        work[session].append(pk)
    warm_gate = threading.Semaphore(8)

    def warm(session):
        for pk in work.get(session, []):
            with warm_gate:
                session.open_document(pk)
                session.request("预览", "GET", f"/documents/{pk}/preview.pdf")

    in_threads(warm)
    print(f"warmed documents={len(owners)} seconds={time.perf_counter() - started:.1f}", file=out, flush=True)

    deadline = time.perf_counter() + seconds

    def measure(session):
        rng = random.Random(f"{seed}-{id(session)}")
        session.recording = True
        while time.perf_counter() < deadline:
            if think:
                time.sleep(rng.uniform(0, 2 * think))
                if time.perf_counter() >= deadline:
                    break
            session.one_step(rng)
        session.recording = False

    pids = server_pids() if server_pids else []
    server_cpu, client_cpu = cpu_seconds(pids), sum(os.times()[:2])
    began = time.perf_counter()
    in_threads(measure)
    elapsed = time.perf_counter() - began
    server_cpu, client_cpu = cpu_seconds(pids) - server_cpu, sum(os.times()[:2]) - client_cpu
    timings = [t for s in sessions for t in s.timings]
    by_kind = collections.defaultdict(list)
    for kind, ms, ok in timings:
        by_kind[kind].append((ms, ok))
    for kind, values in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        ms = sorted(v for v, _ in values)
        print(f"kind={kind} requests={len(values)} errors={sum(1 for _, ok in values if not ok)} "
              f"p50_ms={statistics.median(ms):.1f} p95_ms={percentile(ms, 0.95):.1f} max_ms={ms[-1]:.1f}",
              file=out, flush=True)
    for session in sessions:
        for failure in session.failures:
            print(f"error user={session.username} {failure}", file=out, flush=True)
    all_ms = sorted(ms for _, ms, _ in timings)
    summary = {
        "rps": round(len(timings) / elapsed, 1),
        "p50_ms": round(statistics.median(all_ms), 1) if all_ms else 0.0,
        "p95_ms": round(percentile(all_ms, 0.95), 1),
        "errors": sum(1 for _, _, ok in timings if not ok),
        "requests": len(timings),
        "decisions": sum(s.decisions for s in sessions),
        "raced": sum(s.raced for s in sessions),
        "users": users,
        "seconds": round(elapsed, 1),
    }
    if timings:
        print(f"cpu server_ms_per_request={1000 * server_cpu / len(timings):.1f} "
              f"client_ms_per_request={1000 * client_cpu / len(timings):.1f} load_average={os.getloadavg()[0]:.2f}",
              file=out, flush=True)
    print(" ".join(f"{key}={value}" for key, value in summary.items()), file=out, flush=True)
    return summary


# The world and the server ---------------------------------------------------------------

def prepare(documents, open_count, first_reviews):
    """In the scratch environment: the demo, the documents, and 初审s waiting for each head."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import world
    from workflows import demo_path

    started = time.perf_counter()
    call_command("setup_demo", verbosity=0, stdout=open(os.devnull, "w"))
    open_count = min(open_count, documents)
    world.archived_documents(max(documents - open_count - 2 * first_reviews, 0))
    world.open_documents(open_count)
    users = get_user_model().objects
    from issuance.models import Organ

    for prefix, code in (("", "泉科"), ("gx_", "泉工信")):
        organ = Organ.objects.get(code=code)
        drafter = users.get(username=prefix + "drafter")
        for i in range(first_reviews):
            title = f"{organ.name}关于报送第{i + 1}季度{world.TOPICS[i % len(world.TOPICS)]}情况的通知"
            demo_path.take_through_path(world._content(organ, title, i + 1), drafter, until="初审")
    print(f"prepared documents={documents} first_reviews={2 * first_reviews} "
          f"seconds={time.perf_counter() - started:.1f}", flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def machine_env(**changes):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(changes)
    return env


def _postgres(drop_only=False):
    import psycopg

    with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{PG_NAME}"')
    return PG.format(name=PG_NAME)


class Server:
    """gunicorn as `scripts/run` starts it, on a free port, in a scratch VAR_DIR."""

    def __init__(self, var_dir, workers, database_url=None, extra_env=None, threads=None):
        sys.path.insert(0, str(ROOT))
        from config import serve

        self.port = free_port()
        changes = {"VAR_DIR": str(var_dir), "WEB_CONCURRENCY": str(workers), **(extra_env or {})}
        if database_url:
            changes["DATABASE_URL"] = database_url
        self.env = serve.local_environment(machine_env(**changes), "127.0.0.1", str(self.port))
        self.command = serve.gunicorn_command("127.0.0.1", self.port)
        if threads:  # to compare with scripts/run's number (config/serve.py)
            self.command[self.command.index("--threads") + 1] = str(threads)
        self.threads = int(self.command[self.command.index("--threads") + 1])
        self.log = Path(var_dir) / "server.log"
        self.process = None

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def prepare(self, documents, open_count, first_reviews):
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--prepare", str(documents),
                        str(open_count), str(first_reviews)], cwd=ROOT, env={**self.env, "GONGWEN_MAIL_SENDER": "off"}, check=True)
        self.manage("collectstatic", "--noinput", "--verbosity", "0")

    def start(self, timeout=60):
        with self.log.open("w") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/login/")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self):
        """The worker processes: the children of gunicorn's master."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends: gunicorn stops its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def main():
    if sys.argv[1:2] == ["--prepare"]:
        prepare(*map(int, sys.argv[2:5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--open", type=int, default=60, help="of them open, at every kind of step")
    parser.add_argument("--first-reviews", type=int, default=40, help="初审s waiting for each organ's head")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, help="threads of each worker (default: config/serve.py's)")
    parser.add_argument("--pool", type=int, default=30, help="documents each user opens, the first its lists show")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user waits between steps")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="a server already serving the demo on 127.0.0.1 (nothing is built)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch VAR_DIR (its path is printed)")
    parser.add_argument("--var-dir", help="serve a VAR_DIR that an earlier run kept (--keep) instead of building one; "
                                          "its 初审s are those the earlier runs left")
    args = parser.parse_args()
    if args.url:
        parts = urllib.parse.urlsplit(args.url)
        run_users(parts.hostname, parts.port or 80, args.users, args.seconds, args.think, args.pool)
        return
    if args.var_dir and args.database == "postgres":
        raise SystemExit("--var-dir keeps a SQLite world only")
    var_dir = Path(args.var_dir or tempfile.mkdtemp(prefix="gongwen-load-"))
    keep = args.keep or bool(args.var_dir)
    database_url = _postgres() if args.database == "postgres" else None
    server = Server(var_dir, args.workers, database_url, threads=args.threads)
    try:
        if not args.var_dir:
            started = time.perf_counter()
            server.prepare(args.documents, args.open, args.first_reviews)
            print(f"built documents={args.documents} database={args.database} var_dir={var_dir} "
                  f"seconds={time.perf_counter() - started:.1f}", flush=True)
        server.start()
        print(f"serving port={server.port} workers={args.workers} threads={server.threads}", flush=True)
        run_users("127.0.0.1", server.port, args.users, args.seconds, args.think, args.pool,
                  server_pids=lambda: [server.process.pid, *server.worker_pids()])
    finally:
        server.stop()
        if args.database == "postgres":
            _postgres(drop_only=True)
        if not keep:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
