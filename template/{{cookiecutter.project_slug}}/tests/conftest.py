"""Shared fixtures. Every test runs in its own empty folder, so runs, stores and checkpoints never land
in the project, and a tracking server configured in your shell is never written to."""

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
