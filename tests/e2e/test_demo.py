"""The README's first command, `make demo`, end to end: render, train, read the run back, sweep, lock, audit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_demo_trains_a_tracked_model_and_the_audit_is_clean(tmp_path: Path) -> None:
    env = {**os.environ, "FSDL_DEMO_DIR": str(tmp_path)}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    accuracy = re.search(r"validation accuracy\s+([0-9.]+)", done.stdout)
    assert accuracy is not None, done.stdout[-2000:]
    assert float(accuracy.group(1)) >= 0.95
    projects = [p for p in tmp_path.iterdir() if p.name.startswith("digits-classifier-")]
    assert len(projects) == 1
    project = projects[0]
    assert (project / "mlflow.db").is_file()
    assert (project / "requirements-lock.txt").is_file()
    assert (project / ".venv" / "bin" / "digits-classifier-train").is_file()  # the project's own environment
    swept = re.search(r"sweep: best trial's validation accuracy\s+([0-9.]+)", done.stdout)
    assert swept is not None, done.stdout[-2000:]  # the default answers have sweeps
    assert float(swept.group(1)) >= 0.9
    assert (project / "outputs" / "sweeps" / "default" / "best.yaml").is_file()
    assert "fsdl-check exit code 0" in done.stdout
    assert not (ROOT / "demo" / project.name).exists()  # the output went where it was asked to


def test_demo_rejects_a_missing_answers_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), str(tmp_path / "nope.yml")],
        cwd=ROOT,
        env={**os.environ, "FSDL_DEMO_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"demo: no such answers file: {tmp_path / 'nope.yml'}"]
    assert list(tmp_path.iterdir()) == []
