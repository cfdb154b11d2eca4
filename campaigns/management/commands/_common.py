"""What the campaigns commands share: finding the assignment."""

from __future__ import annotations

from django.core.management.base import CommandError

from campaigns.models import Assignment


def find_assignment(ident: str) -> Assignment:
    if ident.strip().isdigit():
        found = Assignment.objects.filter(pk=int(ident)).first()
        if found is not None:
            return found
    raise CommandError(f"No assignment with id '{ident}'.")
