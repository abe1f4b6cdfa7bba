"""Work shared with a forked child: every task done once, the same findings as one process gives, and a child
that fails costs nothing but time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fsdl_check import engine, repo, workers
from fsdl_check.engine import audit
from fsdl_check.model import Finding, Rule
from fsdl_check.parsing import parallel
from fsdl_check.reports import json as json_report

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="children are forked only on Linux")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "usable_cpus", lambda: 2)


def test_every_task_is_done_once_by_one_of_the_two() -> None:
    parent, here = os.getpid(), {}

    def work(i: int) -> int:
        if os.getpid() == parent:
            time.sleep(0.01)  # so the child, started a little later, surely takes some
        here[i] = i * i  # in the child, this lands in the child's copy
        return i * i

    shared = workers.shared_with_a_child(40, work, lambda: os.getpid())

    assert shared is not None
    theirs, child = shared
    assert child != os.getpid() and theirs
    assert not set(theirs) & set(here)  # no task twice...
    assert set(theirs) | set(here) == set(range(40))  # ...and none left out
    assert all(value == i * i for i, value in theirs.items())


def test_a_failing_child_gives_nothing_and_this_process_keeps_its_share() -> None:
    parent, here = os.getpid(), []

    def work(i: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        time.sleep(0.01)  # so the child, started a little later, surely takes some
        here.append(i)
        return i

    assert workers.shared_with_a_child(40, work, lambda: None) is None
    assert 0 < len(here) < 40 and len(here) == len(set(here))  # the caller does the child's share itself


def test_no_child_without_a_second_cpu_or_with_one_task(monkeypatch: pytest.MonkeyPatch) -> None:
    assert workers.shared_with_a_child(1, lambda i: i, lambda: None) is None
    monkeypatch.setattr(workers, "usable_cpus", lambda: 1)
    assert workers.shared_with_a_child(40, lambda i: i, lambda: None) is None


def report_json(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(json_report.render(audit(root)))
    found.pop("duration_s")
    return found


def test_rules_shared_with_a_child_give_the_report_of_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This repository (template, checker, tests: hundreds of modules and every kind of input), audited with the
    rules and the parse shared out and on one process."""
    calls: list[int] = []
    shared = workers.shared_with_a_child

    def counted(count: int, *args: Any) -> Any:
        calls.append(count)
        return shared(count, *args)

    monkeypatch.setattr(workers, "shared_with_a_child", counted)
    monkeypatch.setattr(parallel, "MIN_CHARACTERS_FOR_WORKERS", 1)
    together = report_json(ROOT)
    assert calls, "the rules were not shared with a child"

    monkeypatch.setattr(workers, "usable_cpus", lambda: 1)
    monkeypatch.setattr(parallel, "_usable_cpus", lambda: 1)
    alone = report_json(ROOT)

    assert together == alone


def test_a_file_only_the_childs_rules_could_not_read_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FC002 runs after every other rule, with what the child's rules could not read added. Here this process
    lingers over each of its tasks, so the child takes all but one or two, and only the child's reads fail
    (permission denied cannot be arranged as root, so the read is made to fail)."""
    (tmp_path / "train.py").write_text("import torch\n")
    (tmp_path / "notes.md").write_text("Run `python train.py`.\n")
    parent = os.getpid()
    read = repo._read_regular

    def refusing_in_the_child(
        path: Path, limit: int, problems: dict[str, str] | None = None, rel: str = ""
    ) -> str | None:
        if rel == "notes.md" and problems is not None and os.getpid() != parent:
            problems[rel] = "cannot read: Permission denied"
            return None
        return read(path, limit, problems, rel)

    shared = workers.shared_with_a_child
    child_unreadable: list[dict[str, str]] = []

    def child_does_most(count: int, work: Any, state: Any) -> Any:
        def slow_here(ticket: int) -> Any:  # the last task first: the child soon has the rest
            if os.getpid() == parent:
                time.sleep(0.3)
            return work(count - 1 - ticket)

        found = shared(count, slow_here, state)
        assert found is not None
        child_unreadable.append(found[1])
        return {count - 1 - ticket: value for ticket, value in found[0].items()}, found[1]

    monkeypatch.setattr(repo, "_read_regular", refusing_in_the_child)
    monkeypatch.setattr(workers, "shared_with_a_child", child_does_most)
    monkeypatch.setattr(parallel, "MIN_CHARACTERS_FOR_WORKERS", 1)
    order: list[str] = []
    evaluate = engine._Evaluation._evaluate

    def recording(self: engine._Evaluation, rule: type[Rule]) -> list[Finding]:
        if rule.code not in self.raw:  # worked out, not answered from what was worked out
            order.append(rule.code)
        return evaluate(self, rule)

    monkeypatch.setattr(engine._Evaluation, "_evaluate", recording)

    report = audit(tmp_path)

    assert child_unreadable and "notes.md" in child_unreadable[0]  # only the child met it...
    fc002 = next(r for r in report.results if r.code == "FC002")
    assert [(f.path, f.message) for f in fc002.findings] == [("notes.md", "cannot read: Permission denied")]
    assert order[-1] == "FC002"  # ...and FC002 came after every rule of this process


CHILD_OUTLIVES_ITS_PARENT = """
import os, sys, threading, time
from fsdl_check import workers
from fsdl_check.deadline import THREAD_NAME

workers.usable_cpus = lambda: 2
parent = os.getpid()

def work(i):
    if os.getpid() != parent:
        with open(sys.argv[1], "w") as out:
            out.write(str(os.getpid()))
        time.sleep(60)  # a rule that never ends
    time.sleep(0.05)
    return i

limit = threading.Timer(1.0, lambda: os._exit(2))  # what the deadline does
limit.name, limit.daemon = THREAD_NAME, True
limit.start()
workers.shared_with_a_child(20, work, lambda: None)
"""


def test_a_child_ends_with_its_parent_when_the_time_limit_stops_the_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    ended = subprocess.run([sys.executable, "-c", CHILD_OUTLIVES_ITS_PARENT, str(pid_file)], timeout=30)
    assert ended.returncode == 2
    child = int(pid_file.read_text())
    for _ in range(100):
        if not alive(child):
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)  # not left running after a failure
    assert not alive(child)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left to collect
