"""Wait until a URL answers."""

from django.core.management.base import BaseCommand, CommandError

from sharpsend.supervisor import wait_for_http


class Command(BaseCommand):
    help = "Wait until URL answers with any HTTP status."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, url, timeout, **options):
        if not wait_for_http(url, timeout):
            raise CommandError(f"{url} did not answer within {timeout:.0f} s.")
