"""Render the seed 公文 repeatedly in one warm process, then once in a cold process.

    .venv/bin/python bench/render.py [--runs 30] [--warmup 3] [--no-cold] [--fixture PATH]
    .venv/bin/python bench/render.py --against-libreoffice [--rounds 5]

Prints each phase's numbers, then one summary line:

    median_s=… cpu_median_s=… p95_s=… pages_per_s=… peak_rss_mb=… spread_lines=… cold_s=…

spread_lines counts the lines of the 正文 that no 标点挤压 could fill and that the
justification had to letter-space by half a character or more. cpu_median_s is the
median processor time of a warm render: on a machine that other work shares, the wall
time includes the time the process waited for a core, the processor time does not.

`--against-libreoffice` times, in turn and `--rounds` times each, a cold
`manage.py render_gongwen` of the fixture and LibreOffice converting the same document
from a .docx (written here with python-docx: the same lines, in the fonts, sizes, margins
and line pitch of GB/T 9704) with `soffice --headless --convert-to pdf`, and prints

    cold_s=… libreoffice_s=… ratio=… cold_cpu_s=… libreoffice_cpu_s=…

(medians; ratio is cold_s / libreoffice_s, below 1 when gongwen is faster; `--skip-checks`
runs render_gongwen without Django's system checks). LibreOffice
runs with a profile of its own under a temporary folder, made by one conversion before
the timed ones, as a server that converts documents keeps its profile.

Targets on the project's 2-core machine: warm median ≤ 0.10 s for the seed (issue 11;
≤ 0.25 s in issue 3), a cold `manage.py render_gongwen` faster than LibreOffice (issue
11; ≤ 2 s in issue 3), peak RSS of a rendering process ≤ 400 MB.
Not a test: numbers depend on the machine; docs/benchmarks.md records them.
"""

