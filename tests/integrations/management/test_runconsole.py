"""`manage.py runconsole` (what `make run` serves with) stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sharpsend.supervisor import wait_for_http
from tests.processes import free_port, process_env

ROOT = Path(__file__).resolve().parents[3]


def _session_pids(session_ids: set[int]) -> set[int]:
    """Live processes whose session is one of `session_ids` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) in session_ids:
                found.add(int(entry.name))
        except (ProcessLookupError, PermissionError):
            continue
    return found


def _children_sessions(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {os.getsid(int(child)) for child in children}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_to_the_group_stops_server_and_cluster(transactional_db, signum):
    port = free_port()
    env = process_env(Q_WORKERS="1")
    console = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runconsole", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/admin/login/", 60)
        deadline = time.monotonic() + 30
        while len(_children_sessions(console.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for the cluster process to exist, not waiting for work
        sessions = _children_sessions(console.pid)
        assert len(sessions) == 2, "the web server and the q cluster run"

        started = time.monotonic()
        os.killpg(console.pid, signum)  # as a terminal's Ctrl-C or `kill -TERM -PGID` would
        output, _ = console.communicate(timeout=25)
        elapsed = time.monotonic() - started
    finally:
        if console.poll() is None:
            os.killpg(console.pid, signal.SIGKILL)
            console.wait()

    text = output.decode(errors="replace")
    assert console.returncode == 0, text
    assert elapsed < 15, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in text and "RecursionError" not in text, text
    assert "Stopped the web server and the q cluster." in text
    assert _session_pids(sessions) == set(), "no web server or cluster process is left"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
