"""The report cache: an unchanged repository gets the stored report; any change a file's stamp shows (content,
mode, a file added, removed or staged), another configuration, a damaged entry or a tree still being edited gets a
fresh audit; and the report is the same as without the cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check import engine, report_cache
from fsdl_check.cache import FactCache
from fsdl_check.config import Config
from fsdl_check.engine import Report, audit

FILES = {
    "pyproject.toml": '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.11"\n',
    "src/demo/__init__.py": '"""Demo."""\n',
    "train.py": "import torch\n\nfor epoch in range(3):\n    loss.backward()\n    opt.step()\n",
    "notes.txt": "aaaa\n",
}


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as left alone at once (the real wait, `QUIET_S`, has a test of its own)."""
    monkeypatch.setattr(report_cache, "QUIET_S", 0.0)


def outcome(report: Report) -> list[tuple[object, ...]]:
    return [(r.code, r.status, r.severity, r.reason, r.findings, r.suppressed) for r in report.results] + [
        (report.kind, report.files, report.kind_reason)
    ]


def no_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, an audit that runs the rules fails the test: the report must come from the cache."""

    def refuse(self: object) -> None:
        raise AssertionError("the rules ran: the stored report was not used")

    monkeypatch.setattr(engine._Evaluation, "run", refuse)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def test_an_unchanged_repository_gets_the_stored_report(
    make_repo: Callable[..., Path], cache_dir: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(FILES, git=True)
    first = audit(root, cache=True)
    fresh = audit(root, cache=False)
    no_evaluation(monkeypatch)
    again = audit(root, cache=True)
    assert outcome(again) == outcome(first) == outcome(fresh)


def count_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time an audit runs the rules (a cache miss)."""
    ran: list[int] = []
    real = engine._Evaluation.run

    def run(self: engine._Evaluation) -> list[engine.RuleResult]:
        ran.append(1)
        return real(self)

    monkeypatch.setattr(engine._Evaluation, "run", run)
    return ran


