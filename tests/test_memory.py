"""Memory: a process that prints and archives many documents stays about its size (issue 9).

Each 归档 used to make a WeasyPrint FontConfiguration of its own for the 发文稿纸, which is
never freed: about 100 MB per archived document. bench/memory.py measures 200 documents;
the test here runs the same measurement on 30 (about 30 s).
"""

import threading

import pytest

from bench import memory
from issuance import exchange
from issuance.render import layout


@pytest.mark.memory
def test_printing_and_archiving_30_documents_grows_the_process_by_less_than_50_mb(cast):
    numbers = memory.measure(30)
    assert numbers["growth_mb"] < 50, numbers


def test_a_thread_per_render_still_makes_one_font_configuration(monkeypatch):
    made, pdfs = [], []
    original = layout._Resources.__init__

    def counted(self):
        made.append(threading.get_ident())
        original(self)

    monkeypatch.setattr(layout._Resources, "__init__", counted)
    layout.reset_resources()
    doc = exchange.parse_document({"title": "关于开展科技活动周的通知",
                                   "body": [{"kind": "paragraph", "text": "现将有关事项通知如下。"}]})
    # A new thread each time, as Django's runserver serves each request in a new thread.
    for _ in range(3):
        thread = threading.Thread(target=lambda: pdfs.append(layout.render_pdf(doc)))
        thread.start()
        thread.join()
    assert len(pdfs) == 3 and all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert len(made) == 1
