"""Shared rate limiters compared: ours (integrations/ratelimit.py) against pyrate-limiter and limits.

    .venv/bin/pip install pyrate-limiter filelock limits   # bench-only, not in requirements
    .venv/bin/python bench/rate_limiter.py

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379; it
creates and drops its own PostgreSQL database, uses (and flushes) Redis db 14 only, and puts its
SQLite files in a temporary folder it removes. The console's own database is not touched.

For each limiter it measures, every figure from child processes of this script:
  overhead    one process, a limit far too high to ever wait: time per acquire (median, p95)
  contention  two processes, the same limit: acquires per second together, with no waiting
  shared      two processes acquiring as fast as they can under one shared limit (20/s by default)
              for a few seconds: the rate they achieve together and the most grants seen in any
              1-second window (a grant's time is when acquire returned, i.e. when the request
              would be sent)
  pause       (where the limiter can express it) the same two processes; one of them is told
              "Retry-After: 1" after 1 s and pauses the shared limit: how long the *other*
              process then goes without a grant
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/14"

BACKENDS = {
    "ours-sqlite": "ours: integrations/ratelimit.py, GCRA, SQLite file (WAL, IMMEDIATE)",
    "ours-postgres": "ours: integrations/ratelimit.py, GCRA, PostgreSQL (SELECT ... FOR UPDATE)",
    "pyrate-sqlite": "pyrate-limiter SQLiteBucket + file lock (sliding-window log)",
    "pyrate-redis": "pyrate-limiter RedisBucket (sliding-window log, Lua)",
    "pyrate-redis-gcra": "pyrate-limiter StateBucket(GCRA) + RedisStateStore (Lua)",
    "limits-redis": "limits MovingWindowRateLimiter + RedisStorage (Lua); own wait loop",
}
# Backends whose "every process pauses for N s" this script can exercise (see make_pause).
PAUSABLE = ("ours-sqlite", "ours-postgres", "pyrate-redis-gcra")


# --------------------------------------------------------------------------------------------
# The limiters, each behind the same two calls: acquire(deadline) -> bool, and close().
# --------------------------------------------------------------------------------------------


class Ours:
    def __init__(self, key: str, count: int, per_seconds: float = 1.0):
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharpsend.settings")
        import django

        django.setup()
        from django.db import connection

        from integrations import ratelimit

        self.ratelimit = ratelimit
        self.key = key
        self.rate = ratelimit.Rate(count=count, per_seconds=per_seconds)
        connection.ensure_connection()

    def acquire(self, deadline: float | None = None) -> bool:
        if deadline is None:
            self.ratelimit.acquire(self.key, self.rate)
            return True
        try:
            self.ratelimit.acquire(self.key, self.rate, max_wait=max(0.0, deadline - time.time()))
        except self.ratelimit.RateLimitWaitTooLong:
            return False
        return True

    def pause(self, seconds: float) -> None:
        self.ratelimit.pause(self.key, seconds, self.rate)

    def close(self) -> None:
        from django.db import connection

        connection.close()


class Pyrate:
    """pyrate-limiter's blocking Limiter over one of its buckets."""

    def __init__(self, kind: str, key: str, count: int, per_ms: int, workdir: str, burst: int):
        from pyrate_limiter import (
            GCRA,
            Limiter,
            Rate,
            RedisBucket,
            RedisStateStore,
            SQLiteBucket,
            StateBucket,
        )

        self.key = key
        if kind == "pyrate-sqlite":
            bucket = SQLiteBucket.init_from_file(
                [Rate(count, per_ms)],
                table=key.replace(":", "_").replace("-", "_"),
                db_path=str(Path(workdir) / "pyrate.sqlite"),
                use_file_lock=True,
            )
        else:
            from redis import Redis

            self.redis = Redis.from_url(REDIS_URL)
            if kind == "pyrate-redis":
                bucket = RedisBucket.init([Rate(count, per_ms)], self.redis, key)
            else:
                # burst=1 under the shared limit, as ours: evenly spaced, so no 1-second
                # window holds more than `count` (the library's default burst=count would
                # allow nearly 2 x count in one window). Its clock has 1 ms resolution, so the
                # overhead run (an effectively unlimited rate) needs a burst to never wait.
                bucket = StateBucket(
                    [Rate(count, per_ms, burst=burst)],
                    algorithm=GCRA(),
                    store=RedisStateStore(self.redis, key),
                )
        # The default buffer_ms=50 (added to every wait) would cap a burst=1 GCRA at 20/s to
        # about 10/s, so the GCRA variant gets a 5 ms buffer; the log buckets keep the default.
        self.limiter = Limiter(bucket, buffer_ms=5 if kind == "pyrate-redis-gcra" else 50)

    def acquire(self, deadline: float | None = None) -> bool:
        if deadline is None:
            return self.limiter.try_acquire(self.key)
        remaining = deadline - time.time()
        if remaining <= 0:
            return False
        return self.limiter.try_acquire(self.key, timeout=remaining)

    def pause(self, seconds: float) -> None:
        """No API for this in pyrate-limiter. For the GCRA state in Redis it can be done by
        pushing the stored theoretical arrival time (field tat1, epoch µs, an internal layout)
        forward, and keeping the key alive that long (the library expires it after ~2
        intervals)."""
        lua = """
        local cur = tonumber(redis.call('HGET', KEYS[1], 'tat1') or '0')
        local resume = tonumber(ARGV[1])
        if resume > cur then
            redis.call('HSET', KEYS[1], 'tat1', string.format('%.0f', resume))
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        """
        resume_us = int((time.time() + seconds) * 1_000_000)
        self.redis.eval(lua, 1, self.key, resume_us, int(seconds * 1000) + 1000)

    def close(self) -> None:
        self.limiter.close()


