"""bench/load.py against a live server: three signed-in users for a few seconds, and the
line it prints (issue 11). The figures themselves are the bench's (docs/benchmarks.md);
here only that it builds, serves, signs in, decides now and then and counts no error.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^rps=(?P<rps>[\d.]+) p50_ms=(?P<p50>[\d.]+) p95_ms=(?P<p95>[\d.]+) errors=(?P<errors>\d+) "
                     r"requests=(?P<requests>\d+) decisions=(?P<decisions>\d+) raced=(?P<raced>\d+) users=3 seconds=[\d.]+$", re.M)


def test_three_users_for_a_few_seconds_print_the_figures_without_an_error():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--users", "3", "--seconds", "4", "--documents", "60", "--open", "7",
         "--first-reviews", "2", "--pool", "4"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    assert int(summary["errors"]) == 0, result.stdout
    assert int(summary["requests"]) > 0 and float(summary["rps"]) > 0, result.stdout
    # Each page kind gets its own line too, so that a slow page shows.
    assert re.search(r"^kind=待办 requests=\d+ errors=0 ", result.stdout, re.M), result.stdout


def test_the_run_profile_keeps_database_connections_unless_the_environment_says_otherwise(tmp_path):
    from config import serve

    machine = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    assert serve.local_environment({**machine, "VAR_DIR": str(tmp_path)})["DATABASE_CONN_MAX_AGE"] == "60"
    given = {**machine, "VAR_DIR": str(tmp_path), "DATABASE_CONN_MAX_AGE": "0"}
    assert serve.local_environment(given)["DATABASE_CONN_MAX_AGE"] == "0"
