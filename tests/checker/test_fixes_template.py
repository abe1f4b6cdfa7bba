"""`--fix` for a missing practice: the template's own files, rendered by Copier with the answers inferred from the
repository, created only where missing and only where the repository has what they rely on."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
from conftest import Run

from fsdl_check import adopt, fixes

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "template"))
from template_helpers import copy_template, load_example  # noqa: E402

IMAGE_FILES = {"docker/Dockerfile", "docker/compose.yaml", ".dockerignore"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=True)


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=Ada", "-c", "user.email=ada@example.org", "commit", "-q", "--no-verify", "-m", "x")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree's template as a release: a git repository whose newest tag is its last commit (a user's
    `--template` clone of fsdl-stack at a release)."""
    repo = copy_template(tmp_path_factory.mktemp("template"))
    git(repo, "init", "-q")
    commit_all(repo)
    git(repo, "tag", "v99.0.0")
    return repo


def render(template: Path, answers: dict[str, Any], destination: Path) -> Path:
    copier.run_copy(str(template), str(destination), data=answers, defaults=True, quiet=True, unsafe=False)
    return destination


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


def drop_image_waiver(root: Path) -> None:
    """The template waives DK007 in a project made without an image; these users took the waiver out."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    waiver = text[text.index("[tool.fsdl-check.ignore]\n") :]
    assert waiver.count("\n") == 2, waiver
    pyproject.write_text(text.replace(waiver, ""))


def new_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    commit_all(root)
    return root


def findings(run_cli: Run, root: Path, codes: str) -> int:
    import json

    _, out, _ = run_cli("--format", "json", "--select", codes, root)
    return int(json.loads(out)["summary"]["findings"])


GITLAB_REPO = {
    "train.py": "import lightning\nimport torch\n",
    "README.md": "# Gl\n",
    "pyproject.toml": '[project]\nname = "gl-proj"\nversion = "0"\n',
    ".gitlab-ci.yml": "test:\n  script: pytest\n",
}


def test_a_gitlab_repository_gets_the_templates_renovate_file(template: Path, tmp_path: Path, run_cli: Run) -> None:
    root = new_repo(tmp_path / "repo", GITLAB_REPO)
    before = tree(root)
    _, diff, err = run_cli("--diff", "--select", "GA003", "--template", template, root)
    assert diff.startswith("--- /dev/null\n+++ b/renovate.json\n") and diff.count("+++ ") == 1, (diff, err)
    assert tree(root) == before

    _, _, err = run_cli("--fix", "--select", "GA003", "--template", template, root)
    assert "fixed GA003: created renovate.json (the template's)" in err
    reference = render(template, {**load_example("default"), "ci": "gitlab"}, tmp_path / "reference")
    assert (root / "renovate.json").read_bytes() == (reference / "renovate.json").read_bytes()
    assert {k: v for k, v in tree(root).items() if k != "renovate.json"} == before
    assert findings(run_cli, root, "GA003") == 0


def test_a_repository_shaped_like_the_template_gets_its_image_as_copier_renders_it(
    template: Path, tmp_path: Path, run_cli: Run
) -> None:
    """A project with the template's layout but no answers file (copied by hand, or its answers file lost)."""
    answers = {**load_example("default"), "container": "none", "kubernetes": False, "copyright_year": "2026"}
    root = render(template, answers, tmp_path / "repo")
    (root / ".copier-answers.yml").unlink()
    drop_image_waiver(root)
    (root / "requirements-lock.txt").write_text("torch==2.13.0\n")  # what `make lock` writes
    git(root, "init", "-q")
    commit_all(root)
    before = tree(root)
    assert findings(run_cli, root, "DK007") == 1

    _, _, err = run_cli("--fix", "--select", "DK", "--template", template, root)
    for rel in sorted(IMAGE_FILES):
        assert f"fixed DK007: created {rel} (the template's)" in err, err
    reference = render(template, {**answers, "container": "cpu"}, tmp_path / "reference")
    for rel in IMAGE_FILES:
        assert (root / rel).read_bytes() == (reference / rel).read_bytes(), rel
    after = tree(root)
    assert {k: after[k] for k in before} == before and set(after) - set(before) == IMAGE_FILES
    assert findings(run_cli, root, "DK") == 0  # the template's image passes every container rule


