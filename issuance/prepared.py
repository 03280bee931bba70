"""Queries of a fixed shape, compiled to SQL once per process and run with new values.

Django compiles a queryset's SQL again every time it runs: the joins of its select_related,
its ordering resolved through the models, its filters built into a tree and written out.
For the queries the busiest pages run at every request (a document's tasks and steps,
where each document of a list stands), that compiling was a quarter of the web workers'
processor time under bench/load.py (docs/benchmarks.md, "Third round"), for SQL that differs
from one request to the next only in a few primary keys.

`Prepared(build)` calls `build` twice per database and shape, each time with other stand-in
numbers in place of its arguments, compiles both querysets, and finds the arguments' places
among the SQL's parameters where the two differ (the SQL itself must not: a shape whose SQL
depends on the values is refused). Each call then runs the same SQL with the real values in
their places, through Django's own machinery for the rows (model instances, select_related,
prefetch_related, converters), and returns the list. The arguments are primary keys: ints, or tuples of ints
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

# Stand-ins: two sets of distinct numbers, within the range of every integer field (the
# smallest, PositiveSmallIntegerField, ends at 32767: Django leaves a comparison with a number
# out of a field's range out of the SQL).
_MARKS = (30_011, 31_391)
_MOST_ARGUMENTS = 1_300
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
        for position, index, kind in slots:
            params[position] = values[index] if kind is int else kind(values[index])
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

    def first(self, *args, using=None):
        """The first row the query finds with `args` (its `build` slices it to one), or None."""
        return next(iter(self(*args, using=using)), None)

    def _compile(self, shape, using):
        lengths = shape[1]
        count = sum(n if n is not None else 1 for n in lengths)
        if count > _MOST_ARGUMENTS:
            raise ValueError(f"{self.build.__qualname__}: more than {_MOST_ARGUMENTS} values")
        compiled = []
        for first in _MARKS:
            marks = itertools.count(first)
            stand_ins = [tuple(itertools.islice(marks, n)) if n is not None else next(marks) for n in lengths]
            queryset = self.build(*stand_ins)
            compiler = queryset.query.get_compiler(using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # no rows for any values of this shape (an empty tuple)
                self._compiled[shape] = _NOTHING
                return _NOTHING
            compiled.append((queryset, compiler, sql, params))
        (queryset, compiler, sql, params), (_, _, other_sql, other_params) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError(f"{self.build.__qualname__}: its SQL depends on the values")
        slots = []
        for position, (one, other) in enumerate(zip(params, other_params)):
            if one == other:
                continue  # a constant of the query
            index = one - _MARKS[0] if isinstance(one, int) and not isinstance(one, bool) else -1
            if not (0 <= index < count and other == _MARKS[1] + index):
                raise ValueError(f"{self.build.__qualname__}: parameter {position} is no argument as given")
            # As the backend adapted it (psycopg's Int4 for a small integer field on PostgreSQL).
            slots.append((position, index, type(one)))
        missing = set(range(count)) - {index for _, index, _ in slots}
        if missing:
            raise ValueError(f"{self.build.__qualname__}: arguments {sorted(missing)} are not parameters of its SQL")
        compiled = (queryset, compiler, sql, slots, params)
        self._compiled[shape] = compiled
        return compiled
