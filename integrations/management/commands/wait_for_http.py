"""Wait until a URL answers (used by `make run` before starting the q cluster)."""

import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Wait until URL answers with any HTTP status."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, url, timeout, **options):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.3)
        raise CommandError(f"{url} did not answer within {timeout:.0f} s.")
