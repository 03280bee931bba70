"""An import hook of the project's own: the first import of one module run inside a context
(`FirstImport`). The finder finds the module as the other finders do, puts the module's
own loader inside the context, and steps aside, so that it costs nothing afterwards.

Used for Celery (config/__init__.py: the project's app made once Celery is imported) and
for two WeasyPrint modules (issuance/render/libraries.py)."""

import contextlib
import importlib.abc
import importlib.util
import sys


class _Around(importlib.abc.Loader):
    """A module's own loader, the module run inside the context `around()`."""

    def __init__(self, loader, around):
        self._loader = loader
        self._around = around

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with self._around():
            self._loader.exec_module(module)

    def __getattr__(self, name):
        # What else importlib or a tool asks a loader (get_resource_reader, is_package…).
        return getattr(self._loader, name)


class FirstImport(importlib.abc.MetaPathFinder):
    """Finds `module` as the other finders do, the first time it is imported, with its
    loader run inside `around()` (a context manager function); then steps aside."""

    def __init__(self, module, around):
        self.module = module
        self.around = around

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module:
            return None
        self.uninstall()
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _Around(spec.loader, self.around)
        return spec

    def install(self):
        if self.module not in sys.modules and self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self):
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
