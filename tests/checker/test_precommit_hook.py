"""The pre-commit hook this repository publishes (`.pre-commit-hooks.yaml`), run for real by pre-commit.

pre-commit builds the hook's environment by pip-installing this repository, so the end-to-end tests need the package
index (for hatchling, packaging, pathspec and pyyaml) and take a minute; they are marked e2e. `try-repo` needs a git
repository with the hook committed: the distribution's files are copied into a temporary repository and committed
there, so the tests exercise the working tree as it is, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
#: What `pip install .` needs to build the distribution, and the hook manifest.
DISTRIBUTION = ["pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "checker"]
#: Only the version-control rules, failing on errors: the fixture's result does not move as other rules are added.
CONFIG = 'select = ["VC001", "VC004", "VC005"]\nfail-on = "error"\n'


def test_manifest_is_valid_and_audits_the_whole_repository() -> None:
    [hook] = load_manifest(str(MANIFEST))  # pre-commit's own schema validation

    assert hook["id"] == "fsdl-check" and hook["language"] == "python"
    assert hook["entry"] == "python -m fsdl_check.deadline 120"  # a time limit: a slow input fails, never hangs
    assert hook["pass_filenames"] is False and hook["always_run"] is True and hook["require_serial"] is True
    raw = yaml.safe_load(MANIFEST.read_text())
    assert set(raw[0]) <= {*hook, "minimum_pre_commit_version"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit_everything(root: Path) -> str:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "snapshot")
    return git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of the distribution: (path, commit)."""
    root = tmp_path_factory.mktemp("hook-repo")
    for name in DISTRIBUTION:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, root / name)
    return root, commit_everything(root)


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One pre-commit cache for the module, so the hook's environment is built once."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_DIR", "GIT_INDEX"))}
    return env | {"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


def fixture_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    base = {
        ".fsdl-check.toml": CONFIG,
        "pyproject.toml": "[project]\nname = 'demo'\nversion = '0.1.0'\n",
        "src/demo/__init__.py": '"""Demo."""\n',
    }
    for rel, content in (base | files).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    commit_everything(root)
    return root


def pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.e2e
def test_try_repo_passes_on_a_clean_repository(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    clean = fixture_repo(tmp_path / "clean", {})

    done = pre_commit(clean, pre_commit_env, "try-repo", str(hook_repo[0]), "fsdl-check", "--all-files")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "fsdl-check" in done.stdout and "Passed" in done.stdout


@pytest.mark.e2e
def test_try_repo_fails_and_shows_the_finding(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    dirty = fixture_repo(tmp_path / "dirty", {".env": "WANDB_API_KEY=0123456789abcdef\n"})

    done = pre_commit(dirty, pre_commit_env, "try-repo", str(hook_repo[0]), "fsdl-check", "--all-files")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "VC004" in done.stdout and ".env" in done.stdout  # the hook's own report reaches the user


@pytest.mark.e2e
def test_the_hook_still_audits_the_repository_when_file_names_are_passed(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    path, commit = hook_repo
    config = {"repos": [{"repo": str(path), "rev": commit, "hooks": [{"id": "fsdl-check", "pass_filenames": True}]}]}
    dirty = fixture_repo(
        tmp_path / "dirty",
        {".env": "HF_TOKEN=x\n", ".pre-commit-config.yaml": yaml.safe_dump(config), "docs/guide.md": "# Guide\n"},
    )

    done = pre_commit(dirty, pre_commit_env, "run", "--all-files")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "VC004" in done.stdout and ".env" in done.stdout
    assert "error:" not in done.stdout  # no usage error from the file names
