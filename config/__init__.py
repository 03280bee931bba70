"""The project's configuration package.

The Celery app (config/celery.py) must exist before any task is sent or run, so that
`shared_task` (workflows/tasks.py) binds to it rather than to Celery's default app. It is
made as soon as Celery itself is imported, not when Django starts: a process that never
touches Celery (`manage.py render_gongwen`, a web worker that renders in a thread) does
not import Celery at all (0.06–0.1 s of a cold process). `config.celery_app` is the app,
as before, and `celery -A config` finds it in config/celery.py.
"""

import contextlib
import gc
import importlib
import os
import sys

from .imports import FirstImport

__all__ = ("celery_app",)

CELERY = "celery"

# Commands that do one thing and let the process end: their process runs without the
# cyclic garbage collector from here on, before Django imports the apps, as
# render_gongwen's handle() runs it for a caller's own process. Django's start alone
# sets off a dozen collections over a growing heap, 0.05 s of a cold render_gongwen
# (docs/benchmarks.md); what such a process leaves uncollected is freed when it exits.
ONE_SHOT_COMMANDS = ("render_gongwen",)

if os.path.basename(sys.argv[0]) == "manage.py" and sys.argv[1:2] and sys.argv[1] in ONE_SHOT_COMMANDS:
    gc.disable()


def __getattr__(name):
    if name == "celery_app":
        from .celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def _then_the_app():
    """Celery imported, then config/celery.py's app made."""
    yield
    importlib.import_module(f"{__name__}.celery")


_finder = FirstImport(CELERY, _then_the_app)

if CELERY in sys.modules:
    # Celery came first (`celery -A config worker`): make the app now.
    from . import celery as _celery  # noqa: F401
else:
    _finder.install()
