"""Parsing on several cores gives the same modules, facts and order as parsing one after the other."""

from __future__ import annotations

import ast
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from fsdl_check import deadline
from fsdl_check.deadline import THREAD_NAME
from fsdl_check.parsing import parallel
from fsdl_check.parsing.python import PythonModule

SOURCES = [
    (
        "src/pkg/train.py",
        "import lightning as L\nfrom torch.utils.tensorboard import SummaryWriter\n\n\n"
        "class Model(L.LightningModule):\n    def forward(self, x: int) -> int:\n        return x\n\n\n"
        "def main(epochs=3):\n    for epoch in range(epochs):\n        loss.backward()\n        optimizer.step()\n"
        "    writer = SummaryWriter(log_dir='runs/x', comment='c')\n"
        "    L.Trainer(max_epochs=epochs).fit(Model())\n\n\n"
        "if __name__ == '__main__':\n    main()\n",
    ),
    ("src/pkg/broken.py", "def f(:\n    pass\n"),
    ("src/pkg/uri.py", "import mlflow\nmlflow.set_tracking_uri('sqlite:///mlflow.db')\n"),
]


def facts(module: PythonModule) -> tuple[Any, ...]:
    return (
        module.path,
        module.error,
        module.error_line,
        module.imports,
        [(c.name, c.line, c.keywords, c.positional, c.last) for c in module.calls],
        module.classes,
        module.loops,
        module.public_functions,
        module.has_main_guard,
    )


#: Chunk sizes parsed by this process (a worker appends to its own copy of the list).
parsed_here: list[int] = []
PARSE_CHUNK = parallel._parse_chunk


def recording_parse_chunk(sources: list[tuple[str, str]], lazy: frozenset[str] = frozenset()) -> list[PythonModule]:
    parsed_here.append(len(sources))
    return PARSE_CHUNK(sources, lazy)


@pytest.fixture
def many_sources(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    monkeypatch.setattr(parallel, "MIN_CHARACTERS_FOR_WORKERS", 2)
    monkeypatch.setattr(parallel, "_usable_cpus", lambda: 2)
    return SOURCES * 4


def test_workers_give_the_serial_facts_in_order(
    many_sources: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_here.clear()
    monkeypatch.setattr(parallel, "_parse_chunk", recording_parse_chunk)
    if not parallel._can_fork():
        pytest.skip("workers are forked only on Linux, from a process without threads")

    modules = parallel.parse_modules(many_sources)

    assert parsed_here == [len(many_sources) // 2]  # the other half came from the worker
    assert [facts(m) for m in modules] == [facts(PythonModule(p, t)) for p, t in many_sources]
    train = modules[-3]
    writer = train.calls_named("SummaryWriter")[0]
    assert writer.module is train and writer.keywords == ("log_dir", "comment")
    assert isinstance(writer.node, ast.Call) and writer.node.lineno == writer.line  # found again by parsing anew


def test_modules_left_ungathered_come_back_from_workers_without_facts_and_gather_the_same(
    many_sources: list[tuple[str, str]],
) -> None:
    if not parallel._can_fork():
        pytest.skip("workers are forked only on Linux, from a process without threads")
    sources = [(f"tests/{i}/{path}", text) for i, (path, text) in enumerate(many_sources)]
    lazy = frozenset(path for path, _ in sources[::2])  # half of them, spread over both hands

    modules = parallel.parse_modules(sources, lazy)

    # the syntax verdict without the facts (a module that does not parse has none to gather)
    assert [m.parsed for m in modules] == [PythonModule(p, t).parsed for p, t in sources]
    assert [m.gathered for m in modules] == [m.path not in lazy or not m.parsed for m in modules]
    assert [facts(m) for m in modules] == [facts(PythonModule(p, t)) for p, t in sources]  # gathered on first use


def test_falls_back_to_this_process_when_no_worker_starts(
    many_sources: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(parallel, "_start_workers", refuse)

    modules = parallel.parse_modules(many_sources)

    assert [facts(m) for m in modules] == [facts(PythonModule(p, t)) for p, t in many_sources]


def test_a_module_pickles_without_its_tree() -> None:
    module = PythonModule(*SOURCES[0])
    assert module.tree is not None  # parsed again on demand, and cached...
    copy = pickle.loads(pickle.dumps(module))

    assert "tree" not in copy.__dict__  # ...but never sent along
    assert facts(copy) == facts(module)
    assert [c.module for c in copy.calls] == [copy] * len(copy.calls)


def test_uneven_hands_on_three_processes_keep_the_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_CHARACTERS_FOR_WORKERS", 2)
    monkeypatch.setattr(parallel, "_usable_cpus", lambda: 3)
    sources = [(f"m{i}.py", f"import mod{i}\nx = {i}\n") for i in range(7)] + SOURCES
    if not parallel._can_fork():
        pytest.skip("workers are forked only on Linux, from a process without threads")

    modules = parallel.parse_modules(sources)

    assert [m.path for m in modules] == [p for p, _ in sources]
    assert [facts(m) for m in modules] == [facts(PythonModule(p, t)) for p, t in sources]
    assert [m.text for m in modules] == [t for _, t in sources]  # the text is this process's own, put back


def test_little_source_is_parsed_here_without_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_here.clear()
    monkeypatch.setattr(parallel, "_parse_chunk", recording_parse_chunk)
    monkeypatch.setattr(parallel, "_usable_cpus", lambda: 4)
    sources = SOURCES * 4  # a few hundred characters: a worker would cost more than it saves

    modules = parallel.parse_modules(sources)

    assert parsed_here == [len(sources)]
    assert [facts(m) for m in modules] == [facts(PythonModule(p, t)) for p, t in sources]


def test_the_deadline_timer_does_not_stop_forking_but_another_thread_does() -> None:
    if sys.platform != "linux":
        pytest.skip("workers are forked only on Linux")
    release = threading.Event()
    timer = threading.Timer(600, lambda: None)
    timer.name = THREAD_NAME
    other = threading.Thread(target=release.wait)
    timer.start()
    try:
        assert parallel._can_fork()  # the hook and the Action run the audit beside this timer
        other.start()
        assert not parallel._can_fork()
    finally:
        timer.cancel()
        release.set()
        other.join()


def test_the_hook_entry_point_parses_on_two_processes(
    tmp_path: Path, many_sources: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m fsdl_check.deadline SECONDS ...` (the pre-commit hook's and the Action's command) runs its timer
    thread beside the audit; the parse must still be shared with a worker."""
    if sys.platform != "linux":
        pytest.skip("workers are forked only on Linux")
    for i, (_, text) in enumerate(many_sources):
        (tmp_path / f"m{i}.py").write_text(text)
    parsed_here.clear()
    monkeypatch.setattr(parallel, "_parse_chunk", recording_parse_chunk)

    code = deadline.main(["60", str(tmp_path), "--no-cache", "--exit-zero", "--output", os.devnull])

    assert code == 0
    assert parsed_here == [len(many_sources) // 2]
