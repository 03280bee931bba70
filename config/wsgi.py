"""The WSGI application. Starting it starts the process's background rounds: the print
dispatcher, which takes up print jobs whose worker died (workflows.printing), and the mail
outbox's, which sends mail that waited for the mail server (config.outbox).

What the process has made by then (Django, the apps, their modules: some 150,000 objects)
lives as long as it does, so it is moved out of the cyclic garbage collector's reach
(`gc.freeze`): each full collection under load walked all of it again, for nothing (about
7 % of a page's processor time, docs/benchmarks.md)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from workflows import printing  # noqa: E402  (needs the apps loaded above)

from config import outbox  # noqa: E402

printing.start_dispatcher()
outbox.start()
gc.freeze()
