"""`scripts/run`: gongwen on this machine, served the way a deployment serves it.

`python -m config.serve` loads the demo (`setup_demo`), collects the static files and
replaces itself with gunicorn serving config.wsgi, on the embedded default (SQLite and the
files under VAR_DIR). Its environment is the production one of README's 生产部署 (DEBUG off,
static files by whitenoise, the 印制 and mail rounds in each web process: config.wsgi) with
two differences:
- the secret key and the history key are generated once into VAR_DIR (mode 0600) and read
  from there at every start, unless the environment gives them. The history key is the file
  that DEBUG keeps too (issuance.seals), so what `--dev` sealed still verifies, and back;
- plain HTTP on 127.0.0.1: no redirect to HTTPS (nothing listens for it), cookies not
  marked secure-only (a browser would not send them back over HTTP) and no HSTS (it would
  keep the browser from http://localhost for a year). A deployment behind HTTPS keeps
  all three (README).
Ctrl-C stops gunicorn, which stops its workers: a print job cut off is taken up again at
the next start (workflows.printing), mail not yet marked sent goes out then.

`python -m config.serve --dev` runs Django's development server with DEBUG on instead.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from issuance.seals import DEVELOPMENT_KEY_FILE

BASE_DIR = Path(__file__).resolve().parent.parent
KEY_FILES = {"SECRET_KEY": "secret.key", "GONGWEN_HISTORY_KEY": DEVELOPMENT_KEY_FILE}
LOOPBACK = ("127.0.0.1", "localhost")
EVERY_ADDRESS = ("0.0.0.0", "::")


def kept_key(path):
    """The key in `path`, generated there on first use: written whole, readable by its owner
    only, to a file of its own that is then renamed into place, so no start finds half a key."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.new")
        draft.unlink(missing_ok=True)
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, path)
    return path.read_text(encoding="ascii").strip()


def local_environment(environ, host="127.0.0.1", port="8000"):
    """The environment of the app served on this machine over plain HTTP; what `environ`
    sets wins, except DEBUG, which is off."""
    var_dir = Path(environ.get("VAR_DIR") or BASE_DIR / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    site_host = "127.0.0.1" if host in EVERY_ADDRESS else host
    defaults = {
        "VAR_DIR": str(var_dir),
        "ALLOWED_HOSTS": ",".join(dict.fromkeys([*LOOPBACK, site_host])),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SECURE_HSTS_PRELOAD": "false",
        "GONGWEN_SITE_URL": f"http://{site_host}:{port}",
        "WEB_CONCURRENCY": "2",  # gunicorn's worker processes
        # Each worker thread keeps its database connection for a minute instead of opening
        # one per request: SQLite then keeps its parsed schema and page cache, PostgreSQL its
        # session (bench/load.py: about 15% less CPU a request, docs/benchmarks.md).
        "DATABASE_CONN_MAX_AGE": "60",
    }
    env = {**defaults, **{name: value for name, value in environ.items() if value}, "DEBUG": "false"}
    for name, file_name in KEY_FILES.items():
        if name not in env:
            env[name] = kept_key(var_dir / file_name)
    return env


def gunicorn_command(host, port):
    """gunicorn serving config.wsgi: threads in each worker, so that a slow PDF preview holds
    up nobody else; no control socket (two instances on one machine would share its path)."""
    return [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}",
            "--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "10",
            "--access-logfile", "-", "--no-control-socket"]


def manage(env, *args):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def main(argv):
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    if argv not in ([], ["--dev"]):
        sys.exit("用法：scripts/run [--dev]（--dev：Django 开发服务器，DEBUG 开启）")
    os.chdir(BASE_DIR)
    if argv == ["--dev"]:
        env = {**os.environ, "DEBUG": "true"}
        manage(env, "setup_demo")
        os.execve(sys.executable, [sys.executable, "manage.py", "runserver", f"{host}:{port}"], env)
    env = local_environment(os.environ, host, port)
    manage(env, "setup_demo")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    print(f"公文办理：{env['GONGWEN_SITE_URL']}/ （生产方式运行：DEBUG 关闭，gunicorn；按 Ctrl-C 停止）", flush=True)
    os.execve(sys.executable, gunicorn_command(host, port), env)


if __name__ == "__main__":
    main(sys.argv[1:])