def test_a_script_repository_is_told_what_the_image_would_need(template: Path, tmp_path: Path, run_cli: Run) -> None:
    root = new_repo(tmp_path / "repo", GITLAB_REPO)
    before = tree(root)
    _, diff, err = run_cli("--diff", "--select", "DK007", "--template", template, root)
    assert diff == ""
    assert "DK007: not fixed: the template's .dockerignore, docker/Dockerfile, docker/compose.yaml would need " in err
    assert "requirements-lock.txt" in err and "a `gl-proj-train` console script in pyproject.toml" in err
    assert len(err.strip().splitlines()) == 1
    run_cli("--fix", "--select", "DK007", "--template", template, root)
    assert tree(root) == before


def test_a_template_made_project_is_given_the_update_command(template: Path, tmp_path: Path, run_cli: Run) -> None:
    root = render(template, {**load_example("default"), "container": "none", "kubernetes": False}, tmp_path / "repo")
    drop_image_waiver(root)
    git(root, "init", "-q")
    commit_all(root)
    before = tree(root)
    _, _, err = run_cli("--fix", "--select", "DK007", "--template", template, root)
    assert "DK007: not fixed: this project was made from the template: " in err
    assert "`copier update --defaults --data container=cpu` adds the files and its answer" in err
    assert tree(root) == before


