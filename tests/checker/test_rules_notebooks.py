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


@pytest.mark.parametrize(
    "command", ["jupyter trust src/trainer/demo.ipynb", "jupyter nbconvert --to html src/trainer/demo.ipynb"]
)
def test_nb001_a_jupyter_command_that_runs_no_cell_tests_no_notebook(make_repo: MakeRepo, command: str) -> None:
    files = {**PACKAGE, ".github/workflows/ci.yml": workflow(command)}
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


# -- the package the notebooks must stay out of, and what runs them (mutation-run boundaries) -------------------
@pytest.mark.parametrize(
    ("pyproject", "package"),
    [
        ('[project]\nname = "my-pkg"\n', "my_pkg"),  # the distribution's name, normalised to its import name
        ("[tool.setuptools]\npackages = ['mypkg.sub']\n", "mypkg/sub"),  # dotted import names
        # a folder, not under src/ (a malformed entry beside it is skipped)
        ('[tool.hatch.build.targets.wheel]\npackages = [1, "./lib/mypkg"]\n', "lib/mypkg"),
    ],
)
def test_nb001_the_package_is_what_the_build_configuration_names(
    make_repo: MakeRepo, pyproject: str, package: str
) -> None:
    files = {"pyproject.toml": pyproject, f"{package}/__init__.py": "", f"{package}/explore.ipynb": CLEAN}
    findings = run("NB001", make_repo(files))
    assert where(findings) == [(f"{package}/explore.ipynb", None)]
    assert f"inside the importable package '{package}'" in findings[0].message


def test_nb001_without_packaging_a_folder_with_init_is_not_known_as_the_package(make_repo: MakeRepo) -> None:
    files = {"mypkg/__init__.py": "", "mypkg/explore.ipynb": CLEAN}
    assert run("NB001", make_repo(files)) == []


@pytest.mark.parametrize(
    ("recipe", "reported"),
    [
        ("jupyter nbconvert --execute --to notebook train.ipynb", True),
        ("jupyter nbconvert --ExecutePreprocessor.enabled=True train.ipynb", True),
        ("jupyter execute train.ipynb", True),
        ("jupyter nbconvert --to html train.ipynb", False),  # rendered, not run
        ("jupyter lab train.ipynb", False),
        ("papermill train.ipynb out.ipynb -p lr 0.1", True),
    ],
)
def test_nb001_a_task_that_runs_a_notebook_puts_it_on_the_training_path(
    make_repo: MakeRepo, recipe: str, reported: bool
) -> None:
    files = {"train.ipynb": CLEAN, "Makefile": f"train:\n\t{recipe}\n"}
    assert where(run("NB001", make_repo(files))) == ([("train.ipynb", None)] if reported else [])


def test_nb001_a_ci_step_does_not_hide_a_task_that_runs_a_notebook(make_repo: MakeRepo) -> None:
    files = {
        "train.ipynb": CLEAN,
        ".github/workflows/ci.yml": workflow("ruff check ."),
        "Makefile": "train:\n\tpapermill train.ipynb out.ipynb\n",
    }
    assert where(run("NB001", make_repo(files))) == [("train.ipynb", None)]


def test_nb001_every_module_is_read_for_notebook_imports(make_repo: MakeRepo) -> None:
    files = {
        "a.py": "import os\n",
        "b.py": "import import_ipynb\nimport features\n",
        "notebooks/features.ipynb": CLEAN,
    }
    assert where(run("NB001", make_repo(files))) == [("notebooks/features.ipynb", None)]


def test_nb001_papermill_with_a_computed_path_is_not_guessed(make_repo: MakeRepo) -> None:
    code = "import papermill as pm\n\npath = 'x'\npm.execute_notebook(path, 'out.ipynb')\npm.execute_notebook()\n"
    assert run("NB001", make_repo({"run.py": code, "train.ipynb": CLEAN})) == []


@pytest.mark.parametrize(
    ("path", "counts"),
    [
        ("CONTRIBUTING.md", True),
        ("docs/setup.rst", True),
        ("Makefile", True),
        ("src/pkg/NOTES.md", False),  # a note deep in the code is not where contributors read set-up steps
        ("setup.py", False),
    ],
)
def test_nb002_nbstripout_install_counts_where_contributors_read_it(
    make_repo: MakeRepo, path: str, counts: bool
) -> None:
    files = {"notebooks/a.ipynb": WITH_OUTPUT, path: "# run: nbstripout --install\n"}
    assert (run("NB002", make_repo(files)) == []) is counts


def test_nb001_a_notebook_run_by_a_task_is_the_one_reported_not_its_neighbours(make_repo: MakeRepo) -> None:
    files = {
        "train.ipynb": CLEAN,
        "explore.ipynb": CLEAN,
        "run[1].ipynb": CLEAN,  # a name that is also a glob pattern matches itself
        "Makefile": "train:\n\tpapermill train.ipynb out.ipynb\n\tpapermill 'run[1].ipynb' out.ipynb\n",
    }
    assert where(run("NB001", make_repo(files))) == [("run[1].ipynb", None), ("train.ipynb", None)]


# `./notebooks` holds a slash and a dot: it is still a path (a dotted name with no slash, such as `tests.py`, is not).
@pytest.mark.parametrize("folder", ["notebooks", "./notebooks"])
def test_nb001_pytest_nbmake_on_a_folder_tests_only_that_folder(make_repo: MakeRepo, folder: str) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "pkg"\n',
        "pkg/__init__.py": "",
        "pkg/inside.ipynb": CLEAN,
        "notebooks/a.ipynb": CLEAN,
        ".github/workflows/ci.yml": workflow(f"pytest --nbmake {folder}"),
    }
    assert where(run("NB001", make_repo(files))) == [("pkg/inside.ipynb", None)]
