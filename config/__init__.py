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
import importlib.abc
import importlib.machinery
import os
import sys

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


class _Loader(importlib.abc.Loader):
    """Celery's own loader, then config/celery.py made once Celery is imported."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        importlib.import_module(f"{__name__}.celery")

    def __getattr__(self, name):
        # What else importlib or a tool asks a loader (get_resource_reader, is_package…).
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds Celery's package as the path finder does, with _Loader around its loader."""

    def find_spec(self, fullname, path, target=None):
        if fullname != CELERY:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            _uninstall()
            spec.loader = _Loader(spec.loader)
        return spec


_finder = _Finder()


def _uninstall():
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_finder)


if CELERY in sys.modules:
    # Celery came first (`celery -A config worker`): make the app now.
    from . import celery as _celery  # noqa: F401
elif _finder not in sys.meta_path:
    sys.meta_path.insert(0, _finder)
