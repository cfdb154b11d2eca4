"""One batch in flight: a sync sends a batch from a helper thread while it prepares the next.

Waiting for the platform's answer to a batch (the sandbox's, or a real platform's, work) used
to be time the sync did nothing. With a pipeline the run's own thread reads, maps and records
while a single helper thread sends one batch; the run still waits for that answer before it
sends the next batch, and records batches in the order it sent them, so its checkpoint (the
cursor and the sync states) only ever covers batches the platform answered.

The helper thread never touches the database: a client's calls into the console's runtime (the
shared rate limiter, the call meter, stored OAuth tokens) and a bulk job's checkpoints are
handed to the run's own thread, which runs them and hands back the result or the exception. So
a test's transaction, SQLite's single writer and Django's per-thread connections all see one
thread doing all of the run's database work, as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class PipelineClosed(RuntimeError):
    """The run stopped while its helper thread still asked it for something."""


class SendPipeline:
    """At most one send in flight for `client`, whose console calls run on this thread.

    While the pipeline is open the client's runtime and job listener are replaced by relays;
    `close()` puts them back.
    """

    def __init__(self, client, listener=None):
        self.client = client
        self._owner = threading.get_ident()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._in_flight: Future | None = None
        self._ended: Future | None = None  # the last send whose end this thread has seen
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-send")
        self._saved = (client.runtime, client.job_listener, client._tokens)
        client.runtime = _RelayedRuntime(self, client.runtime)
        if listener is not None:
            client.job_listener = _RelayedListener(self, listener)
        if client._tokens is not None:  # a token source already handed out reads the database
            client._tokens = _RelayedTokens(self, client._tokens)

    # --- the helper thread's side --------------------------------------------------------------

    def relay(self, function: Callable, *args, starts_send: bool = False, **kwargs) -> Any:
        """Run `function` on the run's thread (at once when called from it) and return its
        result or raise its exception. `starts_send` marks the rate limiter's slot: once it is
        granted the request goes out, and the run's thread goes back to its own work."""
        if threading.get_ident() == self._owner:
            return function(*args, **kwargs)
        done: Future = Future()
        with self._lock:
            if self._closed:
                raise PipelineClosed("The sync stopped before this call could be made.")
            self._requests.put((function, args, kwargs, done, starts_send))
        return done.result()

    # --- the run's side ------------------------------------------------------------------------

    def submit(self, send: Callable[[], Any]) -> Future:
        """Start `send` on the helper thread; return once its request is on its way (or done).

        Only one send may be in flight: the previous one's `result()` must have been taken.
        """
        if self._in_flight is not None:
            raise RuntimeError("A batch is already in flight.")
        future = self._executor.submit(send)
        self._in_flight = future
        future.add_done_callback(lambda f: self._requests.put(f))
        self._serve(future, until_sending=True)
        return future

    def result(self, future: Future) -> Any:
        """Wait for the send in flight, doing its console calls meanwhile; its result."""
        self._serve(future)
        self._in_flight = None
        return future.result()

    def close(self) -> None:
        """Let a send still in flight finish (its calls served), then put the client back."""
        if self._in_flight is not None:
            self._serve(self._in_flight)
            self._in_flight = None
        with self._lock:
            self._closed = True
        while True:  # nothing should be left; anything that is fails rather than hangs
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, Future):
                item[3].set_exception(PipelineClosed("The sync stopped."))
        self._executor.shutdown(wait=True)
        self.client.runtime, self.client.job_listener, self.client._tokens = self._saved

    def _serve(self, future: Future, until_sending: bool = False) -> None:
        while self._ended is not future:
            item = self._requests.get()
            if isinstance(item, Future):
                self._ended = item  # the send ended: nothing more will be asked for it
                continue
            function, args, kwargs, done, starts_send = item
            try:
                done.set_result(function(*args, **kwargs))
            except BaseException as exc:  # handed to the helper thread, raised there
                done.set_exception(exc)
            if until_sending and starts_send:
                return


class _RelayedRuntime:
    """The console's runtime, called on the run's thread whatever thread asks."""

    def __init__(self, pipeline: SendPipeline, runtime):
        self._pipeline, self._runtime = pipeline, runtime

    def acquire(self, key, rate, max_wait, *, priority=False):
        return self._pipeline.relay(
            self._runtime.acquire, key, rate, max_wait, priority=priority, starts_send=True
        )

    def pause(self, key, seconds, rate):
        return self._pipeline.relay(self._runtime.pause, key, seconds, rate)

    def record_call(self, integration, **call):
        return self._pipeline.relay(self._runtime.record_call, integration, **call)

    def tokens_for(self, integration, platform):
        tokens = self._pipeline.relay(self._runtime.tokens_for, integration, platform)
        return _RelayedTokens(self._pipeline, tokens)


class _RelayedTokens:
    """An integration's stored OAuth tokens, read and renewed on the run's thread."""

    def __init__(self, pipeline: SendPipeline, tokens):
        self._pipeline, self._tokens = pipeline, tokens

    def connected(self) -> bool:
        return self._pipeline.relay(self._tokens.connected)

    def access_token(self) -> str:
        return self._pipeline.relay(self._tokens.access_token)

    def refreshed(self, refused_token):
        return self._pipeline.relay(self._tokens.refreshed, refused_token)


class _RelayedListener:
    """A bulk job's checkpoints, saved on the run's thread."""

    def __init__(self, pipeline: SendPipeline, listener):
        self._pipeline, self._listener = pipeline, listener

    def job_submitted(self, job: dict) -> None:
        self._pipeline.relay(self._listener.job_submitted, job)

    def job_progress(self, state: str) -> None:
        self._pipeline.relay(self._listener.job_progress, state)