class Limits:
    """`limits` only answers yes/no; waiting is the caller's job, so here is the obvious loop."""

    def __init__(self, key: str, count: int, per_seconds: int):
        from limits import RateLimitItemPerSecond
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        self.item = RateLimitItemPerSecond(count, per_seconds)
        self.limiter = MovingWindowRateLimiter(RedisStorage(REDIS_URL))
        self.key = key

    def acquire(self, deadline: float | None = None) -> bool:
        while True:
            if self.limiter.hit(self.item, self.key):
                return True
            reset_at = self.limiter.get_window_stats(self.item, self.key).reset_time
            now = time.time()
            if deadline is not None and reset_at > deadline:
                return False
            time.sleep(min(max(reset_at - now, 0.001), 1.0))

    def close(self) -> None:
        pass


def make(backend: str, key: str, count: int, workdir: str, burst: int = 1):
    if backend.startswith("ours-"):
        return Ours(key, count)
    if backend.startswith("pyrate-"):
        return Pyrate(backend, key, count, 1000, workdir, burst)
    return Limits(key, count, 1)


# --------------------------------------------------------------------------------------------
# Child processes: each prints one JSON line last.
# --------------------------------------------------------------------------------------------


def child_overhead(backend: str, p: dict) -> dict:
    limiter = make(backend, p["key"], 10_000_000, p["workdir"], burst=10_000_000)
    for _ in range(50):  # warm-up: connection, row or key creation, script loading
        limiter.acquire()
    samples = []
    t0 = time.perf_counter()
    for _ in range(p["n"]):
        a = time.perf_counter_ns()
        ok = limiter.acquire()
        samples.append(time.perf_counter_ns() - a)
        assert ok
    total = time.perf_counter() - t0
    limiter.close()
    samples.sort()
    return {
        "median_us": statistics.median(samples) / 1000,
        "p95_us": samples[int(len(samples) * 0.95)] / 1000,
        "per_s": p["n"] / total,
    }


def child_timed(backend: str, p: dict) -> dict:
    """Acquire until `seconds` after the start signal; return the grant times."""
    limiter = make(backend, p["key"], p["count"], p["workdir"], burst=p.get("burst", 1))
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    end = start + p["seconds"]
    pause_at = start + p["pause_after"] if p.get("pause_after") is not None else None
    paused = None
    grants = []
    time.sleep(max(0.0, start - time.time()))
    while time.time() < end:
        if pause_at is not None and paused is None and time.time() >= pause_at:
            paused = time.time()
            limiter.pause(p["pause_seconds"])
        if not limiter.acquire(deadline=end):
            break
        grants.append(time.time())
    limiter.close()
    return {"grants": grants, "paused_at": paused, "start": start, "end": end}


# --------------------------------------------------------------------------------------------
# The parent.
# --------------------------------------------------------------------------------------------


