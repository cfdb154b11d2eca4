"""Run the web server and the q cluster side by side, and stop both cleanly on one signal.

`make run` used to start both from a shell whose trap sent SIGTERM to its own process group,
which re-entered the trap: the cluster received a storm of signals, django-q's handler recursed
until it crashed, and the cluster's workers were left running. Here each child runs in a
session of its own, so a Ctrl-C or a SIGTERM reaches only this supervisor, which passes
exactly one SIGTERM to each child, waits for it, and kills what is left after a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence


def wait_for_http(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """True once `url` answers with any HTTP status; False on timeout or when `alive()` fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answered
        except OSError:
            time.sleep(0.2)
    return False


class Supervisor:
    """Starts named commands, each in its own session, and stops them all together."""

    def __init__(self, stop_timeout: float = 8.0, log: Callable[[str], None] = print):
        self.stop_timeout = stop_timeout
        self.log = log
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, name: str, command: Sequence[str], env: dict[str, str] | None = None):
        self.children[name] = subprocess.Popen(command, env=env, start_new_session=True)
        return self.children[name]

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        # Only the first signal matters; a second Ctrl-C does not restart the shutdown.
        self.stopping = True

    def wait(self) -> int:
        """Block until a signal arrives or a child exits, then stop everything; the exit code."""
        while not self.stopping:
            exited = [name for name, child in self.children.items() if child.poll() is not None]
            if exited:
                self.log(f"{exited[0]} exited with code {self.children[exited[0]].returncode}.")
                self.stop()
                return 1
            time.sleep(0.2)
        self.stop()
        return 0

    def stop(self) -> None:
        """One SIGTERM to each child, a wait, then SIGKILL for whatever of its session is left."""
        self.stopping = True
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(
                    f"{name} did not stop within {self.stop_timeout:.0f} s; killing it (a sync "
                    "it was running resumes from its checkpoint)."
                )
            _kill_session(child.pid)
            child.wait()


def _kill_session(pid: int) -> None:
    """SIGKILL every process still in the child's session (its workers, say)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
