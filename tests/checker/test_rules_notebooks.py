"""NB rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def notebook(*outputs: list[dict[str, object]]) -> str:
    """A notebook with one code cell per item of `outputs`, written as Jupyter writes it (indent 1)."""
    cells = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": out, "source": ["x = 1\n"]}
        for out in outputs
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


CLEAN = notebook([])
STREAM = {"name": "stdout", "output_type": "stream", "text": ["loss 0.31\n"]}
WITH_OUTPUT = notebook([], [STREAM], [STREAM])


def workflow(*runs: str) -> str:
    steps = "".join(f"      - run: {r}\n" for r in runs)
    return f"on: [push]\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


# -- NB001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected", "words"),
    [
        (
            {"src/trainer/__init__.py": "", "src/trainer/data/__init__.py": "", "src/trainer/data/prep.ipynb": CLEAN},
            [("src/trainer/data/prep.ipynb", None)],
            "inside the importable package 'src/trainer'",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "my-trainer"\n',
                "my_trainer/__init__.py": "",
                "my_trainer/eda.ipynb": CLEAN,
            },
            [("my_trainer/eda.ipynb", None)],
            "inside the importable package",
        ),
        (
            {"train.py": "import import_ipynb\nimport preprocess\n", "preprocess.ipynb": CLEAN},
            [("preprocess.ipynb", None)],
            "imported as a module by train.py",
        ),
        (
            {"train.py": "from ipynb.fs.full.features import build\n", "nb/features.ipynb": CLEAN},
            [("nb/features.ipynb", None)],
            "imported as a module",
        ),
        (
            {"train.py": "import os\nimport import_ipynb\n", "other.ipynb": CLEAN},
            [("train.py", 2)],
            "imports notebooks as modules with import_ipynb",
        ),
        (
            {
                "justfile": "train:\n    papermill notebooks/train.ipynb out.ipynb -p lr 0.1\n",
                "notebooks/train.ipynb": CLEAN,
            },
            [("notebooks/train.ipynb", None)],
            "executed by papermill",
        ),
        (
            {
                "Makefile": "train:\n\tjupyter nbconvert --to notebook --execute ./notebooks/train.ipynb\n",
                "notebooks/train.ipynb": CLEAN,
            },
            [("notebooks/train.ipynb", None)],
            "executed by jupyter in Makefile",
        ),
        (
            {
                "pipeline.py": "import papermill as pm\npm.execute_notebook('train.ipynb', 'out.ipynb')\n",
                "train.ipynb": CLEAN,
            },
            [("train.ipynb", None)],
            "executed by papermill from pipeline.py",
        ),
    ],
)
def test_nb001_fires(
    make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int | None]], words: str
) -> None:
    findings = run("NB001", make_repo(files))
    assert where(findings) == expected
    assert words in findings[0].message


@pytest.mark.parametrize(
    "files",
    [
        {"src/trainer/__init__.py": "", "notebooks/explore.ipynb": CLEAN},
        {"src/notebooks/explore.ipynb": CLEAN},  # under src/ but not in a package
        {
            "Makefile": "html:\n\tjupyter nbconvert --to html notebooks/explore.ipynb\n",
            "notebooks/explore.ipynb": CLEAN,
        },
        # executing documentation notebooks in CI tests the docs; nothing trains from them
        {".github/workflows/docs.yml": workflow("jupyter execute docs/tutorial.ipynb"), "docs/tutorial.ipynb": CLEAN},
        {"train.py": "import torch\n", "notebooks/explore.ipynb": CLEAN},
    ],
)
def test_nb001_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("NB001", make_repo(files)) == []


PACKAGE = {"src/trainer/__init__.py": "", "src/trainer/demo.ipynb": CLEAN, "notebooks/train.ipynb": CLEAN}


@pytest.mark.parametrize(
    "command",
    [
        "pytest --nbmake src/trainer notebooks",
        "pytest --nbmake",  # every notebook pytest collects
        "python -m pytest --nbval-lax src/trainer/demo.ipynb notebooks/",
        "jupyter nbconvert --to notebook --execute src/trainer/demo.ipynb notebooks/train.ipynb",
        "papermill src/trainer/demo.ipynb /tmp/a.ipynb && papermill notebooks/train.ipynb /tmp/b.ipynb",
        "treon src/trainer notebooks",
    ],
)
def test_nb001_notebooks_that_ci_executes_are_tested_not_production_code(make_repo: MakeRepo, command: str) -> None:
    files = {**PACKAGE, "Makefile": "run:\n\tpapermill notebooks/train.ipynb out.ipynb\n"}
    assert len(run("NB001", make_repo(files))) == 2
    assert run("NB001", make_repo({**files, ".github/workflows/ci.yml": workflow(command)})) == []


def test_nb001_ci_executing_some_notebooks_leaves_the_others_reported(make_repo: MakeRepo) -> None:
    files = {**PACKAGE, ".github/workflows/ci.yml": workflow("pytest --nbmake notebooks/")}
    assert where(run("NB001", make_repo(files))) == [("src/trainer/demo.ipynb", None)]


def test_nb001_a_pytest_run_without_a_notebook_plugin_tests_no_notebook(make_repo: MakeRepo) -> None:
    files = {**PACKAGE, ".github/workflows/ci.yml": workflow("pytest tests src/trainer")}
    assert where(run("NB001", make_repo(files))) == [("src/trainer/demo.ipynb", None)]


# -- NB002 --------------------------------------------------------------------------------------------------------
def output_line(text: str) -> int:
    """The line of the first non-empty `"outputs": [` in a notebook's text."""
    lines = text.splitlines()
    return next(i for i, ln in enumerate(lines, 1) if '"outputs": [' in ln and not ln.rstrip().endswith("[],"))


