"""Admin list filters whose choices are known without scanning the table.

Django's plain field filters list a column's distinct values (SELECT DISTINCT over every row),
and a date hierarchy reads every row's date: seconds on a million API calls. The values here
come from what the platforms declare instead.
"""

from __future__ import annotations

from django.contrib import admin

from integrations.platforms.errors import PlatformError
from integrations.platforms.registry import all_platforms


class KnownValuesFilter(admin.SimpleListFilter):
    """A filter on one column with a fixed set of values (subclasses give `values`)."""

    field_name = ""

    def values(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [(value, value) for value in self.values()]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field_name: value}) if value else queryset


class SurfaceFilter(KnownValuesFilter):
    title = "surface"
    parameter_name = field_name = "surface"

    def values(self) -> list[str]:
        return sorted({surface for platform in all_platforms() for surface in platform.hosts})


def _error_kinds(cls: type[PlatformError]) -> set[str]:
    return {cls.kind}.union(*(_error_kinds(sub) for sub in cls.__subclasses__()))


class ErrorKindFilter(KnownValuesFilter):
    title = "error kind"
    parameter_name = field_name = "error_kind"

    def values(self) -> list[str]:
        return sorted(_error_kinds(PlatformError))
