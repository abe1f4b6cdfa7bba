"""Work shared with forked child processes, on Linux, where forking is cheap and safe.

An audit of a large repository spends most of its time parsing Python and then running the rules, and CPython runs
either on one core. Children are forked, so they start in milliseconds with everything this process has read and
parsed, and import nothing. Forking copies only the calling thread, so it is done only where no other thread could
hold a lock the child needs; the one thread allowed beside the caller is the time limit's timer
(`fsdl_check.deadline`, which the pre-commit hook and the Action run through), which only sleeps.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from fsdl_check.deadline import THREAD_NAME


def usable_cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a child may be forked here: on Linux, with no thread but the caller and the deadline's timer."""
    if sys.platform != "linux":
        return False
    caller = threading.current_thread()
    return all(thread is caller or thread.name == THREAD_NAME for thread in threading.enumerate())


def shared_with_a_child(
    count: int, work: Callable[[int], Any], child_state: Callable[[], Any]
) -> tuple[dict[int, Any], Any] | None:
    """Call `work(i)` for each `i` in `range(count)`, shared between this process and one forked child: each takes
    the next number from a pipe of tickets when it is done with the last, so neither waits on a slow task of the
    other's. Returns what the child worked out, `{i: work(i)}`, and `child_state()` as the child ended; this
    process keeps its own results wherever `work` puts them. None when no child could be started or it failed:
    then the numbers the child took are nobody's, and the caller does whatever is missing itself."""
    if not 2 <= count <= 255 or usable_cpus() < 2 or not can_fork():
        return None
    import pickle  # here: most audits never share their rules

    tickets, results = os.pipe(), os.pipe()
    os.write(tickets[1], bytes(range(count)))  # one byte each, well within a pipe's buffer
    os.close(tickets[1])
    parent = os.getpid()
    try:
        child = os.fork()
    except OSError:
        for fd in (tickets[0], *results):
            os.close(fd)
        return None
    if child == 0:  # pragma: no cover - the child's lines are not traced
        status = 1
        try:
            os.close(results[0])
            _die_with(parent)
            done = {ticket[0]: work(ticket[0]) for ticket in iter(lambda: os.read(tickets[0], 1), b"")}
            with os.fdopen(results[1], "wb") as out:
                pickle.dump((done, child_state()), out, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flushing of the parent's buffered output
    os.close(results[1])
    with os.fdopen(results[0], "rb") as source:
        try:
            for ticket in iter(lambda: os.read(tickets[0], 1), b""):
                work(ticket[0])
            data = source.read()
            _, status = os.waitpid(child, 0)
        except BaseException:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            raise
        finally:
            os.close(tickets[0])
    if status != 0:
        return None
    try:
        found: tuple[dict[int, Any], Any] = pickle.loads(data)  # noqa: S301 - from our own child, through a pipe
    except Exception:  # a child cut short: its part is done again here
        return None
    return found


def _die_with(parent: int) -> None:
    """Have the kernel end this child when its parent ends: the deadline ends only the parent."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)
