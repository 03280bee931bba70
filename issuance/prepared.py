"""Queries of a fixed shape, compiled to SQL once per process and run with new values.

Django compiles a queryset's SQL again every time it runs: the joins of its select_related,
its ordering resolved through the models, its filters built into a tree and written out.
For the queries the busiest pages run at every request (a document's tasks and steps,
where each document of a list stands), that compiling was a quarter of the web workers'
processor time under bench/load.py (docs/benchmarks.md, "Third round"), for SQL that differs
from one request to the next only in a few primary keys.

`Prepared(build)` calls `build` once per database and shape with stand-in numbers in place
of its arguments, compiles that queryset, and finds the stand-ins among the SQL's
parameters. Each call then runs the same SQL with the real values in their places, through
Django's own machinery for the rows (model instances, select_related, prefetch_related,
converters), and returns the list. The arguments are primary keys: ints, or tuples of ints
(a page's documents; each length is a shape of its own, and `__in` wants them without
repeats, which Django leaves out of the SQL). Everything else the query says is
fixed: `build` must not read the clock, a setting or a person's standing, which would be
compiled in. With `Prepared.check` on (the test suite), every call also compiles the
queryset with the real values and refuses to run if the SQL or its parameters differ.
"""

import copy
import itertools
import threading

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections

# Stand-ins: far from any primary key, each one distinct.
_FIRST_MARK = -(2**62)
_NOTHING = object()


class Prepared:
    check = False  # tests/conftest.py turns it on

    def __init__(self, build):
        self.build = build
        self._compiled = {}
        self._lock = threading.Lock()

    def __call__(self, *args, using=None):
        using = using or DEFAULT_DB_ALIAS
        args = tuple(tuple(a) if isinstance(a, (list, tuple)) else a for a in args)
        shape = (using, tuple(len(a) if isinstance(a, tuple) else None for a in args))
        compiled = self._compiled.get(shape)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(shape) or self._compile(shape, using)
        if compiled is _NOTHING:
            return []
        queryset, compiler, sql, slots, params = compiled
        values = list(itertools.chain.from_iterable(a if isinstance(a, tuple) else (a,) for a in args))
        params = list(params)
        for position, index in slots:
            params[position] = values[index]
        if Prepared.check:
            fresh = self.build(*args).query.get_compiler(using).as_sql()
            if fresh != (sql, tuple(params)):
                raise AssertionError(f"{self.build.__qualname__}: the prepared SQL is not the query's\n{fresh}\n{(sql, params)}")
        runner = copy.copy(compiler)
        runner.connection = connections[using]
        runner.as_sql = lambda *a, **k: (sql, tuple(params))
        clone = queryset._chain()
        clone.query.get_compiler = lambda *a, **k: runner
        return list(clone)

    def _compile(self, shape, using):
        lengths = shape[1]
        marks = itertools.count(_FIRST_MARK)
        stand_ins = [tuple(itertools.islice(marks, n)) if n is not None else next(marks) for n in lengths]
        queryset = self.build(*stand_ins)
        compiler = queryset.query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # no rows for any values of this shape (an empty tuple)
            self._compiled[shape] = _NOTHING
            return _NOTHING
        index_of = {mark: i for i, mark in enumerate(
            itertools.chain.from_iterable(s if isinstance(s, tuple) else (s,) for s in stand_ins))}
        slots = [(position, index_of[value]) for position, value in enumerate(params)
                 if isinstance(value, int) and value in index_of]
        missing = set(index_of.values()) - {index for _, index in slots}
        if missing:
            raise ValueError(f"{self.build.__qualname__}: arguments {sorted(missing)} are not parameters of its SQL")
        compiled = (queryset, compiler, sql, slots, params)
        self._compiled[shape] = compiled
        return compiled
