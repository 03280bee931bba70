"""Memory of one process that prints and archives many documents (issue 9).

    .venv/bin/python bench/memory.py [--documents 200] [--warmup 2]

Builds a fresh SQLite database and media folder in a temporary directory, loads the demo
organs, then takes `--documents` short 通知 through the whole path in this one process:
the reviews, 登记, 印制 (the red-header PDF) and 归档 (the package with its 发文稿纸 PDF).
The first `--warmup` documents load the fonts, the templates and jieba's dictionary and are
not counted. Prints `key=value` lines:

    documents=… rss_start_mb=… rss_end_mb=… growth_mb=… per_document_kb=… seconds=…

Target: growth below 50 MB for 200 documents. Before issue 9 each 归档 made a WeasyPrint
FontConfiguration of its own that was never freed. docs/benchmarks.md records the numbers;
tests/test_archive_memory.py runs `measure` on a few dozen documents.
"""

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "quanzhou-2024-123.json"


def rss_mb():
    """Resident memory of this process now (not the peak), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def short_content(number):
    """A short 通知 of 泉科 without a number, from the seed's header fields."""
    content = json.loads(FIXTURE.read_text(encoding="utf-8"))
    content.update(
        doc_number=None, printed_date=None, date=None, cc="市科协",
        title=f"泉州市科学技术局关于开展2026年科技活动周第{number}项活动的通知",
        body=[
            {"kind": "paragraph", "text": f"为普及科学知识，经研究，决定开展2026年科技活动周第{number}项活动。"},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
        ],
    )
    return content


def measure(documents, warmup=1):
    """Print and archive `warmup` + `documents` documents; the numbers of the last `documents`.

    Needs the demo organisation in the database and GONGWEN_RENDER_BACKEND "inline"-able
    (the path prints inline).
    """
    from django.contrib.auth import get_user_model

    from issuance.models import Stage
    from workflows import demo_path

    drafter = get_user_model().objects.get(username="drafter")

    def one(number):
        document = demo_path.take_through_path(short_content(number), drafter)
        if document.stage != Stage.ARCHIVED:
            raise RuntimeError(f"document {document.pk} stopped at {document.stage}")

    for number in range(1, warmup + 1):
        one(number)
    gc.collect()
    start, began = rss_mb(), time.perf_counter()
    for number in range(warmup + 1, warmup + documents + 1):
        one(number)
    gc.collect()
    end = rss_mb()
    growth = end - start
    return {
        "documents": documents,
        "rss_start_mb": round(start, 1),
        "rss_end_mb": round(end, 1),
        "growth_mb": round(growth, 1),
        "per_document_kb": round(growth * 1024 / documents, 1),
        "seconds": round(time.perf_counter() - began, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongwen-memory-") as folder:
        os.environ.update({
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "MEDIA_ROOT": f"{folder}/media",
            "GONGWEN_RENDER_BACKEND": "inline",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        })
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from issuance import demo

        call_command("migrate", verbosity=0)
        demo.load_organisation()
        for key, value in measure(args.documents, args.warmup).items():
            print(f"{key}={value}")


if __name__ == "__main__":
    main()
