"""Generated CI passes the ecosystem's own linters, for every render: zizmor and the published schemas.

zizmor (the GitHub Actions security linter) and check-jsonschema (with the schemas it vendors for GitHub
workflows, GitLab CI, Dependabot and Renovate) run offline, as a project's maintainers would run them.
"""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

import pytest
from template_helpers import RenderCopier
from test_render import CASES, case_answers

SCRIPTS = Path(sysconfig.get_path("scripts"))
REPO_ROOT = Path(__file__).resolve().parents[2]
GITHUB_CASES = [case for case in CASES if case_answers(case).get("ci", "github") == "github"]
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/workflows/template-update.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "renovate.json": "vendor.renovate",
}


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def renders(render_copier: RenderCopier, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {case: render_copier(case_answers(case), tmp_path_factory.mktemp(case) / "p") for case in CASES}


@pytest.mark.parametrize("case", CASES)
def test_ci_files_match_their_published_schemas(case: str, renders: dict[str, Path]) -> None:
    project = renders[case]
    present = {name: schema for name, schema in SCHEMAS.items() if (project / name).is_file()}
    assert present, "a render without any CI or update-bot file"
    for name, schema in present.items():
        done = run(SCRIPTS / "check-jsonschema", "--builtin-schema", schema, name, cwd=project)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_workflows_have_no_zizmor_finding(case: str, renders: dict[str, Path]) -> None:
    project = renders[case]
    assert (project / ".github" / "workflows" / "ci.yml").is_file()
    done = run(SCRIPTS / "zizmor", "--offline", "--format", "plain", ".github/workflows", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_this_repositorys_action_and_workflows_have_no_zizmor_finding() -> None:
    done = run(SCRIPTS / "zizmor", "--offline", "--format", "plain", "action.yml", ".github/workflows", cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
