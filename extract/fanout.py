"""Calls an API has no range read for, made several at a time (the Odds API's historical odds:
one call per event and snapshot).

`fan_out(tasks, workers)` runs the tasks on a small thread pool and returns their results in the
order of `tasks`, whatever order they finished in: what the caller builds from them is the same
as one call after the other. The first failure cancels the rest: tasks not started are not
started, a task waiting to retry stops waiting (`pause`), a credit reservation waiting for calls
in flight stops (`cancelled`); calls already on the wire end by their own bounds (timeouts, the
call's deadline) and are recorded like any other. Only then is the failure raised in the
caller's thread, the same exception a sequential run would have raised: the failure of the
earliest task (in the order asked) among those that failed on their own, so a run fails as it
always did and nothing is half-built.

Pacing and credits are not this module's business: every call still goes through its session's
call policy (extract/ratelimit.py, extract/odds_quota.py), which is thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")

_local = threading.local()


class FanOutCancelledError(Exception):
    """Another task of the same fan-out failed first: this one stopped (or never started)."""


def cancel_event() -> threading.Event | None:
    """The cancel flag of the fan-out the calling thread works for (None outside one)."""
    return getattr(_local, "cancel", None)


def cancelled() -> bool:
    event = cancel_event()
    return event is not None and event.is_set()


def pause(seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleep `seconds`, or raise `FanOutCancelledError` once the thread's fan-out is cancelled.

    Outside a fan-out, or with a sleep of the caller's own (a test's, a replay's no-op), it is
    `sleep(seconds)` after a check."""
    event = cancel_event()
    if event is None:
        sleep(seconds)
        return
    if event.is_set():
        raise FanOutCancelledError
    if sleep is not time.sleep:
        sleep(seconds)
    elif event.wait(seconds):
        raise FanOutCancelledError


def fan_out(tasks: Sequence[Callable[[], T]], workers: int, *, name: str = "fanout") -> list[T]:
    """Each task's result, in the order of `tasks`; at most `workers` run at once.

    With one worker (or one task) the tasks run in the caller's thread, one after the other,
    exactly as before there was a pool."""
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    cancel = threading.Event()

    def run(task: Callable[[], T]) -> T:
        if cancel.is_set():
            raise FanOutCancelledError
        _local.cancel = cancel
        try:
            return task()
        except BaseException:
            cancel.set()
            raise
        finally:
            _local.cancel = None

    pool = ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix=name)
    try:
        futures = [pool.submit(run, task) for task in tasks]
        wait(futures, return_when=FIRST_EXCEPTION)
    except BaseException:  # interrupted while waiting (Ctrl-C): stop the rest, then re-raise
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    if cancel.is_set():
        for future in futures:
            future.cancel()
    pool.shutdown(wait=True)  # no call of this fan-out outlives it, failed or not
    failures = [
        error
        for future in futures
        if not future.cancelled()
        and (error := future.exception()) is not None
        and not isinstance(error, FanOutCancelledError)
    ]
    if failures:
        raise failures[0]
    return [future.result() for future in futures]
