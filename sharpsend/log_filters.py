"""Logging filters: the web server's access log never shows a secret carried in a URL.

The platforms post webhooks to /webhooks/<id>/, where some schemes put the console's token in
the query (Campaign Monitor, Keap, Mailchimp's fallback, Kit's legacy hooks), and Campaign
Monitor fetches content from /content/<assignment>/<signed token>/. Django's development
server (`runserver`, `runconsole`) logs every request line through the "django.server" logger;
this filter rewrites those lines before any handler sees them.
"""

from __future__ import annotations

import logging
import re

_SECRET_IN_URL = (
    (re.compile(r"(/webhooks/[^/?\s]+/?)\?[^\s\"]*"), r"\1?[redacted]"),
    (re.compile(r"(/content/\d+/)[^/\s\"]+"), r"\1[redacted]"),
)


def redact_url_secrets(text: str) -> str:
    for pattern, replacement in _SECRET_IN_URL:
        text = pattern.sub(replacement, text)
    return text


class RedactUrlSecrets(logging.Filter):
    """Rewrite a request line's webhook query and content token as [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_url_secrets(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = redact_url_secrets(record.msg)
        return True
