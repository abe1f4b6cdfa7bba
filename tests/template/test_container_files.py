"""The container files of every render that has them: the Dockerfile lints clean, its build context holds what it
copies and nothing private, the image runs a console script of the project, and compose.yaml is valid.

No Docker engine is needed (the generated CI builds and runs the image): hadolint reads the Dockerfile, the
context is computed from `.dockerignore` the way Docker computes it, and compose.yaml is checked against the
Compose Specification's schema.
"""

from __future__ import annotations

import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
from template_helpers import RenderCopier
from test_render import CASES, case_answers

from fsdl_check.parsing.dockerfile import parse_dockerfile, parse_dockerignore, split_words

SCRIPTS = Path(sysconfig.get_path("scripts"))
CONTAINER_CASES = [case for case in CASES if case_answers(case).get("container", "cpu") != "none"]
#: What a project holds after a few runs: none of it may reach an image.
PRIVATE = (
    ".git/HEAD",
    ".venv/bin/python",
    "data/train.csv",
    "outputs/1/0123abcd/checkpoints/last.ckpt",
    "outputs/preempted/0123abcdef012345.ckpt",
    "lightning_logs/version_0/events.out.tfevents.1",
    "mlruns/0/meta.yaml",
    "mlartifacts/1/0123abcd/artifacts/model/data/model.pt2",
    "mlflow.db",
    "wandb/offline-run-1/files/config.yaml",
    "model.ckpt",
    "src/pkg/__pycache__/cli.cpython-311.pyc",
)
#: Written by the first `make setup` and committed; a fresh render does not have it yet.
WRITTEN_BY_SETUP = {"requirements-lock.txt"}


@pytest.fixture(scope="module")
def renders(render_copier: RenderCopier, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {case: render_copier(case_answers(case), tmp_path_factory.mktemp(case) / "p") for case in CONTAINER_CASES}


def context_files(project: Path) -> set[str]:
    """The files `docker build .` sends: everything under the project that `.dockerignore` does not exclude."""
    ignore = parse_dockerignore(".dockerignore", (project / ".dockerignore").read_text())
    files = {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()}
    return {path for path in files | WRITTEN_BY_SETUP if not ignore.excludes(path)}


def test_some_render_has_no_container_files(render_copier: RenderCopier, tmp_path: Path) -> None:
    project = render_copier({**case_answers("minimal"), "container": "none"}, tmp_path / "p")
    assert not (project / "docker").exists()
    assert not (project / ".dockerignore").exists()


@pytest.mark.parametrize("case", CONTAINER_CASES)
def test_dockerfile_passes_hadolint(case: str, renders: dict[str, Path]) -> None:
    done = subprocess.run(
        [str(SCRIPTS / "hadolint"), "docker/Dockerfile"], cwd=renders[case], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("case", CONTAINER_CASES)
def test_build_context_holds_every_copied_source_and_nothing_private(case: str, renders: dict[str, Path]) -> None:
    project = renders[case]
    dockerfile = parse_dockerfile("docker/Dockerfile", (project / "docker/Dockerfile").read_text())
    for private in PRIVATE:  # as if the project had been used for a while
        (project / private).parent.mkdir(parents=True, exist_ok=True)
        (project / private).write_text("x")
    context = context_files(project)

    copies = [i for stage in dockerfile.stages for i in stage.instructions if i.keyword == "COPY"]
    from_context = [i for i in copies if i.flag("from") is None]
    assert from_context, "the image copies nothing from the project"
    for instruction in from_context:
        *sources, _ = split_words(instruction.value)
        for source in sources:
            assert any(path == source or path.startswith(f"{source.rstrip('/')}/") for path in context), (
                f"line {instruction.line}: COPY {source} is not in the build context"
            )
    leaked = sorted(path for path in context if path in PRIVATE or path.startswith((".git/", ".venv/")))
    assert not leaked, f"the build context lets in {leaked}"


@pytest.mark.parametrize("case", CONTAINER_CASES)
def test_image_runs_a_console_script_of_the_project_as_pid_one(case: str, renders: dict[str, Path]) -> None:
    project = renders[case]
    dockerfile = parse_dockerfile("docker/Dockerfile", (project / "docker/Dockerfile").read_text())
    final = dockerfile.final_stage
    assert final is not None
    entrypoint = final.last("ENTRYPOINT")
    assert entrypoint is not None and entrypoint.exec_form is not None, "ENTRYPOINT must be the exec form"
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]

    assert entrypoint.exec_form[0] in scripts
    user = final.last("USER")
    assert user is not None and user.value.split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("case", CONTAINER_CASES)
def test_compose_file_matches_the_compose_specification(case: str, renders: dict[str, Path]) -> None:
    command = [str(SCRIPTS / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker/compose.yaml"]
    done = subprocess.run(command, cwd=renders[case], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    published = (renders[case] / "docker/compose.yaml").read_text()
    assert '"127.0.0.1:5000:5000"' in published  # the tracking server is not published beyond this machine
