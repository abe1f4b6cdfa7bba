"""Shared fixtures: every test runs in its own empty folder.

Runs, stores and checkpoints never land in the project, and a tracking server configured in your
shell is never written to.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(autouse=True)
def isolated_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test inside ``tmp_path`` with the tracker writing locally."""
    monkeypatch.chdir(tmp_path)
    # The command line under test is given its arguments directly; pytest's own are not for it.
    monkeypatch.setattr(sys, "argv", [sys.argv[0]])
{%- if cookiecutter.tracker == "mlflow" %}
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
{%- elif cookiecutter.tracker == "wandb" %}
    monkeypatch.setenv("WANDB_MODE", "offline")
{%- endif %}
    return tmp_path


@pytest.fixture
def configs() -> Path:
    """The project's ``configs/`` folder."""
    return CONFIGS


@pytest.fixture
def git_commit(tmp_path: Path) -> str:
    """Make the working folder a git repository with one commit, as a project checkout is."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [git, "-C", str(tmp_path), *identity, "commit", "-q", "--allow-empty", "-m", "start"], check=True
    )
    head = subprocess.run(  # noqa: S603
        [git, "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    )
    return head.stdout.strip()