def run_child(env: dict, mode: str, backend: str, params: dict) -> dict:
    out = subprocess.run(
        [PYTHON, __file__, "--child", mode, backend, json.dumps(params)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_pair(env: dict, backend: str, params: list[dict]) -> list[dict]:
    """Start both children, wait until both are set up, then give them one start time."""
    procs = [
        subprocess.Popen(
            [PYTHON, __file__, "--child", "timed", backend, json.dumps(p)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in params
    ]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{backend}: a child failed to start")
        start = time.time() + 0.3
        for proc in procs:
            proc.stdin.write(f"{start}\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=max(p["seconds"] for p in params) + 60)
            if proc.returncode:
                raise RuntimeError(f"{backend}: a child exited with {proc.returncode}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def worst_window(times: list[float], width: float = 1.0) -> int:
    """Most grants in any half-open window [t, t + width)."""
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


def flush_redis() -> None:
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--n", type=int, default=2000, help="acquires for the overhead figure")
    parser.add_argument("--limit", type=int, default=20, help="shared limit, per second")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each shared run")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, backend, params = args.child
        fn = child_overhead if mode == "overhead" else child_timed
        print(json.dumps(fn(backend, json.loads(params))))
        return

    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    import filelock
    import limits
    import psycopg
    import pyrate_limiter

    started = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="sharpsend-bench-rl-")
    pg_db = f"sharpsend_bench_rl_{os.getpid()}"
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sharpsend.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-not-a-secret-key-0123456789abcdef"),
        "SALT_KEY": os.environ.get("SALT_KEY", "bench-salt"),
    }
    base_env.pop("REDIS_URL", None)  # ours must not depend on Redis
    envs = {b: dict(base_env) for b in backends}
    if "ours-sqlite" in envs:
        envs["ours-sqlite"]["DATABASE_URL"] = f"sqlite:///{workdir}/ours.sqlite3"
    if "ours-postgres" in envs:
        envs["ours-postgres"]["DATABASE_URL"] = (
            f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{pg_db}"
        )
    pg_created = False
    results: dict[str, dict] = {}
    try:
        flush_redis()
        if "ours-postgres" in envs:
            with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_db}"')
            pg_created = True
        for b in ("ours-sqlite", "ours-postgres"):
            if b in envs:
                subprocess.run(
                    [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
                    env=envs[b],
                    check=True,
                )
        print(
            f"pyrate-limiter {pyrate_limiter.__version__}, limits {limits.__version__}, "
            f"filelock {filelock.__version__}; {os.cpu_count()} CPUs; "
            f"shared limit {args.limit}/s for {args.seconds:g} s",
            flush=True,
        )

        for b in backends:
            env = envs[b]
            common = {"workdir": workdir}
            r = results[b] = {}
            r["overhead"] = run_child(
                env, "overhead", b, {**common, "key": f"bench:{b}:overhead", "n": args.n}
            )
            pair = run_pair(
                env,
                b,
                [
                    {
                        **common,
                        "key": f"bench:{b}:contention",
                        "count": 10_000_000,
                        "burst": 10_000_000,
                        "seconds": 1.0,
                    }
                ]
                * 2,
            )
            r["contention_per_s"] = sum(len(x["grants"]) for x in pair) / 1.0
            shared = {
                **common,
                "key": f"bench:{b}:shared",
                "count": args.limit,
                "seconds": args.seconds,
            }
            pair = run_pair(env, b, [shared, shared])
            times = sorted(t for x in pair for t in x["grants"])
            r["shared"] = {
                "grants": [len(x["grants"]) for x in pair],
                "rate": len(times) / args.seconds,
                "worst_1s": worst_window(times),
            }
            if b in PAUSABLE:
                pausing = {**shared, "key": f"bench:{b}:pause", "pause_after": 1.0}
                pausing["pause_seconds"] = 1.0
                pair = run_pair(env, b, [pausing, {**pausing, "pause_after": None}])
                paused_at = pair[0]["paused_at"]
                other = pair[1]["grants"]
                gaps = [b_ - a for a, b_ in zip(other, other[1:], strict=False)]
                everyone = sorted(t for x in pair for t in x["grants"])
                r["pause"] = {
                    "other_grants": len(other),
                    "other_longest_gap": max(gaps) if gaps else float("nan"),
                    "grants_during_pause": sum(paused_at <= t < paused_at + 1.0 for t in everyone),
                }
            o, s = r["overhead"], r["shared"]
            line = (
                f"{b:>18}: acquire median {o['median_us']:7.0f} µs, p95 {o['p95_us']:7.0f} µs "
                f"({o['per_s']:,.0f}/s); 2 procs unlimited {r['contention_per_s']:,.0f}/s; "
                f"2 procs under {args.limit}/s: {s['rate']:.1f}/s "
                f"({'+'.join(map(str, s['grants']))}), worst 1 s window {s['worst_1s']}"
            )
            if "pause" in r:
                p = r["pause"]
                line += (
                    f"; pause 1 s: other process waited {p['other_longest_gap']:.2f} s, "
                    f"{p['grants_during_pause']} grants during it"
                )
            print(line, flush=True)
    finally:
        flush_redis()
        if pg_created:
            with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\n| limiter | median µs | p95 µs | 2 procs, no limit /s | 2 procs under "
        f"{args.limit}/s: rate | split | worst 1 s window | pause for all |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for b, r in results.items():
        o, s = r["overhead"], r["shared"]
        if "pause" in r:
            p = r["pause"]
            pause = (
                f"yes: other process idle {p['other_longest_gap']:.2f} s "
                f"({p['other_grants']} grants in all), "
                f"{p['grants_during_pause']} grants in the pause"
            )
        else:
            pause = "no (see doc)"
        print(
            f"| {b} | {o['median_us']:.0f} | {o['p95_us']:.0f} | {r['contention_per_s']:,.0f} | "
            f"{s['rate']:.1f} | {'+'.join(map(str, s['grants']))} | {s['worst_1s']} | {pause} |"
        )
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