def test_without_copier_the_fix_is_a_one_line_note(
    template: Path, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_repo(tmp_path / "repo", GITLAB_REPO)
    monkeypatch.setitem(sys.modules, "copier", None)  # the adopt extra not installed
    status, diff, err = run_cli("--diff", "--select", "GA003", "--template", template, root)
    assert diff == "" and status == 0
    assert err == "fsdl-check: GA003: not fixed: rendering the template needs Copier: pip install 'fsdl-check[adopt]'\n"


def test_without_a_template_the_fix_says_where_to_get_one(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_repo(tmp_path / "repo", GITLAB_REPO)
    monkeypatch.setattr(adopt, "installed_source", lambda: None)  # installed from an index, not from fsdl-stack
    _, diff, err = run_cli("--diff", "--select", "GA003", root)
    assert diff == ""
    assert err.startswith("fsdl-check: GA003: not fixed: the template is needed: this fsdl-check was not installed")
    assert "--template" in err and len(err.splitlines()) == 1


def test_template_only_with_fix_or_diff(tmp_path: Path, run_cli: Run) -> None:
    status, out, err = run_cli("--template", tmp_path, tmp_path)
    assert status == 2 and out == ""
    assert (
        err == "fsdl-check: error: --template only serves --fix and --diff (the files they render from the template)\n"
    )


def _adopt_fixtures() -> dict[str, dict[str, str]]:
    import test_adopt  # the fixture repositories shaped like real ones

    return {
        "single-script": test_adopt.SCRIPT_REPO,
        "lightning-hydra": test_adopt.HYDRA_REPO,
        "notebook-course": test_adopt.COURSE_REPO,
    }


@pytest.mark.parametrize("name", ["single-script", "lightning-hydra", "notebook-course"])
def test_fix_on_repositories_shaped_like_real_ones_changes_only_what_diff_shows(
    name: str, template: Path, tmp_path: Path, run_cli: Run
) -> None:
    """What `--diff` shows, applied with `patch`, is exactly what `--fix` writes; every file the user had keeps
    its lines; findings drop; a second `--fix` finds nothing left to do."""
    files = _adopt_fixtures()[name]
    root = new_repo(tmp_path / name, files)
    copy = tmp_path / "patched"
    shutil.copytree(root, copy, symlinks=True)
    found_before = findings(run_cli, root, "ALL")

    _, diff, _ = run_cli("--diff", "--select", "ALL", "--template", template, root)
    assert diff, "nothing to fix"
    subprocess.run(["patch", "-p1", "--quiet", "--batch"], input=diff, text=True, cwd=copy, check=True)
    _, _, err = run_cli("--fix", "--select", "ALL", "--template", template, root)
    assert "internal error" not in err
    assert tree(root) == tree(copy)
    for rel, text in files.items():
        assert fixes.insertions_only(text, (root / rel).read_text()), rel
    assert findings(run_cli, root, "ALL") < found_before

    fixed = tree(root)
    _, _, err = run_cli("--fix", "--select", "ALL", "--template", template, root)
    assert "fsdl-check: fixed " not in err and tree(root) == fixed


DEV_TOOLS = ["ruff", "mypy", "pre-commit", "pre-commit-hooks", "nbstripout", "fsdl-check"]


def tooled_repo(root: Path, dev: list[str], mypy_files: bool = True) -> Path:
    """A package repository without pre-commit whose development extra declares `dev`."""
    mypy = '\n[tool.mypy]\nfiles = ["src"]\nstrict = true\n' if mypy_files else ""
    extra = ", ".join(f'"{name}"' for name in dev)
    return new_repo(
        root,
        {
            "pyproject.toml": f'[project]\nname = "tooled"\nversion = "0"\n\n'
            f"[project.optional-dependencies]\ndev = [{extra}]\n{mypy}",
            "src/tooled/__init__.py": '"""Tooled."""\n\n\ndef double(x: int) -> int:\n    return 2 * x\n',
            ".gitignore": ".venv/\n",
            "README.md": "# Tooled\n",
        },
    )


def test_a_repository_declaring_the_hook_tools_gets_the_templates_precommit_and_its_hooks_run(
    template: Path, tmp_path: Path, run_cli: Run
) -> None:
    root = tooled_repo(tmp_path / "repo", DEV_TOOLS)
    before = tree(root)
    assert findings(run_cli, root, "QA004") == 1
    _, _, err = run_cli("--fix", "--select", "QA004", "--template", template, root)
    assert "fixed QA004: created .pre-commit-config.yaml (the template's)" in err, err
    assert "`.venv/bin/pre-commit install`" in err
    reference = render(template, load_example("default"), tmp_path / "reference")
    assert (root / ".pre-commit-config.yaml").read_bytes() == (reference / ".pre-commit-config.yaml").read_bytes()
    assert set(tree(root)) - set(before) == {".pre-commit-config.yaml"}
    assert findings(run_cli, root, "QA004") == 0

    # Stands in for the user's `pip install -e '.[dev]'` into .venv: this environment has every declared tool.
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    commit_all(root)
    env = {**__import__("os").environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home"), "SKIP": "fsdl-check"}
    ran = subprocess.run(
        [str(root / ".venv/bin/pre-commit"), "run", "--all-files"], cwd=root, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "not found" not in ran.stdout and "mypy --strict" in ran.stdout and "Passed" in ran.stdout


def test_a_repository_without_the_hook_tools_is_told_which_to_declare(
    template: Path, tmp_path: Path, run_cli: Run
) -> None:
    root = tooled_repo(tmp_path / "repo", ["ruff", "mypy"])
    before = tree(root)
    _, diff, err = run_cli("--diff", "--select", "QA004", "--template", template, root)
    assert diff == ""
    assert err == (
        "fsdl-check: QA004: not fixed: the template's .pre-commit-config.yaml would need `fsdl-check`, `nbstripout`,"
        " `pre-commit`, `pre-commit-hooks` among its declared (development) dependencies, which this repository"
        " lacks\n"
    )
    run_cli("--fix", "--select", "QA004", "--template", template, root)
    assert tree(root) == before


def test_mypy_run_without_file_names_needs_a_files_setting(template: Path, tmp_path: Path, run_cli: Run) -> None:
    root = tooled_repo(tmp_path / "repo", DEV_TOOLS, mypy_files=False)
    _, diff, err = run_cli("--diff", "--select", "QA004", "--template", template, root)
    assert diff == "" and "a `files` setting for mypy (under [tool.mypy] in pyproject.toml)" in err
    (root / "mypy.ini").write_text("[mypy]\nstrict = True\nfiles = src\n")  # mypy's own file serves as well
    _, diff, _ = run_cli("--diff", "--select", "QA004", "--template", template, root)
    assert diff.startswith("--- /dev/null\n+++ b/.pre-commit-config.yaml\n")


def test_an_existing_precommit_configuration_is_never_replaced(template: Path, tmp_path: Path, run_cli: Run) -> None:
    root = tooled_repo(tmp_path / "repo", DEV_TOOLS)
    (root / ".pre-commit-config.yaml").write_text("repos: []\n")
    _, diff, err = run_cli("--diff", "--select", "QA004", "--template", template, root)
    assert diff == "" and "QA004: not fixed: the configuration exists: its hooks are yours to edit" in err
