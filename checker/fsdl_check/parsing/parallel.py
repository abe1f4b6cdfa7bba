"""Parsing many Python modules on several cores.

Parsing is most of an audit's time on a large repository, and CPython parses on one core. From a few hundred
kilobytes of source on, the modules are dealt out like cards, one to each process in turn (neighbouring modules of
a repository tend to cost alike, so the hands come out even): worker processes parse every hand but the first, this
process parses the first meanwhile, and the workers send back each module's facts without its text, which this
process already holds. Workers are forked (see `fsdl_check.workers`); where forking is not safe or a worker cannot be
started, everything is parsed here, one after the other.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from fsdl_check.parsing.python import PythonModule
from fsdl_check.workers import can_fork as _can_fork
from fsdl_check.workers import usable_cpus as _usable_cpus

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

#: Below this much source (about 40 ms of parsing) the start of a worker and the transfer of its results cost more
#: than they save. Measured on pytorch-lightning's 645 modules (5.4 MB): 0.92 s on one process, 0.55 s on two.
MIN_CHARACTERS_FOR_WORKERS = 250_000
#: Parsing does not scale much past this many processes (the results are loaded one after the other here).
MAX_PROCESSES = 4


def parse_modules(sources: list[tuple[str, str]], lazy: frozenset[str] = frozenset()) -> list[PythonModule]:
    """`PythonModule(path, text)` for each of `sources`, in order, with `gather=False` for the paths in `lazy`; on
    several cores when there is much source."""
    processes = min(_usable_cpus(), MAX_PROCESSES, len(sources))
    if processes < 2 or sum(len(text) for _, text in sources) < MIN_CHARACTERS_FOR_WORKERS or not _can_fork():
        return _parse_chunk(sources, lazy)
    hands = [sources[start::processes] for start in range(processes)]
    parsed: list[list[PythonModule]] = []
    try:
        with _start_workers(processes - 1) as pool:
            pending: list[Future[list[tuple[Any, ...]]]] = [
                pool.submit(_facts_of_chunk, hand, lazy & {path for path, _ in hand}) for hand in hands[1:]
            ]
            parsed.append(_parse_chunk(hands[0], lazy))
            for hand, future in zip(hands[1:], pending, strict=True):
                parsed.append([_with_text(state, text) for state, (_, text) in zip(future.result(), hand, strict=True)])
    except Exception:  # no processes allowed, a worker killed (BrokenProcessPool)...: the same parse, here
        parsed += [_parse_chunk(hand, lazy) for hand in hands[len(parsed) :]]
    ordered: list[PythonModule] = [None] * len(sources)  # type: ignore[list-item]  # every slot is filled below
    for start, modules in enumerate(parsed):
        ordered[start::processes] = modules
    return ordered


def _parse_chunk(sources: list[tuple[str, str]], lazy: frozenset[str] = frozenset()) -> list[PythonModule]:
    # The cycle collector would traverse the syntax trees over and over while they are built (see
    # `engine.audit`); a worker inherits the paused state from a forking audit, but not from every caller.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [PythonModule(path, text, gather=path not in lazy) for path, text in sources]
    finally:
        if enabled:
            gc.enable()


def _facts_of_chunk(sources: list[tuple[str, str]], lazy: frozenset[str]) -> list[tuple[Any, ...]]:
    """In a worker: each module's pickled state with its text left out (the caller has it)."""
    states = [module.__getstate__() for module in _parse_chunk(sources, lazy)]
    return [state[:1] + state[2:] for state in states]


def _with_text(state: tuple[Any, ...], text: str) -> PythonModule:
    module = PythonModule.__new__(PythonModule)
    module.__setstate__((state[0], text, *state[1:]))
    return module


def _start_workers(count: int) -> Executor:
    # Imported here: most audits never start a worker, and these imports are a tenth of the start-up time.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    return ProcessPoolExecutor(max_workers=count, mp_context=get_context("fork"))
