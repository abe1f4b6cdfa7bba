"""The generated `tools/environment.py` (`make setup`, `make lock`): where fsdl-check comes from, and the checks
that fail before any download. The full install is exercised by tests/e2e; these run in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from template_helpers import RenderCookiecutter, RenderCopier, copier_copy

ANSWERS = {"project_name": "Env Check", "copyright_year": "2024"}


def load_script(project: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"environment_{abs(hash(project))}", project / "tools" / "environment.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def template_repository(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template snapshot plus the checker's pyproject, committed: a stand-in for the template's git URL."""
    repo = tmp_path_factory.mktemp("fsdl-stack-git")
    subprocess.run(["cp", "-a", f"{template_snapshot}/.", str(repo)], check=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "fsdl-check"\nversion = "0.1.0"\n')
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "release", cwd=repo)
    git("tag", "v0.1.0", cwd=repo)
    return repo


@pytest.mark.parametrize(
    ("described", "revision"),
    [("v0.1.0", "v0.1.0"), ("v0.1.0-3-gabc1234", "abc1234"), ("abc1234", "abc1234"), ("v1.2.0-dirty", "v1.2.0")],
)
def test_git_describe_answers_become_revisions(
    render_copier: RenderCopier, tmp_path: Path, described: str, revision: str
) -> None:
    script = load_script(render_copier(ANSWERS, tmp_path / "p"))
    assert script.git_revision(described) == revision


def test_a_copy_from_a_git_repository_takes_fsdl_check_from_that_commit(
    template_repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copier_copy(template_repository, ANSWERS, tmp_path / "p", vcs_ref="HEAD")
    monkeypatch.delenv("FSDL_CHECK", raising=False)
    commit = git("rev-parse", "HEAD", cwd=template_repository)
    assert load_script(project).checker_requirement() == f"fsdl-check @ git+{template_repository.as_uri()}@{commit}"


def test_a_cookiecutter_render_records_its_template_and_takes_fsdl_check_from_there(
    render_cookiecutter: RenderCookiecutter, template_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = render_cookiecutter(ANSWERS, tmp_path / "cc")
    recorded = json.loads((project / ".cookiecutter.json").read_text())
    assert Path(recorded["_repo_dir"]) == template_snapshot / "template"
    monkeypatch.delenv("FSDL_CHECK", raising=False)
    # The snapshot has no pyproject of the checker: nothing to install from, and the message says what to do.
    script = load_script(project)
    with pytest.raises(script.SetupError, match="is not here: set FSDL_CHECK"):
        script.checker_requirement()
    (template_snapshot / "pyproject.toml").write_text('[project]\nname = "fsdl-check"\n')
    try:
        assert script.checker_requirement() == f"fsdl-check @ {template_snapshot.as_uri()}"  # not a git checkout
    finally:
        (template_snapshot / "pyproject.toml").unlink()


def test_setup_stops_before_any_download_when_fsdl_check_cannot_be_had(
    render_copier: RenderCopier, tmp_path: Path
) -> None:
    project = render_copier(ANSWERS, tmp_path / "p")
    answers = project / ".copier-answers.yml"
    answers.write_text(
        answers.read_text().replace(
            next(line for line in answers.read_text().splitlines() if line.startswith("_src_path:")),
            "_src_path: /nonexistent/fsdl-stack",
        )
    )
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "TORCH_INDEX": ""}
    done = subprocess.run(
        [sys.executable, "tools/environment.py", "setup"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: the template folder '/nonexistent/fsdl-stack' recorded in the answers file is not here: "
        "set FSDL_CHECK to a checkout, wheel or git URL of fsdl-stack (make setup FSDL_CHECK=...)"
    ]
    assert not (project / ".venv").exists()  # nothing was created or downloaded


def test_ci_setup_refuses_a_missing_or_stale_lock_in_one_line(render_copier: RenderCopier, tmp_path: Path) -> None:
    project = render_copier(ANSWERS, tmp_path / "p")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "FSDL_CHECK": "fsdl-check"}
    command = [sys.executable, "tools/environment.py", "setup", "--locked"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        1,
        "error: no requirements-lock.txt: run `make lock` and commit the file\n",
    )

    script = load_script(project)
    (project / "requirements-lock.txt").write_text(f"# inputs: {script.inputs_fingerprint()}\nnumpy==2.1.0\n")
    assert script.lock_is_current()
    assert script.locked_versions() == {"numpy": "2.1.0"}
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"numpy>=1.26",', '"numpy>=2",'))
    assert not script.lock_is_current()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "older than pyproject.toml's dependencies: run `make lock`" in done.stderr