@pytest.mark.parametrize(
    "change",
    [
        "same-size edit, modification time put back",
        "replaced by a copy with the original's times",
        "new untracked file",
        "file removed",
        "file staged",
        "link replacing a file",
    ],
)
def test_a_change_the_listing_shows_gets_a_fresh_audit(
    make_repo: Callable[..., Path], cache_dir: Path, settled: None, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(FILES, git=True)
    (root / "late.py").write_text("x = 1\n")  # untracked
    audit(root, cache=True)
    ran = count_evaluations(monkeypatch)
    audit(root, cache=True)
    assert ran == []  # stored, and used while nothing changes
    time.sleep(0.01)  # a later inode-change time even on coarse clocks
    target = root / "train.py"
    stamp = target.stat()
    edited = FILES["train.py"].replace("torch", "wandb")  # same length: the size cannot tell
    if change.startswith("same-size edit"):
        target.write_text(edited)
        os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # as `touch -r` would
    elif change.startswith("replaced by a copy"):
        copy = root / "copy.tmp"
        copy.write_text(edited)
        os.utime(copy, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # as `cp -p` would
        copy.replace(target)
    elif change == "new untracked file":
        (root / "src/demo/extra.py").write_text("import mlflow\n")
    elif change == "file removed":
        target.unlink()
    elif change == "file staged":
        subprocess.run(["git", "-C", str(root), "add", "late.py"], check=True)
    else:
        (root / "notes.txt").unlink()
        (root / "notes.txt").symlink_to("train.py")
    again = audit(root, cache=True)
    assert ran == [1]
    assert outcome(again) == outcome(audit(root, cache=False))


def test_another_configuration_is_another_entry(make_repo: Callable[..., Path], cache_dir: Path, settled: None) -> None:
    root = make_repo(FILES, git=True)
    everything = audit(root, cache=True)
    packaging = Config(select=("PK",))
    only_pk = audit(root, packaging, cache=True)
    assert {r.code for r in only_pk.results if r.status.name != "SKIP"} <= {
        r.code for r in everything.results if r.code.startswith("PK")
    }
    assert outcome(audit(root, packaging, cache=True)) == outcome(only_pk) == outcome(audit(root, packaging))
    assert outcome(audit(root, cache=True)) == outcome(everything)


def report_entry(root: Path, config: Config | None = None) -> Path:
    return FactCache()._entry(report_cache.key(root.resolve(), config or Config()))


def test_a_tree_still_being_edited_is_not_stored(make_repo: Callable[..., Path], cache_dir: Path) -> None:
    """A file written in the same clock tick as the audit read it can change again without its stamp changing,
    so the report is only stored once every file has been left alone for `QUIET_S` seconds (as git does)."""
    root = make_repo(FILES, git=True)
    audit(root, cache=True)
    assert entries(cache_dir) and not report_entry(root).exists()  # the facts are kept, the report is not
    time.sleep(report_cache.QUIET_S + 0.2)
    audit(root, cache=True)
    assert report_entry(root).exists()


def test_a_damaged_entry_is_a_fresh_audit(make_repo: Callable[..., Path], cache_dir: Path, settled: None) -> None:
    root = make_repo(FILES, git=True)
    first = audit(root, cache=True)
    entry = report_entry(root)
    key, (signed, _) = json.loads(entry.read_text())
    for damage in ("{not json", json.dumps([key, [signed, ["NO_SUCH_KIND", 1, "", []]]])):
        entry.write_text(damage)
        assert outcome(audit(root, cache=True)) == outcome(first)


def test_no_cache_reads_and_writes_no_report(
    make_repo: Callable[..., Path], cache_dir: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(FILES, git=True)
    audit(root, cache=False)
    assert entries(cache_dir) == []
    audit(root, cache=True)
    ran = []
    monkeypatch.setattr(engine._Evaluation, "run", lambda self: ran.append(1) or [])
    audit(root, cache=False)
    assert ran == [1]


def test_the_command_line_prints_the_same_report_from_the_cache(
    make_repo: Callable[..., Path], cache_dir: Path, settled: None, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    root = make_repo(FILES, git=True)
    runs = [run_cli("--format", "json", root) for _ in range(2)]
    (code_a, out_a, err_a), (code_b, out_b, err_b) = runs
    first, second = json.loads(out_a), json.loads(out_b)
    for report in (first, second):
        report["summary"].pop("duration_s", None)
        report.pop("duration_s", None)
    assert (code_a, first, err_a) == (code_b, second, err_b)
    text_a, text_b = (re.sub(r"\d+\.\d+s\b", "T", run_cli(root)[1]) for _ in range(2))  # the time aside
    assert text_a == text_b


def test_a_warm_run_in_a_new_process_prints_what_a_cold_run_prints_in_every_format(
    make_repo: Callable[..., Path], cache_dir: Path
) -> None:
    """A new process answered from the cache has not imported the rule modules: its results name stand-ins built
    from the stored metadata (titles, rationales, fixes, severities). Every format must read the same from them."""
    import sys

    from fsdl_check.reports import FORMATS

    root = make_repo({**FILES, ".env": "API_TOKEN=" + "x9F2" * 6 + "\n"}, git=True)  # a security finding for SARIF
    time.sleep(report_cache.QUIET_S + 0.2)  # a real process: the files must be left alone to be stored

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-X", "importtime", "-m", "fsdl_check", str(root), "--exit-zero", *args]
        return subprocess.run(command, capture_output=True, text=True, check=True)

    def timeless(text: str) -> str:
        return re.sub(r"\d+\.\d+", "T", text)  # durations (text, JSON, JUnit, SARIF)

    run("--format", "json")  # stores the report
    for fmt in FORMATS:
        cold, warm = run("--format", fmt, "--no-cache"), run("--format", fmt)
        assert timeless(warm.stdout) == timeless(cold.stdout), fmt
        imported = re.findall(r"\| +(fsdl_check\.(?:rules|parsing)\.\w+)$", warm.stderr, re.MULTILINE)
        assert imported == [], (fmt, imported)  # neither a rule module nor a parser: the start-up a warm run saves


def test_a_change_to_any_file_of_the_checker_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited rule (in an editable install, or a new version over an old one) never answers from a report of
    the old code: the key holds every package file's name, size and modification time."""
    import shutil

    package = tmp_path / "fsdl_check"
    shutil.copytree(Path(report_cache.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(report_cache, "__file__", str(package / "report_cache.py"))

    def digest() -> str:
        report_cache.code_digest.cache_clear()
        return report_cache.code_digest()

    try:
        before = digest()
        assert digest() == before  # nothing changed, the same key
        rule = package / "rules" / "vcs.py"
        stamp = rule.stat()
        rule.write_text(rule.read_text().replace("VC005", "VC006", 1))  # the same size
        os.utime(rule, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
        edited = digest()
        assert edited != before
        (package / "rules" / "new_rules.py").write_text("")
        assert digest() not in (before, edited)
    finally:
        report_cache.code_digest.cache_clear()
