"""`python -m fsdl_check.deadline`: the time limit the pre-commit hook and the GitHub Action run fsdl-check under."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fsdl_check import deadline


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fsdl_check.deadline", *args], capture_output=True, text=True, timeout=120
    )


def test_a_run_within_the_limit_is_the_plain_audit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    done = run("60", str(tmp_path), "--select", "FC", "--format", "concise")
    assert done.returncode == 0, done.stderr
    assert "passed" in done.stdout


def test_a_run_past_the_limit_stops_with_one_line_and_exit_2(tmp_path: Path) -> None:
    started = time.perf_counter()
    done = run("0.001", str(tmp_path))
    assert time.perf_counter() - started < 60
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "took longer than its time limit of 0.001 s" in done.stderr


def test_a_missing_or_bad_limit_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    for argv in ([], ["soon"], ["-1"], ["nan"]):
        assert deadline.main(argv) == 2
        assert "usage: python -m fsdl_check.deadline SECONDS" in capsys.readouterr().err
