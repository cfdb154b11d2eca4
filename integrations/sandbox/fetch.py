"""What an emulated platform fetches over HTTP, as the real one would: a send's content at the
console's signed URLs (Campaign Monitor's HtmlUrl and TextUrl).

The fetch is a real GET through requests, to the console itself (the sandbox and the console
are one server: the dev server and the test live server answer requests in threads, so the
fetch is served while the emulator's request waits). An emulator reaches only the console's
content pages under CONSOLE_BASE_URL — never another host, whatever URL it is handed — and
gives up after FETCH_TIMEOUT seconds, so a server that could not answer (a single-threaded
one) makes the fetch fail rather than hang: the emulator then refuses, as the platform
refuses a URL it cannot read.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.conf import settings

FETCH_TIMEOUT = 10.0
CONTENT_PATH = "/content/"


def _on_the_console(url: str) -> bool:
    try:
        parts, console = urlsplit(url), urlsplit(settings.CONSOLE_BASE_URL)
        same = (parts.scheme, parts.hostname, parts.port) == (
            console.scheme,
            console.hostname,
            console.port,
        )
    except ValueError:
        return False
    return same and not parts.username and parts.path.startswith(CONTENT_PATH)


def fetch_text(url) -> str | None:
    """The body `url` answers with 200, or None when it cannot be fetched (or may not be)."""
    if not isinstance(url, str) or not _on_the_console(url):
        return None
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT, allow_redirects=False)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    response.encoding = response.encoding or "utf-8"
    return response.text
