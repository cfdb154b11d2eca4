"""The wizard's forecast at N subscribers: seconds, and its estimates against the exact counts.

    .venv/bin/python bench/forecast.py --db /tmp/sharpsend-bench/bench-1000000.sqlite3

Reads a database bench/sync_throughput.py seeded (its Customer.io integration and mappings),
times the forecast as the wizard asks for it (sampled above FORECAST_EXACT_UP_TO), then the
exact count (every subscriber mapped) to compare.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--exact", action="store_true", help="also map every subscriber")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("SECRET_KEY", "bench-not-a-secret-key-0123456789abcdef")
    os.environ.setdefault("SALT_KEY", "bench-salt")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharpsend.settings")
    import django

    django.setup()
    from django.conf import settings

    from integrations.models import Integration
    from integrations.services import preview

    integration = Integration.objects.get(name="Customer.io (bench)")
    mappings = list(integration.field_mappings.all())
    runs = [("forecast", None)]
    if args.exact:
        runs.append(("exact", 10**12))
    for name, exact_up_to in runs:
        if exact_up_to:
            settings.FORECAST_EXACT_UP_TO = exact_up_to
        started = time.perf_counter()
        result = preview.forecast(integration, mappings, None)
        seconds = time.perf_counter() - started
        margins = result.margins
        print(
            f"{name:>8}: {seconds:.2f} s; {result.total:,} subscribers, sample "
            f"{result.estimated_from or 'none'}; would send {result.would_send:,} "
            f"(±{margins.get('would_send', 0):,}), excluded {result.excluded:,} "
            f"(±{margins.get('excluded', 0):,}), rejected {result.rejected:,}"
        )


if __name__ == "__main__":
    main()
