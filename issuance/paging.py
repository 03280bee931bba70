"""Pages of a long list whose count stops a little past the page asked for.

Counting every row a list matches costs a walk over all of them: 56,000 tasks a 科室负责人
has finished, 10,000 documents an office sees, every archive record a common phrase occurs
in. Nobody pages through them all; they go a page or two on, or narrow the list (筛选, 检索).
So the count is taken over at most the rows up to the page after the one asked for (the
primary keys of the first n + 1 rows, read in one walk of the list's index, which also
gives the page's rows), and a list that goes on says "100+": the pager offers the next
page, and from it the count reaches further again.
"""

from contextlib import contextmanager

from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property

AHEAD = 1  # pages counted past the one asked for


class CappedPaginator(Paginator):
    """`rows`, if given, reads a page's rows from their primary keys (an issuance.prepared
    query: what the list shows of a row, without the list's own conditions, which found the
    keys already); otherwise the list itself is filtered by them."""

    def __init__(self, object_list, per_page, page=1, ahead=AHEAD, rows=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = (max(int(page or 1), 1) + ahead) * per_page
        self.rows = rows

    @cached_property
    def _ids(self):
        """The primary keys of the list's first cap + 1 rows, in its order: one walk of the
        list's index gives both the count and the page."""
        return list(self.object_list.values_list("pk", flat=True)[: self.cap + 1])

    @cached_property
    def counted(self):
        """The rows of the list, counted up to cap + 1: more than cap means it goes on."""
        if isinstance(self.object_list, QuerySet):
            return len(self._ids)
        return len(self.object_list[: self.cap + 1])

    def page(self, number):
        """The page's rows read by their primary keys (found by the walk that counted them),
        with what the list selects for display, in the list's order."""
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        ids = self._ids[(number - 1) * self.per_page: number * self.per_page]
        found = (self.rows(ids) if self.rows else self.object_list.filter(pk__in=ids).order_by()) if ids else ()
        rows = {row.pk: row for row in found}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)

    @cached_property
    def count(self):
        return min(self.counted, self.cap)

    @property
    def capped(self):
        """Whether the list goes on past what was counted (then shown as "count+")."""
        return self.counted > self.cap


def page_of(object_list, per_page, number, rows=None):
    """Page `number` (a page number parsed by issuance.params.page) of a capped list."""
    return CappedPaginator(object_list, per_page, page=number, rows=rows).get_page(number)


@contextmanager
def joins_as_written(using="default"):
    """On PostgreSQL, plan the joins of the queries run inside in the order Django writes them
    (join_collapse_limit 1, for this block only).

    For a list read off the index of its first table, whose rows then pick up a dozen rows
    by primary key for display (a task list's step, document, drafter, 科室, organs), the
    written order is the plan; searching the orders of fourteen tables took the planner
    15-24 ms for a query that runs in 1.5 ms (已办 at 1,000,000 documents,
    docs/benchmarks.md). Not for a query whose selective condition is on a joined table
    (one document's tasks): that one needs the planner's search."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('join_collapse_limit'), set_config('join_collapse_limit', '1', true)")
            previous = cursor.fetchone()[0]
        yield
        # Inside a longer transaction the setting would outlive the block: put it back. (When
        # the block fails, rolling it back puts it back.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('join_collapse_limit', %s, true)", [previous])
