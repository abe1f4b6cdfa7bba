"""Parsing many Python modules on several cores.

Parsing is most of an audit's time on a large repository, and CPython parses on one core. Above a few thousand
modules the sources are split into contiguous chunks: worker processes parse all chunks but the first, this process
parses the first meanwhile, and the workers send back each module's facts (`PythonModule` pickles without its syntax
tree). Workers are forked, so they start in milliseconds and import nothing; where forking is not safe (not Linux,
or the calling program runs threads) or a worker cannot be started, everything is parsed here, one after the other.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from typing import TYPE_CHECKING

from fsdl_check.parsing.python import PythonModule

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

#: Below this many modules the start of a worker and the transfer of its results cost more than they save.
MIN_MODULES_FOR_WORKERS = 2000
#: Parsing does not scale much past this many processes (the results are loaded one after the other here).
MAX_PROCESSES = 4


def parse_modules(sources: list[tuple[str, str]]) -> list[PythonModule]:
    """`PythonModule(path, text)` for each of `sources`, in order; on several cores when there are many."""
    processes = min(_usable_cpus(), MAX_PROCESSES)
    if len(sources) < MIN_MODULES_FOR_WORKERS or processes < 2 or not _can_fork():
        return _parse_chunk(sources)
    size = -(-len(sources) // processes)
    chunks = [sources[start : start + size] for start in range(0, len(sources), size)]
    parsed: list[list[PythonModule]] = []
    try:
        with _start_workers(len(chunks) - 1) as pool:
            pending: list[Future[list[PythonModule]]] = [pool.submit(_parse_chunk, chunk) for chunk in chunks[1:]]
            parsed.append(_parse_chunk(chunks[0]))
            for future in pending:
                parsed.append(future.result())
    except Exception:  # no processes allowed, a worker killed (BrokenProcessPool)...: the same parse, here
        parsed += [_parse_chunk(chunk) for chunk in chunks[len(parsed) :]]
    return [module for chunk in parsed for module in chunk]


def _parse_chunk(sources: list[tuple[str, str]]) -> list[PythonModule]:
    # The cycle collector would traverse the syntax trees over and over while they are built (see
    # `engine.audit`); a worker inherits the paused state from a forking audit, but not from every caller.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [PythonModule(path, text) for path, text in sources]
    finally:
        if enabled:
            gc.enable()


def _start_workers(count: int) -> Executor:
    # Imported here: most audits never start a worker, and these imports are a tenth of the start-up time.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    return ProcessPoolExecutor(max_workers=count, mp_context=get_context("fork"))


def _usable_cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _can_fork() -> bool:
    """Forking copies only the calling thread: safe on Linux when this process runs no other thread."""
    return sys.platform == "linux" and threading.active_count() == 1
