"""The fact cache: hits, misses, invalidation, damage, concurrency, an unwritable directory, and the same findings
with and without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check import cache as fact_cache
from fsdl_check.cache import CACHE_DIR_VARIABLE, FactCache, content_key, default_directory
from fsdl_check.cli import main
from fsdl_check.engine import Report, audit
from fsdl_check.parsing.python import PythonModule

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Every kind of fact a module yields, and one module that does not parse.
SOURCES = {
    "pyproject.toml": '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.11"\n',
    "src/demo/__init__.py": '"""Démo: non-ASCII text survives the cache."""\n',
    "src/demo/model.py": (
        "import torch\nfrom torch import nn\nimport numpy.random as npr\n\n"
        "class Net(nn.Module):\n    def forward(self, x):\n        return x\n\n"
        "    def size(self) -> int:\n        return 1\n\n"
        "def helper(a: int, *args: int, **kw: str) -> int:\n    return a\n"
    ),
    "train.py": (
        "import lightning as L\nimport mlflow\n\n"
        "def main():\n    L.seed_everything(7)\n    mlflow.set_tracking_uri('http://10.0.0.1:5000')\n"
        "    for epoch in range(3):\n        loss = model(x, *extra, key=1, **more)\n        loss.backward()\n"
        "        opt.step()\n    torch.save({}, f'{epoch}.ckpt')\n\n"
        "if __name__ == '__main__':\n    main()\n"
    ),
    "broken.py": "def f(:\n    pass\n",
    "tests/test_model.py": "def test_model():\n    assert True\n",
}


def outcome(report: Report) -> list[tuple[object, ...]]:
    """Everything a report says but its timing: each rule's status, severity, reason and findings."""
    return [(r.code, r.status, r.severity, r.reason, r.findings, r.suppressed) for r in report.results]


def entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def test_second_audit_reads_every_module_from_the_cache(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    root = make_repo(SOURCES)
    first = FactCache()
    audit(root, cache=first)
    assert (first.hits, first.misses) == (0, 5)
    assert len(entries(cache_dir)) == 5
    second = FactCache()
    audit(root, cache=second)
    assert (second.hits, second.misses) == (5, 0)


def test_a_changed_file_misses_and_the_rest_hit(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    root = make_repo(SOURCES)
    audit(root, cache=FactCache())
    (root / "train.py").write_text(SOURCES["train.py"] + "\nimport wandb\n")
    again = FactCache()
    report = audit(root, cache=again)
    assert (again.hits, again.misses) == (4, 1)
    assert report.findings == audit(root).findings  # the new text's facts, not the old ones


def test_identical_files_share_one_entry(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    root = make_repo({"a.py": "import os\n", "pkg/b.py": "import os\n"})
    used = FactCache()
    audit(root, cache=used)
    assert len(entries(cache_dir)) == 1
    again = FactCache()
    audit(root, cache=again)
    assert (again.hits, again.misses) == (2, 0)  # both files read the one entry


def test_another_checker_or_python_version_uses_other_entries(
    make_repo: Callable[..., Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(SOURCES)
    audit(root, cache=FactCache())
    current = fact_cache.generation()
    monkeypatch.setattr(fact_cache, "generation", lambda: "9.9.9-py399-000000000000")
    other = FactCache()
    audit(root, cache=other)
    assert (other.hits, other.misses) == (0, 5)
    assert {p.relative_to(cache_dir).parts[0] for p in entries(cache_dir)} == {current, "9.9.9-py399-000000000000"}


def test_generation_names_the_checker_and_python_versions() -> None:
    from fsdl_check import __version__

    assert fact_cache.generation().startswith(f"{__version__}-py{sys.version_info[0]}{sys.version_info[1]}-")


def test_no_cache_neither_reads_nor_writes(
    make_repo: Callable[..., Path], cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(SOURCES)
    main([str(root), "--no-cache", "--exit-zero", "--format", "json"])
    assert not cache_dir.exists()
    uncached = json.loads(capsys.readouterr().out)
    main([str(root), "--exit-zero", "--format", "json"])
    assert len(entries(cache_dir)) == 5  # the command line caches by default
    cached = json.loads(capsys.readouterr().out)
    uncached.pop("duration_s"), cached.pop("duration_s")
    assert cached == uncached


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\xff\xfe not json",
        b'{"a": 1}',
        b"[]",
        b'["wrong key", []]',
        b'["KEY", [1, 2]]',
        b'["KEY", [null]]',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "not-utf8", "an-object", "empty-list", "other-key", "short-facts", "wrong-arity", "nested-deep"],
)
def test_a_damaged_entry_is_ignored_and_rewritten(
    make_repo: Callable[..., Path], cache_dir: Path, damage: bytes
) -> None:
    root = make_repo(SOURCES)
    expected = outcome(audit(root))
    audit(root, cache=FactCache())
    for entry in entries(cache_dir):
        key = entry.parent.name + entry.stem
        entry.write_bytes(damage.replace(b"KEY", key.encode()))
    damaged = FactCache()
    assert outcome(audit(root, cache=damaged)) == expected
    assert damaged.hits == 0
    healed = FactCache()
    assert outcome(audit(root, cache=healed)) == expected
    assert (healed.hits, healed.misses) == (5, 0)


def test_facts_of_the_wrong_types_are_a_miss(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    root = make_repo({"a.py": "import os\nprint(1)\n"})
    audit(root, cache=FactCache())
    (entry,) = entries(cache_dir)
    key, facts = json.loads(entry.read_bytes())
    facts[3] = [[5, 1, [], 0]]  # a call whose name is a number
    entry.write_text(json.dumps([key, facts]))
    again = FactCache()
    report = audit(root, cache=again)
    assert (again.hits, again.misses) == (0, 1)
    assert outcome(report) == outcome(audit(root))


def test_an_unwritable_cache_directory_leaves_the_audit_uncached(
    make_repo: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(SOURCES)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(blocker / "cache"))  # cannot be created, even by root
    expected = outcome(audit(root))
    used = FactCache()
    assert outcome(audit(root, cache=used)) == expected
    assert not used.writable
    assert main([str(root), "--exit-zero"]) == 0
    assert capsys.readouterr().err == ""  # silently


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_cache_directory_leaves_the_audit_uncached(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    root = make_repo(SOURCES)
    cache_dir.mkdir()
    cache_dir.chmod(0o500)
    try:
        used = FactCache()
        assert outcome(audit(root, cache=used)) == outcome(audit(root))
        assert not used.writable
    finally:
        cache_dir.chmod(0o700)


def test_two_audits_at_once_share_the_cache(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    files = dict(SOURCES)
    files.update(
        {f"src/demo/m{i}.py": f"import os\n\ndef f{i}(x: int) -> int:\n    return x + {i}\n" for i in range(300)}
    )
    root = make_repo(files)
    command = [sys.executable, "-m", "fsdl_check", str(root), "--format", "json", "--exit-zero"]
    environment = {**os.environ, CACHE_DIR_VARIABLE: str(cache_dir)}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment) for _ in "ab"]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err.decode() for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    for report in reports:
        report.pop("duration_s")
    assert reports[0] == reports[1]
    assert len(entries(cache_dir)) == 305  # one per distinct text, every one whole
    assert not [p for p in cache_dir.rglob("*") if p.name.endswith(".tmp")]
    for entry in entries(cache_dir):
        assert json.loads(entry.read_bytes())[0] == entry.parent.name + entry.stem
    warm = FactCache()
    assert outcome(audit(root, cache=warm)) == outcome(audit(root))
    assert warm.misses == 0


@pytest.mark.parametrize("tree", ["checker", "tests", "template", "."])
def test_findings_are_the_same_with_and_without_the_cache(tree: str, cache_dir: Path) -> None:
    root = REPO_ROOT / tree
    expected = outcome(audit(root))
    assert outcome(audit(root, cache=FactCache())) == expected  # cold: parsed and written
    warm = FactCache()
    assert outcome(audit(root, cache=warm)) == expected  # warm: every module from the cache
    assert warm.misses == 0 and warm.hits > 0


def test_every_fact_survives_the_cache(make_repo: Callable[..., Path]) -> None:
    """Facts through JSON and back equal the parsed ones, for every module of this repository and the samples."""
    root = make_repo(SOURCES)
    paths = [*REPO_ROOT.glob("checker/**/*.py"), *REPO_ROOT.glob("tests/**/*.py"), *root.rglob("*.py")]
    for path in paths:
        text = path.read_text()
        parsed = PythonModule(str(path), text)
        again = PythonModule.from_facts(str(path), text, json.loads(json.dumps(parsed.facts())))
        assert again.facts() == parsed.facts(), path
        assert [(c.name, c.last, c.line, c.keywords, c.positional) for c in again.calls] == [
            (c.name, c.last, c.line, c.keywords, c.positional) for c in parsed.calls
        ]
        assert again.classes == parsed.classes and again.public_functions == parsed.public_functions
        if parsed.calls:  # a call's node is found again from the rebuilt module
            assert again.calls[-1].node.lineno == parsed.calls[-1].node.lineno


def test_content_key_depends_on_every_byte() -> None:
    assert content_key("import os\n") != content_key("import os \n")
    assert content_key("é") == content_key("é")


def test_default_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "explicit"))
    assert default_directory() == tmp_path / "explicit"
    monkeypatch.delenv(CACHE_DIR_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directory() == tmp_path / "xdg" / "fsdl-check"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if sys.platform != "win32":
        assert default_directory() == tmp_path / "home" / ".cache" / "fsdl-check"


def test_a_warm_audit_parses_no_module_for_its_facts(
    make_repo: Callable[..., Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work a warm run saves, counted rather than timed: each module's one parse for its facts, and only that
    (modules that rules look at closely are still parsed again on demand, as without the cache)."""
    from fsdl_check.parsing import python as python_module

    files = dict(SOURCES)
    files.update({f"src/demo/plain_{i}.py": f"def f{i}(x: int) -> int:\n    return x * {i}\n" for i in range(40)})
    root = make_repo(files, git=True)
    parsed: list[str] = []
    original = python_module._parse

    def counting(path: str, text: str) -> object:
        parsed.append(path)
        return original(path, text)

    monkeypatch.setattr(python_module, "_parse", counting)
    audit(root, cache=FactCache())
    cold = list(parsed)
    parsed.clear()
    audit(root, cache=FactCache())
    warm = list(parsed)
    modules = sorted(p for p in files if p.endswith(".py") and not p.startswith("tests/"))
    assert sorted(set(cold)) == modules  # cold: every module parsed (some again, for a rule's closer look)...
    for path in modules:
        assert warm.count(path) == cold.count(path) - 1, path
    assert "tests/test_model.py" not in cold + warm  # ...but a test module, whose syntax is checked without a parse
