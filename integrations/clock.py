"""Wall-clock time and sleeping, in one place so tests can replace both (no real sleeps)."""

import time


def now() -> float:
    """Unix time in seconds."""
    return time.time()


def sleep(seconds: float) -> None:
    """Wait; patched by tests to advance a fake clock instead."""
    if seconds > 0:
        time.sleep(seconds)
