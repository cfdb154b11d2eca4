"""A changelist paginator for large tables: a filtered or searched list counts at most CAP rows.

Django's admin counts every match (`SELECT COUNT(*)`), which reads a million rows for a search
that matches them all. `CappedCountPaginator` counts an unfiltered list exactly (fast: the whole
table) and any other at most `cap` + 1 matches (`SELECT COUNT(*) FROM (SELECT … LIMIT cap+1)`).
Past the cap its pages offer the first `cap` rows and the admin's templates say "more than
10,000" (templates/admin/capped/, included by templates/admin/<app>/ for pagination and the
search form, and templates/admin/actions.html for "select all").

`WalkingPaginator` also reads a capped list's page on SQLite by walking the list in its order and
checking each row against the search and filters (an `EXISTS` on the row's primary key),
instead of reading and sorting every match from the search's indexes: for a list whose order
does not follow the searched words (sync records by id), more than `cap` matches are dense.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef
from django.utils.functional import cached_property

CAP = 10_000


class CappedCountPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        if self.exact:
            return super().count
        # No ORDER BY: the database stops after cap + 1 matches in whatever order it reads them.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def exact(self) -> bool:
        """An unfiltered list (the whole table) is counted exactly."""
        return not self.object_list.query.where

    @property
    def capped(self) -> bool:
        """More than `cap` matches, not counted further."""
        return not self.exact and self.count > self.cap

    @property
    def cap_display(self) -> str:
        return f"{self.cap:,}"

    @cached_property
    def num_pages(self) -> int:
        if self.capped:  # the pages of the first `cap` rows
            return -(-self.cap // self.per_page)
        return super().num_pages

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = self.rows_past_cap()[bottom : min(bottom + self.per_page, self.cap)]
        return self._get_page(rows, number, self)

    def rows_past_cap(self):
        return self.object_list


class WalkingPaginator(CappedCountPaginator):
    def rows_past_cap(self):
        listed = self.object_list
        if connections[listed.db].vendor != "sqlite":
            # PostgreSQL's statistics tell it that the matches are dense: it walks the list's
            # index itself (the EXISTS only adds a probe a row: 36 ms for the page of 25,000
            # unsubscribed readers). SQLite has none (Django runs no ANALYZE) and sorts.
            return listed
        matches = listed.order_by().filter(pk=OuterRef("pk"))
        walk = listed.model._default_manager.filter(Exists(matches))
        walk.query.select_related = listed.query.select_related
        return walk.order_by(*listed.query.order_by)
