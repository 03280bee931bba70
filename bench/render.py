"""Render the seed 公文 repeatedly in one warm process, then once in a cold process.

    .venv/bin/python bench/render.py [--runs 30] [--warmup 3] [--no-cold] [--fixture PATH]

Prints each phase's numbers, then one summary line:

    median_s=… p95_s=… pages_per_s=… peak_rss_mb=… spread_lines=… cold_s=…

spread_lines counts the lines of the 正文 that no 标点挤压 could fill and that the
justification had to letter-space by half a character or more.

Targets on the project's 2-core machine (issue 3): warm median ≤ 0.25 s for the seed,
a cold `manage.py render_gongwen` process ≤ 2 s, peak RSS of a rendering process ≤ 400 MB.
Not a test: numbers depend on the machine; docs/benchmarks.md records them.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "quanzhou-2024-123.json"


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _peak_rss_mb():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def warm(fixture, runs, warmup):
    from issuance.render import layout
    from issuance.exchange import read_file

    doc = read_file(fixture)
    start = time.perf_counter()
    rendered = layout.render(doc)
    first = time.perf_counter() - start
    pdf, pages = rendered.pdf, rendered.pages
    for _ in range(max(0, warmup - 1)):
        layout.render_pdf(doc)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = layout.render_pdf(doc)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "first_s": first,
        "median_s": median,
        "p95_s": _percentile(times, 0.95),
        "min_s": min(times),
        "pages": pages,
        "spread_lines": rendered.spread_lines,
        "pages_per_s": pages / median,
        "pdf_kb": len(pdf) / 1024,
        "peak_rss_mb": _peak_rss_mb(),
    }


def cold(fixture):
    """Wall time and peak RSS of one `manage.py render_gongwen` process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "seed.pdf"
        command = [sys.executable, str(ROOT / "manage.py"), "render_gongwen", str(fixture), "-o", str(out)]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"cold_s": elapsed, "cold_peak_rss_mb": child_rss}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fixture", default=str(FIXTURE))
    parser.add_argument("--no-cold", action="store_true")
    args = parser.parse_args(argv)

    cold_result = None if args.no_cold else cold(args.fixture)
    _setup_django()
    result = warm(args.fixture, args.runs, args.warmup)

    print(f"fixture: {args.fixture}")
    print(f"pages: {result['pages']}  pdf: {result['pdf_kb']:.0f} KiB")
    print(f"lines still letter-spaced (no 标点挤压 could fill them): {result['spread_lines']}")
    print(f"first render in this process: {result['first_s']:.3f} s")
    print(f"warm renders: {args.runs}, median {result['median_s']:.3f} s, p95 {result['p95_s']:.3f} s, "
          f"min {result['min_s']:.3f} s")
    if cold_result:
        print(f"cold process (manage.py render_gongwen): {cold_result['cold_s']:.3f} s, "
              f"peak RSS {cold_result['cold_peak_rss_mb']:.0f} MB")
    summary = (
        f"median_s={result['median_s']:.3f} p95_s={result['p95_s']:.3f} "
        f"pages_per_s={result['pages_per_s']:.1f} peak_rss_mb={result['peak_rss_mb']:.0f} "
        f"spread_lines={result['spread_lines']}"
    )
    if cold_result:
        summary += f" cold_s={cold_result['cold_s']:.3f}"
    print(summary)
    return result, cold_result


if __name__ == "__main__":
    main()
