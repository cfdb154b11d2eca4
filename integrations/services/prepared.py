"""Statements compiled once and run again with other values, for the webhook receiver's hot
path: Django builds a query's SQL anew on every call, which was about half of a delivery's CPU
(profiled: the integration's lookup, the insert, the pending check).

Both take their SQL from Django's own compiler (the first time, per database alias), so the
SQL, the quoting and the conversion of values are Django's; only the building is not repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connections, models
from django.db.models import sql


class PreparedQuery:
    """`build(*values)` → a queryset, compiled once with `samples` (one per value, each
    compared as `fields` prepares it for the database) and run with the values in their
    places. The rows come as the database driver gives them (no field converters)."""

    def __init__(
        self,
        build: Callable[..., models.QuerySet],
        fields: Sequence[models.Field],
        samples: Sequence[object],
    ):
        self.build, self.fields, self.samples = build, fields, samples
        self._compiled: dict[str, tuple[str, list, list[int]]] = {}

    def _compile(self, using: str) -> tuple[str, list, list[int]]:
        connection = connections[using]
        query = self.build(*self.samples).query
        text, params = query.get_compiler(using=using).as_sql()
        params, places = list(params), []
        for field, sample in zip(self.fields, self.samples, strict=True):
            prepared = field.get_db_prep_value(sample, connection)
            found = [i for i, value in enumerate(params) if value == prepared]
            if len(found) != 1:
                raise ValueError(f"sample {sample!r} is not once in the query's parameters")
            places.append(found[0])
        return text, params, places

    def rows(self, *values, using: str = "default") -> list[tuple]:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        text, params, places = compiled
        connection = connections[using]
        params = list(params)
        for field, place, value in zip(self.fields, places, values, strict=True):
            params[place] = field.get_db_prep_value(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            return cursor.fetchall()


class PreparedInsert:
    """One row of `model` inserted by the SQL Django's compiler makes for it (compiled once
    per alias), its id read back; the fields' own pre_save and preparation make the values,
    as Model.save does. No save signals are sent: for models that have no receivers."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        meta = model._meta
        self.fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        self._compiled: dict[str, str] = {}

    def supported(self, using: str = "default") -> bool:
        return connections[using].features.can_return_columns_from_insert

    def _compile(self, obj: models.Model, using: str) -> str:
        query = sql.InsertQuery(self.model)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = [self.model._meta.pk]
        [(text, _)] = compiler.as_sql()
        return text

    def insert(self, obj: models.Model, using: str = "default") -> models.Model:
        connection = connections[using]
        text = self._compiled.get(using)
        if text is None:
            text = self._compiled[using] = self._compile(obj, using)
        values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(text, values)
            obj.pk = cursor.fetchone()[0]
        obj._state.adding, obj._state.db = False, using
        return obj
