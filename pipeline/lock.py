"""One daily job per warehouse: a lock file beside the warehouse that says who holds it.

The kernel's `flock` decides who holds the file (it is released when the holder's process dies,
however it dies), and the file's content says who that is: run id, pid, host, start and the step
it is on. A second job refuses at once, naming the holder. A job that finds the lock free but the
file still naming a holder knows that holder died without cleaning up (SIGKILL, a power cut): it
says so, checks on the same host that the pid is really gone, and takes over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pipeline.errors import DailyLockHeldError


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock."""

    run_id: str
    pid: int
    host: str
    started_at: str
    step: str = ""

    def describe(self) -> str:
        at = f", at step {self.step}" if self.step else ""
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.started_at}{at})"

    @property
    def alive(self) -> bool | None:
        """Whether the pid still runs; None on another host, where we cannot tell."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        return True


def read_holder(path: Path) -> Holder | None:
    """The holder the file names, or None when it names nobody (free, or an older format)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return _parse(text)


def _parse(text: str) -> Holder | None:
    if not text:
        return None
    try:
        data = json.loads(text)
        return Holder(
            run_id=str(data["run_id"]),
            pid=int(data["pid"]),
            host=str(data["host"]),
            started_at=str(data["started_at"]),
            step=str(data.get("step", "")),
        )
    except (ValueError, KeyError, TypeError):
        return None


class DailyLock:
    """The held lock: `step()` keeps the file saying which step the job is on."""

    def __init__(self, path: Path, handle: IO[str], holder: Holder, took_over: Holder | None):
        self.path = path
        self._handle = handle
        self.holder = holder
        # the dead holder this job took over from, if any (the caller says so on screen)
        self.took_over = took_over

    def step(self, name: str) -> None:
        self.holder = Holder(**{**asdict(self.holder), "step": name})
        self._write(self.holder)

    def _write(self, holder: Holder | None) -> None:
        self._handle.seek(0)
        self._handle.truncate()
        if holder is not None:
            self._handle.write(json.dumps(asdict(holder), sort_keys=True))
        self._handle.flush()


@contextmanager
def daily_lock(path: Path, run_id: str) -> Iterator[DailyLock]:
    """Hold the daily lock of one warehouse for the duration of a run, or refuse naming the
    holder (`DailyLockHeldError`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise DailyLockHeldError(_refusal(path, _parse(handle.read().strip()))) from None
        handle.seek(0)
        # the lock is free yet the file names a holder: that job died without cleaning up (a
        # live pid of that number is another program that reused it; the kernel freed the lock)
        previous = _parse(handle.read().strip())
        me = Holder(
            run_id=run_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        )
        lock = DailyLock(path, handle, me, previous)
        lock._write(me)
        try:
            yield lock
        finally:
            lock._write(None)  # a clean end leaves no holder for the next job to wonder about
    finally:
        handle.close()  # closing the descriptor releases the flock


def _refusal(path: Path, holder: Holder | None) -> str:
    if holder is None:
        who = "a job that has not written its name yet"
    else:
        who = holder.describe()
        if holder.alive is False:
            who += "; its pid is gone, but a process it started still has the lock file open"
    return (
        f"another daily job holds {path}: {who}. Not starting; nothing was read or written. "
        "Wait for it to finish (`python -m pipeline status`), then run again."
    )
