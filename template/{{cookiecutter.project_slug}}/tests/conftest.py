"""Shared fixtures: every test runs in its own empty folder.

Runs, stores and checkpoints never land in the project, and a tracking server configured in your
shell is never written to.
"""

import shutil
{%- if cookiecutter.tracker == "mlflow" %}
import socket
{%- endif %}
import subprocess
import sys
{%- if cookiecutter.tracker == "mlflow" %}
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
{%- endif %}
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
{%- if cookiecutter.tracker == "mlflow" %}


SERVER_START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"mlflow server not healthy after {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a tracking server with its own SQLite store and artifact folder, stopped afterwards."""
    root = tmp_path_factory.mktemp("mlflow-server")
    url = f"http://127.0.0.1:{free_port()}"
    log = root / "server.log"
    command = [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--workers", "1"),
        *("--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"),
        *("--artifacts-destination", str(root / "artifacts")),
    ]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            wait_until_healthy(url, server, log)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
{%- endif %}
