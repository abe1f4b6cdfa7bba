"""TS rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

PYTEST_CONFIG = '[project]\nname = "t"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
TEST = "def test_ok() -> None:\n    assert True\n"


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def workflow(*runs: str) -> str:
    steps = "".join(f"      - run: {r}\n" for r in runs)
    return (
        f"on: [push]\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n{steps}"
    )


# -- TS001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # no tests at all: both messages
        ({"pyproject.toml": '[project]\nname = "t"\n[tool.ruff]\n'}, [("pyproject.toml", 3), ("tests", None)]),
        # a pyproject that does not parse may configure pytest: only the missing tests are reported
        ({"pyproject.toml": "[tool.pytest.ini_options\n"}, [("tests", None)]),
        # tests, but pytest is not configured
        ({"tests/test_model.py": TEST}, [("pyproject.toml", None)]),
        # pytest configured, but test files that pytest would not collect
        ({"pyproject.toml": PYTEST_CONFIG, "tests/helpers.py": TEST, "test_top.py": TEST}, [("tests", None)]),
    ],
)
def test_ts001_fires(make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int | None]]) -> None:
    findings = run("TS001", make_repo(files))
    assert where(findings) == expected
    messages = " ".join(f.message for f in findings)
    assert ("pytest is not configured" in messages) == any(p == "pyproject.toml" for p, _ in expected)


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": PYTEST_CONFIG, "tests/test_model.py": TEST},
        {"pyproject.toml": '[tool.pytest]\nminversion = "9.0"\n', "test/model_test.py": TEST},
        {"pytest.ini": "[pytest]\n", "tests/unit/test_data.py": TEST},
        {"setup.cfg": "[tool:pytest]\naddopts = -q\n", "tests/test_model.py": TEST},
        {"tox.ini": "[pytest]\naddopts = -q\n", "tests/test_model.py": TEST},
        {"tests/conftest.py": "", "tests/test_model.py": TEST},
        {"pytest.ini": "[pytest]\n", "src/pkg/tests/test_model.py": TEST},
    ],
)
def test_ts001_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("TS001", make_repo(files)) == []


# -- TS002 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"tests/test_a.py": TEST}, (".github/workflows", None)),
        (
            {".github/workflows/lint.yml": workflow("pip install pytest", "ruff check .")},
            (".github/workflows/lint.yml", None),
        ),
        # tox is followed: the lint environment does not test
        (
            {
                ".github/workflows/ci.yml": workflow("tox -e lint"),
                "tox.ini": "[testenv]\ncommands = pytest\n[testenv:lint]\ncommands = ruff check .\n",
            },
            (".github/workflows/ci.yml", None),
        ),
        # a make target that neither is named after tests nor runs them
        (
            {".github/workflows/ci.yml": workflow("make docs"), "Makefile": "docs:\n\tsphinx-build docs out\n"},
            (".github/workflows/ci.yml", None),
        ),
        ({".gitlab-ci.yml": "build:\n  script:\n    - docker build .\n"}, (".gitlab-ci.yml", None)),
    ],
)
def test_ts002_fires(make_repo: MakeRepo, files: dict[str, str], expected: tuple[str, None]) -> None:
    assert where(run("TS002", make_repo(files))) == [expected]


@pytest.mark.parametrize(
    "files",
    [
        {".github/workflows/ci.yml": workflow("pytest -q")},
        {".github/workflows/ci.yml": workflow("python -m pytest tests/")},
        {".github/workflows/ci.yml": workflow("uv run --frozen pytest")},
        {".github/workflows/ci.yml": workflow("coverage run -m pytest && coverage report")},
        {".github/workflows/ci.yml": workflow("hatch test")},
        {".github/workflows/ci.yml": workflow("tox")},
        {".github/workflows/ci.yml": workflow("nox -s tests-3.11")},
        {".github/workflows/ci.yml": workflow("make test")},  # no Makefile to read: taken at its word
        {
            ".github/workflows/ci.yml": workflow("make ci"),
            "Makefile": "ci: lint unit\nlint:\n\truff check .\nunit:\n"
            "\t$(MAKE) -C . run-suite\nrun-suite:\n\tpoetry run pytest\n",
        },
        {".github/workflows/ci.yml": workflow("bash scripts/test.sh"), "scripts/test.sh": "#!/bin/bash\npytest -x\n"},
        {
            ".github/workflows/ci.yml": workflow("tox -e py311"),
            "tox.ini": "[testenv]\ncommands = {envpython} -m pytest\n",
        },
        {
            ".github/workflows/ci.yml": workflow("nox"),
            "noxfile.py": "import nox\n\n@nox.session(name='unit')\ndef tests(session):\n    session.run('pytest')\n",
        },
        {
            ".github/workflows/ci.yml": workflow("pdm run test"),
            "pyproject.toml": "[tool.pdm.scripts]\ntest = 'pytest -q'\n",
        },
        {".github/workflows/ci.yml": workflow("just"), "justfile": "default: test\n\ntest:\n    uv run pytest\n"},
        {".gitlab-ci.yml": "test:\n  script:\n    - pip install -e .\n    - pytest\n"},
    ],
)
def test_ts002_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("TS002", make_repo(files)) == []


# -- TS003 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"tests/test_model.py": "def test_shape() -> None:\n    trainer = Trainer(max_epochs=10)\n"}, ("tests", None)),
        ({"src/pkg/tests/test_model.py": TEST}, ("src/pkg/tests", None)),
        ({"train.py": "Trainer(fast_dev_run=True)\n"}, ("tests", None)),  # not in a test
    ],
)
def test_ts003_fires(make_repo: MakeRepo, files: dict[str, str], expected: tuple[str, None]) -> None:
    assert where(run("TS003", make_repo(files))) == [expected]


@pytest.mark.parametrize(
    "files",
    [
        {"tests/test_training.py": "def test_fit(trainer_cls) -> None:\n    trainer_cls(fast_dev_run=True).fit()\n"},
        {"tests/test_training.py": "def test_overfit() -> None:\n    Trainer(overfit_batches=1)\n"},
        {"tests/test_training.py": "def test_fit() -> None:\n    Trainer(max_epochs=1, limit_val_batches=2)\n"},
        {"tests/test_hf.py": "args = TrainingArguments(output_dir='o', max_steps=5)\n"},
        {"tests/test_cli.py": TEST, "tests/configs/smoke.yaml": "trainer:\n  limit_train_batches: 2\n"},
    ],
)
def test_ts003_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("TS003", make_repo(files)) == []
