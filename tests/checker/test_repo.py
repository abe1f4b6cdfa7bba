"""The read-only repository view: what it lists, what it reads, what it refuses, and that it parses each file once."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fsdl_check import repo as repo_module
from fsdl_check.model import Finding
from fsdl_check.repo import Options, Repo

MakeRepo = Callable[..., Path]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "snapshot")


def listed(repo: Repo) -> dict[str, tuple[bool, bool]]:
    """path -> (tracked, symlink)"""
    return {f.path: (f.tracked, f.symlink) for f in repo.files}


# -- listing ---------------------------------------------------------------------------------------------------------
def test_git_listing_has_tracked_and_untracked_files_but_not_ignored_ones(make_repo: MakeRepo) -> None:
    root = make_repo({".gitignore": "*.log\nbuild/\n", "src/a.py": "", "README.md": "hi"}, git=True)
    (root / "new.py").write_text("")  # untracked, not ignored
    (root / "debug.log").write_text("")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("")

    repo = Repo(root)

    assert repo.git
    assert listed(repo) == {
        ".gitignore": (True, False),
        "README.md": (True, False),
        "new.py": (False, False),
        "src/a.py": (True, False),
    }
    assert [f.path for f in repo.files] == sorted(f.path for f in repo.files)


def test_a_tracked_file_that_is_also_ignored_is_listed_as_tracked(make_repo: MakeRepo) -> None:
    root = make_repo({"model.ckpt": b"weights"}, git=True)
    (root / ".gitignore").write_text("*.ckpt\n")  # ignoring it later does not untrack it

    assert listed(Repo(root))["model.ckpt"] == (True, False)


def test_walk_without_git_honours_nested_gitignore_files(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".gitignore": "/outputs/\n*.tmp\n",
            "outputs/run.py": "",
            "pkg/outputs/keep.py": "",  # the root pattern is anchored: this one stays
            "pkg/.gitignore": "generated_*.py\n!generated_keep.py\n",
            "pkg/generated_x.py": "",
            "pkg/generated_keep.py": "",
            "pkg/core.py": "",
            "notes.tmp": "",
            "other/generated_y.py": "",  # pkg/.gitignore does not reach a sibling directory
        }
    )

    repo = Repo(root)

    assert not repo.git
    assert sorted(repo.paths) == [
        ".gitignore",
        "other/generated_y.py",
        "pkg/.gitignore",
        "pkg/core.py",
        "pkg/generated_keep.py",
        "pkg/outputs/keep.py",
    ]
    assert not any(f.tracked for f in repo.files)


@pytest.mark.parametrize("use_git", [False, True])
def test_gitignore_lines_that_are_not_valid_patterns_are_skipped(make_repo: MakeRepo, use_git: bool) -> None:
    root = make_repo({".gitignore": "\\\n!\n*.log\n", "sub/.gitignore": "[z-a]\n*.tmp\n", "a.py": ""})
    for rel in ("x.log", "sub/y.tmp", "sub/z.py"):
        (root / rel).write_text("")

    repo = Repo(root)

    assert sorted(repo.paths) == [".gitignore", "a.py", "sub/.gitignore", "sub/z.py"]
    assert repo.ignores("x.log") and not repo.ignores("a.py")


@pytest.mark.parametrize("use_git", [False, True])
def test_virtual_environments_and_tool_caches_are_not_listed_unless_tracked(make_repo: MakeRepo, use_git: bool) -> None:
    root = make_repo({"main.py": "", "vendor/venv/kept.py": ""}, git=use_git)  # tracked before the caches appear
    for rel in (".venv/lib/site.py", "node_modules/x/index.js", "env311/pyvenv.cfg", "env311/lib/mod.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")

    paths = Repo(root).paths

    assert "main.py" in paths
    assert not any(p.startswith((".venv/", "node_modules/", "env311/")) for p in paths)
    assert ("vendor/venv/kept.py" in paths) is use_git  # a walk skips every `venv`; git lists what is tracked


def test_has_and_glob(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": "", "pkg/b.py": "", ".github/workflows/ci.yml": "", "docs/c.md": ""})
    repo = Repo(root)

    assert repo.has("setup.py", "pkg/b.py", "a.py") == "pkg/b.py"
    assert repo.has("missing.txt") is None
    assert [f.path for f in repo.glob("*.py")] == ["a.py", "pkg/b.py"]
    assert [f.path for f in repo.glob(".github/workflows/*.yml")] == [".github/workflows/ci.yml"]


def test_exclude_option_leaves_paths_out_of_listing_reading_and_parsing(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"src/a.py": "x = 1\n", "vendored/b.py": "y = (\n", "data/broken.yml": "a: [\n", "nb/n.ipynb": "{}"}, git=True
    )

    repo = Repo(root, Options(exclude=("vendored/", "data/", "*.ipynb")))

    assert sorted(repo.paths) == ["src/a.py"]
    assert repo.text("vendored/b.py") is None
    assert [m.path for m in repo.python] == ["src/a.py"]
    assert repo.yaml_files == []
    assert repo.notebooks == []
    assert repo.parse_errors == []


def test_git_environment_of_a_calling_hook_does_not_redirect_the_listing(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo({"elsewhere.py": ""}, git=True)
    root = make_repo({"here.py": ""}, git=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))

    assert sorted(Repo(root).paths) == ["here.py"]


def test_git_listing_never_runs_the_repositorys_fsmonitor_command(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"a.py": ""}, git=True)
    marker = tmp_path / "fsmonitor-ran"
    git(root, "config", "core.fsmonitor", f"touch '{marker}'; false")

    repo = Repo(root)

    assert repo.git and sorted(repo.paths) == ["a.py"]
    assert not marker.exists()


# -- snapshots that are not quite whole ------------------------------------------------------------------------------
def test_listing_works_from_the_index_when_git_objects_are_missing(make_repo: MakeRepo) -> None:
    root = make_repo({"pyproject.toml": "[project]\nname = 'x'\n", "src/x/__init__.py": ""})
    git(root, "init", "-q")
    commit_all(root)
    shutil.rmtree(root / ".git" / "objects")
    (root / ".git" / "objects").mkdir()

    repo = Repo(root)

    assert repo.git
    assert listed(repo) == {"pyproject.toml": (True, False), "src/x/__init__.py": (True, False)}
    assert repo.pyproject is not None and repo.pyproject.get("project.name") == "x"


def test_a_broken_git_directory_falls_back_to_a_walk(make_repo: MakeRepo) -> None:
    root = make_repo({".git": "gitdir: /nonexistent/worktree\n", "a.py": "", ".gitignore": "*.log\n", "x.log": ""})

    repo = Repo(root)

    assert not repo.git
    assert sorted(repo.paths) == [".gitignore", "a.py"]


def test_a_path_deleted_on_disk_but_still_in_the_index_is_left_out(make_repo: MakeRepo) -> None:
    root = make_repo({"kept.py": "", "gone.py": "", "gone_dir/x.yml": "a: 1\n"}, git=True)
    (root / "gone.py").unlink()
    shutil.rmtree(root / "gone_dir")

    repo = Repo(root)

    assert sorted(repo.paths) == ["kept.py"]
    assert repo.text("gone.py") is None
    assert repo.yaml_files == []


# -- what is read as text --------------------------------------------------------------------------------------------
def test_files_over_the_size_cap_and_binary_files_are_listed_but_not_read(make_repo: MakeRepo) -> None:
    root = make_repo({"big.py": "x = 1\n" * 100, "blob.yml": b"a: 1\n\0\x01\x02", "ok.py": "y = 2\n"})

    repo = Repo(root, Options(max_read_bytes=200))

    assert {f.path: f.size for f in repo.files} == {"big.py": 600, "blob.yml": 8, "ok.py": 6}
    assert repo.text("big.py") is None
    assert repo.text("blob.yml") is None
    assert repo.text("ok.py") == "y = 2\n"
    assert [m.path for m in repo.python] == ["ok.py"]
    assert repo.yaml_files == []


def test_a_huge_sparse_file_is_sized_but_never_read(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo({"a.py": ""})
    with open(root / "weights.py", "wb") as fh:  # named .py so the Python parser would want it
        fh.truncate(20 * 1024**3)
    opened: list[str] = []
    real_open = open

    def spy(file: object, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spy)
    repo = Repo(root)

    assert {f.path: f.size for f in repo.files}["weights.py"] == 20 * 1024**3
    assert [m.path for m in repo.python] == ["a.py"]
    assert not any(p.endswith("weights.py") for p in opened)


def test_undecodable_bytes_are_replaced_not_fatal(make_repo: MakeRepo) -> None:
    root = make_repo({"latin1.py": b"name = '\xe9t\xe9'\n"})
    repo = Repo(root)

    assert repo.text("latin1.py") == "name = '\ufffdt\ufffd'\n"
    assert repo.python[0].error is None


def test_text_refuses_paths_that_are_not_listed(make_repo: MakeRepo, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    root = make_repo({"a.py": "", ".gitignore": "ignored.py\n", "ignored.py": "x = 1\n"}, git=True)
    repo = Repo(root)

    assert repo.text("a.py") == ""
    for path in ("../outside.txt", str(tmp_path / "outside.txt"), "ignored.py", "nope.py", "", "."):
        assert repo.text(path) is None, path


def test_special_files_are_not_listed_or_read(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": ""})
    os.mkfifo(root / "pipe.py")  # opening a FIFO for reading would block forever

    repo = Repo(root)

    assert sorted(repo.paths) == ["a.py"]
    assert [m.path for m in repo.python] == ["a.py"]
    assert repo.text("pipe.py") is None


def test_a_gitignore_that_is_a_link_to_an_endless_device_is_not_read(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": "", "sub/b.py": ""})
    (root / ".gitignore").symlink_to("/dev/zero")
    (root / "sub" / ".gitignore").symlink_to("/dev/zero")

    repo = Repo(root)

    assert listed(repo) == {
        ".gitignore": (False, True),
        "a.py": (False, False),
        "sub/.gitignore": (False, True),
        "sub/b.py": (False, False),
    }
    assert not repo.ignores("a.py")


# -- symbolic links --------------------------------------------------------------------------------------------------
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the repository, with files a link could point at."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.py").write_text("TOKEN = 'hf_" + "a" * 34 + "'\n")
    (out / "lib.py").write_text("import os\n")
    return out


def add_links(root: Path, outside: Path) -> None:
    (root / "secret_link.py").symlink_to(outside / "secret.py")
    (root / "outside_dir").symlink_to(outside, target_is_directory=True)
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    (root / "pkg" / "self_loop").symlink_to("..", target_is_directory=True)
    (root / "dangling.yml").symlink_to("does/not/exist.yml")


@pytest.mark.parametrize("use_git", [False, True])
def test_symlinks_are_listed_but_never_followed_or_read(make_repo: MakeRepo, outside: Path, use_git: bool) -> None:
    root = make_repo({"pkg/mod.py": "x = 1\n"})
    add_links(root, outside)
    if use_git:
        git(root, "init", "-q")
        commit_all(root)

    repo = Repo(root)

    assert repo.git is use_git
    links = {"secret_link.py", "outside_dir", "loop_a", "loop_b", "pkg/self_loop", "dangling.yml"}
    assert listed(repo) == {"pkg/mod.py": (use_git, False)} | dict.fromkeys(links, (use_git, True))
    assert all(f.size == 0 for f in repo.files if f.symlink)
    assert [m.path for m in repo.python] == ["pkg/mod.py"]
    assert repo.yaml_files == []
    for link in links:
        assert repo.text(link) is None
    assert repo.text("outside_dir/secret.py") is None


def test_a_tracked_path_below_a_directory_replaced_by_a_link_is_not_read(make_repo: MakeRepo, outside: Path) -> None:
    root = make_repo({"conf/secret.py": "harmless = 1\n", "conf/lib.py": "", "main.py": ""})
    git(root, "init", "-q")
    commit_all(root)
    shutil.rmtree(root / "conf")
    (root / "conf").symlink_to(outside, target_is_directory=True)  # the index still names conf/secret.py

    repo = Repo(root)

    assert listed(repo) == {"conf": (False, True), "main.py": (True, False)}  # git sees the link as a new file
    assert repo.text("conf/secret.py") is None
    assert [m.path for m in repo.python] == ["main.py"]


# -- file names ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("use_git", [False, True])
def test_file_names_that_are_not_utf8_are_listed_and_read(make_repo: MakeRepo, use_git: bool) -> None:
    root = make_repo({"ok.py": ""})
    raw = os.path.join(os.fsencode(root), b"caf\xe9.py")
    with open(raw, "wb") as fh:
        fh.write(b"x = 1\n")
    (root / "spaces and\ttab.py").write_text("y = 2\n")
    (root / 'quote"d.py').write_text("z = 3\n")
    if use_git:
        git(root, "init", "-q")
        git(root, "add", "-A")

    repo = Repo(root)
    name = os.fsdecode(b"caf\xe9.py")

    assert sorted(repo.paths) == sorted([name, "ok.py", "spaces and\ttab.py", 'quote"d.py'])
    assert repo.text(name) == "x = 1\n"
    assert all(f.tracked is use_git for f in repo.files)
    assert Finding(name, 1, "QA006", "m").display_path == "caf\ufffd.py"


# -- parse once ------------------------------------------------------------------------------------------------------
PARSED_TREE = {
    "pyproject.toml": "[project]\nname = 'x'\n",
    "ruff.toml": "line-length = 100\n",
    "src/x/__init__.py": "import os\n",
    "src/x/train.py": "def main() -> None:\n    pass\n",
    ".pre-commit-config.yaml": "repos:\n- repo: local\n  hooks:\n  - id: a\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n    - run: pytest\n",
    "configs/broken.yaml": "a: [\n",
    "requirements.txt": "numpy==2.0\n",
    "nb.ipynb": '{"cells": []}',
    "docker/Dockerfile": "FROM python:3.12\nUSER app\n",
    "Containerfile.gpu": "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n",
    "docker/Dockerfile.dockerignore": ".git\n",  # BuildKit's ignore file, not a Dockerfile
}


def test_fixtures_are_cached(make_repo: MakeRepo) -> None:
    repo = Repo(make_repo(PARSED_TREE))

    names = ("files", "paths", "python", "yaml_files", "toml_files", "notebooks", "requirements", "workflows")
    for name in (*names, "dockerfiles", "training_path"):
        assert getattr(repo, name) is getattr(repo, name), name
    assert repo.pyproject is repo.pyproject
    assert repo.precommit is repo.precommit
    assert repo.precommit_hooks is repo.precommit_hooks
    assert repo.parse_errors is repo.parse_errors


def test_every_file_is_read_and_parsed_at_most_once(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(PARSED_TREE, git=True)
    calls: dict[str, list[str]] = {}

    def counting(name: str, parse: Callable[..., object]) -> Callable[..., object]:
        def wrapper(path: object, *args: object, **kwargs: object) -> object:
            calls.setdefault(name, []).append(str(path))
            return parse(path, *args, **kwargs)

        return wrapper

    # Repo imports each parser where it is used, from the parser's module: patched there.
    parsers = {
        "parse_toml": "tomlfile", "parse_yaml": "yamlfile", "parse_notebook": "notebook",
        "parse_requirements": "requirements", "PythonModule": "parallel", "parse_dockerfile": "dockerfile",
    }  # fmt: skip
    monkeypatch.setattr(repo_module, "_read_regular", counting("_read_regular", repo_module._read_regular))
    for name, module in parsers.items():
        where = importlib.import_module(f"fsdl_check.parsing.{module}")
        monkeypatch.setattr(where, name, counting(name, getattr(where, name)))
    repo = Repo(root)

    for _ in range(3):  # every accessor a rule might use, repeatedly
        _ = (repo.pyproject, repo.toml_files, repo.python, repo.yaml_files, repo.notebooks, repo.requirements)
        _ = (repo.precommit, repo.precommit_hooks, repo.workflows, repo.parse_errors, repo.gitignore)
        _ = (repo.dockerfiles, repo.training_path, [d.final_stage for d in repo.dockerfiles])
        _ = [repo.text(f.path) for f in repo.files]
        _ = [w.steps for w in repo.workflows]

    for name, paths in calls.items():
        assert len(paths) == len(set(paths)), f"{name} saw a file twice: {paths}"
    assert sorted(calls["parse_toml"]) == ["pyproject.toml", "ruff.toml"]
    assert sorted(calls["parse_yaml"]) == [".github/workflows/ci.yml", ".pre-commit-config.yaml", "configs/broken.yaml"]
    assert sorted(calls["PythonModule"]) == ["src/x/__init__.py", "src/x/train.py"]
    assert calls["parse_notebook"] == ["nb.ipynb"]
    assert calls["parse_requirements"] == ["requirements.txt"]
    assert sorted(calls["parse_dockerfile"]) == ["Containerfile.gpu", "docker/Dockerfile"]
    assert [d.path for d in repo.dockerfiles] == ["Containerfile.gpu", "docker/Dockerfile"]
    assert len(calls["_read_regular"]) == len(PARSED_TREE)
    assert [(e.path, e.line) for e in repo.parse_errors] == [("configs/broken.yaml", 2)]


# -- inputs of the wrong shape ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hooks_yaml",
    [
        "repos: 3\n",
        "repos:\n- 1\n- null\n",
        "repos:\n- repo: local\n  hooks: 3\n",
        "repos:\n- repo: local\n  hooks: {id: x}\n",
        "repos:\n- repo: local\n  hooks:\n  - 7\n  - {id: [1, 2]}\n",
        "- just\n- a list\n",
    ],
)
def test_precommit_hooks_tolerate_wrong_types(make_repo: MakeRepo, hooks_yaml: str) -> None:
    repo = Repo(make_repo({".pre-commit-config.yaml": hooks_yaml}))

    hooks = repo.precommit_hooks

    assert all(h.id for h in hooks)
    assert [h.id for h in hooks] == (["[1, 2]"] if "[1, 2]" in hooks_yaml else [])


@pytest.mark.parametrize(
    "workflow_yaml",
    [
        "on: push\njobs:\n  a:\n    steps: 3\n",
        "on: push\njobs: [1, null]\n",
        "on: 5\njobs:\n  a: null\n  b: {steps: [1, null, {run: 3}, {uses: [x]}]}\n",
        "on: {pull_request_target: {types: 3}}\njobs: {a: {steps: {run: x}}}\n",
    ],
)
def test_github_workflows_tolerate_wrong_types(make_repo: MakeRepo, workflow_yaml: str) -> None:
    repo = Repo(make_repo({".github/workflows/ci.yml": workflow_yaml}))

    [workflow] = repo.workflows
    steps = workflow.steps

    assert isinstance(workflow.triggers, set) and isinstance(workflow.commands, str)
    assert [s.run for s in steps if s.run] == (["3"] if "run: 3" in workflow_yaml else [])


def test_a_yaml_alias_bomb_is_a_parse_error_not_a_hang(make_repo: MakeRepo) -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append("job:\n  script:\n  - *i\n")
    repo = Repo(make_repo({".gitlab-ci.yml": "\n".join(lines)}))

    [workflow] = repo.workflows

    assert workflow.steps == []
    assert [(e.path, "alias" in e.message) for e in repo.parse_errors] == [(".gitlab-ci.yml", True)]


def test_yaml_anchors_in_ordinary_use_still_load(make_repo: MakeRepo) -> None:
    gitlab = ".defaults: &defaults\n  image: python:3.11\ntest:\n  <<: *defaults\n  script:\n  - pytest -q\n"
    repo = Repo(make_repo({".gitlab-ci.yml": gitlab}))

    [workflow] = repo.workflows

    assert [(s.job, s.run, s.line) for s in workflow.steps] == [("test", "pytest -q", 6)]
    assert repo.parse_errors == []


# -- what cannot be read ----------------------------------------------------------------------------------------------
# The tests run as root in CI, and root reads everything: permission errors are simulated where the checker meets
# them (os.scandir for listing, open for reading). `test_real_permissions_as_an_unprivileged_user` does it for real
# where there is an unprivileged user to run as.
def deny(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """Make listing or opening any of `denied` fail with EACCES, as it does for a user without permission."""
    real_scandir, real_open = os.scandir, open

    def refuse(path: object) -> None:
        if any(Path(os.fsdecode(path)) == d for d in denied):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fsdecode(path))  # type: ignore[arg-type]

    def scandir(path: object = ".") -> object:
        refuse(path)
        return real_scandir(path)  # type: ignore[call-overload]

    def open_(path: object, *args: object, **kwargs: object) -> object:
        refuse(path)
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(repo_module, "open", open_, raising=False)


def test_an_unreadable_directory_in_a_walk_is_reported_and_the_walk_goes_on(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo({"a.py": "x = 1\n", "secret/b.py": "y = 1\n", "z/c.py": "z = 1\n"})
    deny(monkeypatch, root / "secret")
    repo = Repo(root)
    assert [f.path for f in repo.files] == ["a.py", "z/c.py"]
    assert [(e.path, e.message) for e in repo.parse_errors] == [("secret", "cannot list directory: Permission denied")]


def test_directories_git_could_not_open_are_reported() -> None:
    stderr = (
        b"warning: unable to access '/root/.config/git/ignore': Permission denied\n"
        b"warning: could not open directory 'data/secret/': Permission denied\n"
    )
    expected = {"data/secret": "cannot list directory: Permission denied"}
    assert repo_module._git_unreadable_directories(stderr) == expected


@pytest.mark.parametrize("use_git", [False, True])
def test_unreadable_files_are_reported_not_skipped_silently(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, use_git: bool
) -> None:
    files = {"pyproject.toml": "[project]\nname = 'x'\n", "u.py": "x = 1\n", "ok.py": "", "big.py": "z = 1\n" * 50}
    root = make_repo(files, git=use_git)
    deny(monkeypatch, root / "pyproject.toml", root / "u.py")
    repo = Repo(root, Options(max_read_bytes=100))
    assert repo.pyproject is not None  # there, though unreadable: not "no pyproject.toml"
    assert [(e.path, e.message) for e in repo.parse_errors] == [
        ("big.py", "not read: 0.0 MB is over the 0.0001 MB read limit"),
        ("pyproject.toml", "cannot read: Permission denied"),
        ("u.py", "cannot read: Permission denied"),
    ]
    assert [m.path for m in repo.python] == ["ok.py"]


@pytest.mark.parametrize("problem", ["unlistable", "bare"])
def test_a_root_that_cannot_be_audited_is_refused_in_one_line(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    root = make_repo({"a.py": ""})
    if problem == "bare":
        shutil.rmtree(root)
        subprocess.run(["git", "init", "-q", "--bare", str(root)], check=True)
    else:
        deny(monkeypatch, root)
    with pytest.raises(repo_module.UnreadableRoot) as raised:
        Repo(root)
    assert ("bare git repository" if problem == "bare" else "cannot list the files of") in str(raised.value)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary directory that other users can reach (pytest's own are private to the user running it)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="fsdl-perm-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)  # root (the only user these tests run as) removes any mode


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to run as nobody")
def test_real_permissions_as_an_unprivileged_user(shared_tmp: Path) -> None:
    """Modes 000 and 711 on the root, an unreadable directory and file inside: errors and findings, no traceback."""
    import sys

    tmp_path = shared_tmp
    for name in ("r000", "r711", "inner"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.py").write_text("x = 1\n")
    (tmp_path / "inner" / "secret").mkdir()
    (tmp_path / "inner" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "r000").chmod(0)
    (tmp_path / "r711").chmod(0o711)
    (tmp_path / "inner" / "secret").chmod(0)
    (tmp_path / "inner" / "pyproject.toml").chmod(0)
    command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-m", "fsdl_check"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("r000", "r711"):
        done = subprocess.run([*command, str(tmp_path / name)], capture_output=True, text=True, timeout=60, env=env)
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert done.stderr == f"fsdl-check: error: cannot list the files of {tmp_path / name}: Permission denied\n"
    done = subprocess.run(
        [*command, "--format", "concise", "--select", "FC002,PK001", str(tmp_path / "inner")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "secret:1:1: FC002 cannot list directory: Permission denied" in done.stdout
    assert "pyproject.toml:1:1: FC002 cannot read: Permission denied" in done.stdout
    assert "PK001 pyproject.toml cannot be read" in done.stdout
