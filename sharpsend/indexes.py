"""An index that the admin's "starts with" search (Django's `istartswith`) can use.

Django's `istartswith` is `col LIKE 'x%'` on SQLite (case-insensitive): SQLite's LIKE
optimisation reads a range of an index only if the index is on the column COLLATE NOCASE.
On PostgreSQL it is `UPPER(col::text) LIKE UPPER('x%')`: a range of an index on UPPER(col)
with text_pattern_ops (whatever the database's collation). Other databases get the plain column.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Collate, Upper


class PrefixSearchIndex(models.Index):
    """An index on one text column for case-insensitive prefix lookups, built per database."""

    def __init__(self, *, field: str, name: str):
        self.field = field
        super().__init__(fields=[field], name=name)

    def _for(self, vendor: str) -> models.Index:
        if vendor == "sqlite":
            return models.Index(Collate(models.F(self.field), "NOCASE"), name=self.name)
        if vendor == "postgresql":
            return models.Index(OpClass(Upper(self.field), name="text_pattern_ops"), name=self.name)
        return models.Index(fields=[self.field], name=self.name)

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self._for(schema_editor.connection.vendor)
        return index.create_sql(model, schema_editor, using=using, **kwargs)

    def deconstruct(self):
        path, _, _ = super().deconstruct()
        return path, (), {"field": self.field, "name": self.name}

    def clone(self):
        return PrefixSearchIndex(field=self.field, name=self.name)