import argparse
import os
import resource
import shutil
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
    times, cpu_times = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        pdf = layout.render_pdf(doc)
        cpu_times.append(time.process_time() - start_cpu)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "first_s": first,
        "median_s": median,
        "cpu_median_s": statistics.median(cpu_times),
        "p95_s": _percentile(times, 0.95),
        "min_s": min(times),
        "pages": pages,
        "spread_lines": rendered.spread_lines,
        "pages_per_s": pages / median,
        "pdf_kb": len(pdf) / 1024,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _timed(command, **kwargs):
    """Wall time and processor time (user and system, of the process and its children) of
    running `command` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# Extra arguments of every render_gongwen this bench runs (--skip-checks: see main()).
_COMMAND_OPTIONS = []


def _render_command(fixture, out):
    return [sys.executable, str(ROOT / "manage.py"), "render_gongwen", *_COMMAND_OPTIONS, str(fixture), "-o", str(out)]


def cold(fixture):
    """Wall time and peak RSS of one `manage.py render_gongwen` process."""
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, cpu = _timed(_render_command(fixture, Path(tmp) / "seed.pdf"), cwd=ROOT)
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"cold_s": elapsed, "cold_cpu_s": cpu, "cold_peak_rss_mb": child_rss}


# Against LibreOffice ---------------------------------------------------------------

# What a drafter's Word file of a 公文 sets (GB/T 9704: A4, margins 37/35/28/26 mm, 22
# lines of 28 characters, 3号 仿宋 text, a 2号 小标宋 title, the red 发文机关标志), in
# faces that fontconfig knows, so that LibreOffice finds them.
SERIF = "Noto Serif CJK SC"
SANS = "Noto Sans CJK SC"
LINE_PITCH_PT = 28.95


def docx_of(doc):
    """The .docx of a parsed 公文, as python-docx writes it."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    from issuance.exchange import format_date_cn

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    def paragraph(text, size=16, face=SERIF, bold=False, align=None, indent=True, color=None):
        made = document.add_paragraph()
        form = made.paragraph_format
        form.line_spacing_rule, form.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PITCH_PT)
        form.space_before = form.space_after = Pt(0)
        if indent:
            form.first_line_indent = Pt(2 * size)
        if align:
            made.alignment = align
        run = made.add_run(text)
        run.font.size, run.font.bold, run.font.name = Pt(size), bold, face
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face)
        if color:
            run.font.color.rgb = color
        return made

    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    red = RGBColor(0xE6, 0x00, 0x12)
    if doc["header_title"]:
        paragraph(doc["header_title"], size=44, bold=True, align=centre, indent=False, color=red)
    if doc["doc_number"]:
        paragraph(doc["doc_number"], align=centre, indent=False)
    paragraph(doc["title"], size=22, bold=True, align=centre, indent=False)
    if doc["main_recipients"]:
        paragraph(doc["main_recipients"] + "：", indent=False)
    faces = {"heading1": (SANS, False), "heading2": (SERIF, True)}
    for block in doc["body"]:
        if block["kind"] == "title":
            paragraph(block["text"], size=22, bold=True, align=centre, indent=False)
        else:
            face, bold = faces.get(block["kind"], (SERIF, False))
            paragraph(block["text"], face=face, bold=bold)
    for number, name in enumerate(doc["attachments"], start=1):
        paragraph(("附件：" if number == 1 else "　　　") + f"{number}.{name}")
    for org in doc["signature_orgs"]:
        paragraph(org, align=right, indent=False)
    if doc["date"]:
        paragraph(format_date_cn(doc["date"]), align=right, indent=False)
    if doc["cc"]:
        paragraph(f"抄送：{doc['cc']}。", size=14, indent=False)
    if doc["printed_by"]:
        paragraph(f"{doc['printed_by']}\t{format_date_cn(doc['printed_date'])}印发", size=14, indent=False)
    from io import BytesIO

    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def soffice():
    """The path of LibreOffice's soffice, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def against_libreoffice(fixture, rounds):
    """Median wall and processor times of a cold render_gongwen and of LibreOffice
    converting the same document from .docx, run in turn."""
    program = soffice()
    if program is None:
        raise SystemExit("soffice not found: install LibreOffice (Debian: libreoffice-writer-nogui; "
                         "scripts/bootstrap --bench installs it)")
    from issuance.exchange import read_file

    doc = read_file(fixture)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "seed.docx"
        source.write_bytes(docx_of(doc))
        profile = (tmp / "lo-profile").as_uri()
        convert = [program, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                   "--outdir", str(tmp / "lo"), str(source)]
        _timed(convert, cwd=tmp, stderr=subprocess.DEVNULL)  # makes LibreOffice's profile
        _timed(_render_command(fixture, tmp / "warm.pdf"), cwd=ROOT)  # the same for gongwen's var/
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(_timed(_render_command(fixture, tmp / "gongwen.pdf"), cwd=ROOT))
            theirs.append(_timed(convert, cwd=tmp, stderr=subprocess.DEVNULL))
        lo_pages = _pdf_pages(tmp / "lo" / "seed.pdf")
    return {
        "cold_s": statistics.median(t for t, _ in ours),
        "libreoffice_s": statistics.median(t for t, _ in theirs),
        "cold_cpu_s": statistics.median(c for _, c in ours),
        "libreoffice_cpu_s": statistics.median(c for _, c in theirs),
        "libreoffice_pages": lo_pages,
        "each": list(zip(ours, theirs)),
    }


def _pdf_pages(path):
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fixture", default=str(FIXTURE))
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--against-libreoffice", action="store_true",
                        help="time a cold render_gongwen and soffice --convert-to pdf, in turn")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --against-libreoffice")
    parser.add_argument("--skip-checks", action="store_true",
                        help="run render_gongwen with Django's --skip-checks (what the system checks cost)")
    args = parser.parse_args(argv)
    _COMMAND_OPTIONS[:] = ["--skip-checks"] if args.skip_checks else []

    if args.against_libreoffice:
        _setup_django()
        load = os.getloadavg()[0]
        result = against_libreoffice(args.fixture, args.rounds)
        print(f"fixture: {args.fixture}" + (" (render_gongwen --skip-checks)" if args.skip_checks else ""))
        print(f"load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
        for number, ((ours, ours_cpu), (theirs, theirs_cpu)) in enumerate(result["each"], start=1):
            print(f"round {number}: render_gongwen {ours:.3f} s (cpu {ours_cpu:.3f} s), "
                  f"soffice {theirs:.3f} s (cpu {theirs_cpu:.3f} s)")
        print(f"LibreOffice's PDF: {result['libreoffice_pages']} pages")
        print(f"cold_s={result['cold_s']:.3f} libreoffice_s={result['libreoffice_s']:.3f} "
              f"ratio={result['cold_s'] / result['libreoffice_s']:.2f} "
              f"cold_cpu_s={result['cold_cpu_s']:.3f} libreoffice_cpu_s={result['libreoffice_cpu_s']:.3f}")
        return result, None

    cold_result = None if args.no_cold else cold(args.fixture)
    _setup_django()
    result = warm(args.fixture, args.runs, args.warmup)

    print(f"fixture: {args.fixture}")
    print(f"pages: {result['pages']}  pdf: {result['pdf_kb']:.0f} KiB")
    print(f"lines still letter-spaced (no 标点挤压 could fill them): {result['spread_lines']}")
    print(f"first render in this process: {result['first_s']:.3f} s")
    print(f"warm renders: {args.runs}, median {result['median_s']:.3f} s, p95 {result['p95_s']:.3f} s, "
          f"min {result['min_s']:.3f} s, processor time median {result['cpu_median_s']:.3f} s")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    if cold_result:
        print(f"cold process (manage.py render_gongwen): {cold_result['cold_s']:.3f} s, "
              f"peak RSS {cold_result['cold_peak_rss_mb']:.0f} MB")
    summary = (
        f"median_s={result['median_s']:.3f} cpu_median_s={result['cpu_median_s']:.3f} p95_s={result['p95_s']:.3f} "
        f"pages_per_s={result['pages_per_s']:.1f} peak_rss_mb={result['peak_rss_mb']:.0f} "
        f"spread_lines={result['spread_lines']}"
    )
    if cold_result:
        summary += f" cold_s={cold_result['cold_s']:.3f}"
    print(summary)
    return result, cold_result


if __name__ == "__main__":
    main()