def test_nb002_points_at_the_first_cell_with_outputs(make_repo: MakeRepo) -> None:
    findings = run("NB002", make_repo({"notebooks/explore.ipynb": WITH_OUTPUT, "README.md": "# x\n"}, git=True))
    assert where(findings) == [("notebooks/explore.ipynb", output_line(WITH_OUTPUT))]
    assert "outputs in 2 cells" in findings[0].message


def test_nb002_minified_notebook(make_repo: MakeRepo) -> None:
    minified = json.dumps(json.loads(WITH_OUTPUT))
    assert where(run("NB002", make_repo({"a.ipynb": minified}))) == [("a.ipynb", 1)]


def test_nb002_ignores_untracked_notebooks_in_git(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "# x\n"}, git=True)
    (root / "scratch.ipynb").write_text(WITH_OUTPUT)  # created after `git add`: not committed
    assert run("NB002", root) == []


HOOK = "repos:\n  - repo: https://github.com/kynan/nbstripout\n    rev: 0.7.1\n    hooks:\n      - id: {}\n"
LOCAL = (
    "repos:\n  - repo: local\n    hooks:\n      - id: clear\n        name: clear\n"
    "        entry: jupyter nbconvert --clear-output --inplace\n        language: system\n"
)


@pytest.mark.parametrize(
    "files",
    [
        {"notebooks/explore.ipynb": CLEAN},
        {"notebooks/explore.ipynb": WITH_OUTPUT, ".pre-commit-config.yaml": HOOK.format("nbstripout")},
        {"notebooks/explore.ipynb": WITH_OUTPUT, ".pre-commit-config.yaml": HOOK.format("nb-clean")},
        {"notebooks/explore.ipynb": WITH_OUTPUT, ".pre-commit-config.yaml": LOCAL},
        {"notebooks/explore.ipynb": WITH_OUTPUT, ".gitattributes": "*.ipynb filter=nbstripout\n"},
        {"notebooks/explore.ipynb": WITH_OUTPUT, "CONTRIBUTING.md": "Run `nbstripout --install` once.\n"},
        {"broken.ipynb": "{not json"},
    ],
)
def test_nb002_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("NB002", make_repo(files, git=True)) == []


@pytest.mark.parametrize(
    "path", ["examples/notebooks/sft.ipynb", "docs/guide.ipynb", "tutorial.ipynb", "seg/Tutorial_2.ipynb"]
)
def test_nb002_documentation_notebooks_keep_their_outputs(make_repo: MakeRepo, path: str) -> None:
    assert run("NB002", make_repo({path: WITH_OUTPUT})) == []
    assert len(run("NB002", make_repo({"analysis/scaling.ipynb": WITH_OUTPUT}))) == 1


@pytest.mark.parametrize(("folder", "reported"), [("docs", False), ("examples", False), ("notebooks", True)])
def test_nb001_a_task_runner_executing_documentation_notebooks_tests_the_docs(
    make_repo: MakeRepo, folder: str, reported: bool
) -> None:
    files = {"Makefile": f"docs:\n\tjupyter nbconvert --execute {folder}/guide.ipynb\n", f"{folder}/guide.ipynb": CLEAN}
    assert bool(run("NB001", make_repo(files))) is reported
