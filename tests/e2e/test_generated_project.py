"""End to end: generated projects do what their README promises, in a real virtual environment.

Three representative answer sets are rendered with Copier. Each project gets its own virtual environment
and is then driven the way its users drive it: `make lock`, `make lint` (ruff, ruff format, mypy --strict),
`pre-commit run --all-files`, `make audit` (fsdl-check, zero findings), `make test` (its own suite, which
starts a real MLflow server where MLflow is the tracker) and a short training run through its console
script, whose record is then read back from the tracker's local store.

Installing torch and the rest of the stack into every environment would take gigabytes and minutes, so
each environment sees this interpreter's packages through a `.pth` file, and only the project itself is
installed into it (editable, without dependencies). The tools the Makefile calls from `.venv/bin` are
linked into the environment's `bin/`, running under the environment's Python.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import copier
import pytest
from mlflow.tracking import MlflowClient

import fsdl_check

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_ANSWERS: dict[str, Any] = {
    "project_name": "Digits Classifier",
    "project_slug": "digits-classifier",
    "package_name": "digits_classifier",
    "author_name": "E2E Test",
    "author_email": "e2e@example.com",
    "python_version": "3.11",  # the floor: the running interpreter is at least this
}
COMBINATIONS: dict[str, dict[str, Any]] = {
    "mlflow-github-app": {"tracker": "mlflow", "ci": "github", "demo_app": True, "license": "MIT"},
    "tensorboard-gitlab": {"tracker": "tensorboard", "ci": "gitlab", "demo_app": False, "license": "Apache-2.0"},
    "wandb-no-ci": {"tracker": "wandb", "ci": "none", "demo_app": False, "license": "proprietary"},
}
# What the generated Makefile runs from $(VENV)/bin, besides the project's own console script.
MAKEFILE_TOOLS = ("ruff", "mypy", "pytest", "pre-commit", "fsdl-check", "uv")
STEP_TIMEOUT_S = 900


@dataclass(frozen=True)
class Project:
    root: Path
    venv: Path
    answers: Mapping[str, Any]
    env: Mapping[str, str]

    @property
    def slug(self) -> str:
        return str(self.answers["project_slug"])

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; a failure shows the command's output."""
        result = subprocess.run(
            command, cwd=self.root, env=dict(self.env), capture_output=True, text=True, timeout=STEP_TIMEOUT_S
        )
        assert result.returncode == 0, (
            f"`{' '.join(command)}` exited {result.returncode} in {self.root}\n"
            f"--- stdout ---\n{result.stdout[-12000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
        return result

    def make(self, target: str, *variables: str) -> subprocess.CompletedProcess[str]:
        return self.run("make", target, f"VENV={self.venv}", *variables)


def render(answers: Mapping[str, Any], destination: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns that a working copy with local changes is rendered
        copier.run_copy(str(REPO_ROOT), str(destination), data=dict(answers), defaults=True, unsafe=False, quiet=True)
    return destination


def create_venv(venv: Path) -> Path:
    """A virtual environment whose Python also sees this interpreter's site-packages, .pth files included."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer_sites = [*site.getsitepackages(), site.getusersitepackages()]
    # `site.addsitedir` (unlike a bare path line) also runs the .pth files there: editable installs work.
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in outer_sites if Path(path).is_dir())
    (Path(purelib) / "_outer_environment.pth").write_text(lines)
    return venv


def link_tools(venv: Path, names: tuple[str, ...]) -> None:
    """Make this environment's tools callable from the venv's bin/, as `make setup` would have installed them."""
    scripts = {entry.name: entry for entry in entry_points(group="console_scripts")}
    outer_bin = Path(sysconfig.get_path("scripts"))
    for name in names:
        target = venv / "bin" / name
        if name in scripts:
            module, _, function = scripts[name].value.partition(":")
            target.write_text(
                f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n"
            )
            target.chmod(0o755)
        else:  # a compiled tool (ruff, uv) that ships as an executable
            executable = outer_bin / name if (outer_bin / name).exists() else shutil.which(name)
            assert executable is not None, f"{name} is not installed"
            target.symlink_to(executable)


def fsdl_check_wheel(directory: Path) -> Path:
    """fsdl-check is not on the package index yet: build this checkout's wheel for `uv lock` to find."""
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            *isolation,
            "-w",
            str(directory),
            str(REPO_ROOT),
        ],
        check=True,
    )
    return directory


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fsdl_check_wheel(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="module", params=list(COMBINATIONS), ids=list(COMBINATIONS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Project:
    """A rendered project, installed in its own environment, locked and committed to git's index."""
    answers = {**BASE_ANSWERS, **COMBINATIONS[request.param]}
    workspace = tmp_path_factory.mktemp(request.param)
    root = render(answers, workspace / "project")
    venv = create_venv(workspace / "venv")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MLFLOW_", "WANDB_", "PYTHON"))}
    env |= {
        "PATH": os.pathsep.join([str(venv / "bin"), sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
        "VIRTUAL_ENV": str(venv),
        "PRE_COMMIT_HOME": str(workspace / "pre-commit-cache"),
        "UV_FIND_LINKS": str(wheelhouse),
        "WANDB_MODE": "offline",
    }
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", *isolation, "-e", str(root)],
        check=True,
        env=env,
    )
    link_tools(venv, MAKEFILE_TOOLS)
    built = Project(root=root, venv=venv, answers=answers, env=env)
    built.make("lock")
    built.run("git", "init", "--quiet")
    built.run("git", "add", "--all")
    return built


def test_lock_file_is_written_and_tracked(project: Project) -> None:
    tracked = project.run("git", "ls-files", "uv.lock").stdout.split()
    assert tracked == ["uv.lock"]
    lock = (project.root / "uv.lock").read_text()
    assert f'name = "{project.slug}"' in lock
    # The dev group pins the checker at this checkout's version, and the lock resolved exactly that.
    assert f'name = "fsdl-check"\nversion = "{fsdl_check.__version__}"' in lock


def test_lint_format_and_strict_types_pass(project: Project) -> None:
    project.make("lint")


def test_pre_commit_hooks_pass_on_every_file(project: Project) -> None:
    project.run("pre-commit", "run", "--all-files", "--show-diff-on-failure")


def test_audit_finds_nothing_with_every_rule_selected(project: Project) -> None:
    result = project.make("audit")
    assert "All selected checks passed" in result.stdout


def test_project_test_suite_passes(project: Project) -> None:
    result = project.make("test", "ARGS=-p no:cacheprovider --tb=short --disable-warnings")
    assert " passed" in result.stdout
    assert " failed" not in result.stdout


def mlflow_run_is_recorded(project: Project) -> None:
    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(project.slug)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["val/acc"] > 0.8
    assert run.data.params["lr"] == "0.003"
    assert [artifact.path for artifact in client.list_artifacts(run.info.run_id)] == ["config.yaml", "model"]
    (checkpoint,) = client.list_artifacts(run.info.run_id, "model")
    assert checkpoint.path.endswith(".ckpt")
    assert list((project.root / "mlartifacts").rglob(Path(checkpoint.path).name))


def tensorboard_run_is_recorded(project: Project) -> None:
    run_dir = project.root / "lightning_logs" / "version_0"
    assert (run_dir / "config.yaml").is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert list((run_dir / "checkpoints").glob("epoch=*.ckpt"))


def wandb_run_is_recorded(project: Project) -> None:
    (run_dir,) = (project.root / "outputs" / "wandb").glob("offline-run-*")
    assert list(run_dir.glob("*.wandb"))
    assert (run_dir / "files" / "run_config.yaml").is_file()
    assert list((project.root / "outputs" / project.slug).glob("*/checkpoints/epoch=*.ckpt"))


RUN_IS_RECORDED: dict[str, Callable[[Project], None]] = {
    "mlflow": mlflow_run_is_recorded,
    "tensorboard": tensorboard_run_is_recorded,
    "wandb": wandb_run_is_recorded,
}


def test_console_script_trains_and_the_run_is_recorded(project: Project) -> None:
    script = project.venv / "bin" / f"{project.slug}-train"
    project.run(str(script), "--config", "configs/default.yaml", "--trainer.max_epochs", "3")

    RUN_IS_RECORDED[project.answers["tracker"]](project)
    # Everything the run wrote is git-ignored: nothing new for git to pick up.
    assert project.run("git", "ls-files", "--others", "--exclude-standard").stdout == ""
