"""TS rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import audit
from fsdl_check.model import Finding, Status
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
    assert where(run("TS002", make_repo({"tests/test_a.py": TEST, **files}))) == [expected]


@pytest.mark.parametrize(
    "files",
    [
        # a `test` target whose recipe was read and runs no tests: the name does not count once the recipe is known
        {".github/workflows/ci.yml": workflow("make test"), "Makefile": "test:\n\techo 'tests are run by hand'\n"},
        {".github/workflows/ci.yml": workflow("just test"), "justfile": "test:\n    echo later\n"},
        # recipes that cannot be read are judged by the target's name: these are not tests
        {".github/workflows/ci.yml": workflow("make lint")},
        {".github/workflows/ci.yml": workflow("just docs")},
        {".github/workflows/ci.yml": workflow("tox -e lint")},
        {".github/workflows/ci.yml": workflow("nox -s docs")},
    ],
)
def test_ts002_a_task_runner_target_counts_by_its_recipe_or_else_its_name(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert len(run("TS002", make_repo({"tests/test_a.py": TEST, **files}))) == 1


@pytest.mark.parametrize("command", ["just test", "tox -e py312", "nox -s unit_tests", "make check-tests"])
def test_ts002_an_unreadable_test_target_is_taken_at_its_word(make_repo: MakeRepo, command: str) -> None:
    files = {"tests/test_a.py": TEST, ".github/workflows/ci.yml": workflow(command)}
    assert run("TS002", make_repo(files)) == []


def test_ts002_says_nothing_without_tests_to_run_ts001_reports_them(make_repo: MakeRepo) -> None:
    assert run("TS002", make_repo({".github/workflows/lint.yml": workflow("ruff check .")})) == []


def test_ts002_is_not_skipped_when_only_the_pytest_configuration_is_missing(make_repo: MakeRepo) -> None:
    root = make_repo({"tests/test_a.py": TEST, ".github/workflows/lint.yml": workflow("ruff check .")})
    report = audit(root, Config(select=("TS001", "TS002")))
    status = {r.code: r.status for r in report.results if r.code.startswith("TS00")}
    assert (status["TS001"], status["TS002"]) == (Status.FAIL, Status.FAIL)
    assert sorted(f.code for f in report.findings) == ["TS001", "TS002"]


def test_ts001_pytest_run_by_ci_with_its_defaults_counts_as_configured(make_repo: MakeRepo) -> None:
    root = make_repo({"tests/test_a.py": TEST, ".github/workflows/ci.yml": workflow("python -m pytest")})
    assert run("TS001", root) == []
    assert where(run("TS001", make_repo({"tests/test_a.py": TEST}))) == [("pyproject.toml", None)]


def reusable(job: str) -> str:
    return f"on: [push]\njobs:\n  test:\n{job}"


@pytest.mark.parametrize(
    "files",
    [
        # the value of `--source` is not coverage's script
        {".github/workflows/ci.yml": workflow("coverage run --source pkg -m py.test")},
        {".github/workflows/ci.yml": workflow("coverage run -p --rcfile=.coveragerc --omit x -m pytest")},
        # a third-party action that takes the command as an input
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: some/pytest-action@v1\n        with:\n          pytest_command: pytest -x tests\n"
        },
        # a local reusable workflow, and a remote one handed a script
        {
            ".github/workflows/ci.yml": reusable("    uses: ./.github/workflows/tests.yml\n"),
            ".github/workflows/tests.yml": "on: [workflow_call]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: pytest\n",
        },
        {
            ".github/workflows/ci.yml": reusable(
                "    uses: org/infra/.github/workflows/linux_job.yml@main\n    with:\n      script: |\n"
                "        pip install -e .\n        python -m pytest test/\n"
            )
        },
    ],
)
def test_ts002_sees_pytest_behind_coverage_options_action_inputs_and_reusable_workflows(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert run("TS002", make_repo({"tests/test_a.py": TEST, **files})) == []


def test_ts002_an_input_that_is_not_a_command_is_not_read_as_one(make_repo: MakeRepo) -> None:
    action = "      - uses: some/action@v1\n        with:\n          args: pytest\n"
    files = {
        "tests/test_a.py": TEST,
        ".github/workflows/ci.yml": "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n" + action,
    }
    assert len(run("TS002", make_repo(files))) == 1


def test_ts002_workflows_that_call_each_other_end(make_repo: MakeRepo) -> None:
    files = {
        "tests/test_a.py": TEST,
        ".github/workflows/a.yml": reusable("    uses: ./.github/workflows/b.yml\n"),
        ".github/workflows/b.yml": reusable("    uses: ./.github/workflows/a.yml\n"),
    }
    assert len(run("TS002", make_repo(files))) == 1


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


@pytest.mark.parametrize(
    "command",
    [
        "python train.py --max_epochs 1",
        "python train.py --max-epochs=1 --data tiny",
        "python -m pkg.train --trainer.fast_dev_run true",
        "python train.py trainer.fast_dev_run=true",
        "python train.py --max_iters=20 --compile=False",
        "torchrun train.py --training.steps 10",
    ],
)
def test_ts003_a_ci_step_that_trains_briefly_is_a_smoke_test(make_repo: MakeRepo, command: str) -> None:
    root = make_repo({"tests/test_a.py": TEST, ".github/workflows/ci.yml": workflow(command)})
    assert run("TS003", root) == []


def test_ts003_a_ci_step_that_trains_for_long_is_not_a_smoke_test(make_repo: MakeRepo) -> None:
    root = make_repo({"tests/test_a.py": TEST, ".github/workflows/ci.yml": workflow("python train.py --max_epochs 10")})
    assert where(run("TS003", root)) == [("tests", None)]


@pytest.mark.parametrize(
    "text",
    ["# TODO: add a fast_dev_run test\ndef test_a() -> None:\n    pass\n", "x = 1  # max_steps=5 one day\n"],
)
def test_ts003_a_comment_that_mentions_a_smoke_run_is_not_one(make_repo: MakeRepo, text: str) -> None:
    assert where(run("TS003", make_repo({"tests/test_a.py": text}))) == [("tests", None)]


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (
            "anyscale jobs submit deploy/jobs/workloads.yaml --wait",
            {"deploy/jobs/workloads.yaml": "entrypoint: bash deploy/jobs/w.sh\n"},
        ),
        ("ray job submit --address $ADDR --working-dir . -- python -m pytest tests", {}),
        ("sky launch -c ci task.yaml", {"task.yaml": "setup: pip install -e .\nrun: |\n  pytest -x\n"}),
    ],
)
def test_ts002_follows_a_job_that_ci_submits_to_a_cluster(
    make_repo: MakeRepo, command: str, extra: dict[str, str]
) -> None:
    files = {
        "tests/test_a.py": TEST,
        ".github/workflows/ci.yml": workflow(command),
        "deploy/jobs/w.sh": "pytest tests\n",
    }
    assert run("TS002", make_repo({**files, **extra})) == []


def test_ts002_a_submitted_job_that_does_not_test_is_reported(make_repo: MakeRepo) -> None:
    files = {
        "tests/test_a.py": TEST,
        ".github/workflows/ci.yml": workflow("anyscale job submit job.yaml"),
        "job.yaml": "entrypoint: python serve.py\n",
    }
    assert len(run("TS002", make_repo(files))) == 1


@pytest.mark.parametrize(
    "call", ["train_model(num_epochs=2)", "tune(num_epochs=1)", "TrainingArguments(num_train_epochs=1)"]
)
def test_ts003_a_test_that_trains_one_or_two_epochs_is_a_smoke_test(make_repo: MakeRepo, call: str) -> None:
    assert run("TS003", make_repo({"tests/test_train.py": f"def test_train() -> None:\n    {call}\n"})) == []


def test_ts003_a_test_that_trains_ten_epochs_is_not_a_smoke_test(make_repo: MakeRepo) -> None:
    files = {"tests/test_train.py": "def test_train() -> None:\n    train_model(num_epochs=10)\n"}
    assert where(run("TS003", make_repo(files))) == [("tests", None)]


def test_ts003_a_step_count_that_is_not_a_training_budget_is_not_a_smoke_test(make_repo: MakeRepo) -> None:
    files = {"tests/test_sampler.py": "def test_sample() -> None:\n    sample(denoise_steps=20, steps=5)\n"}
    assert where(run("TS003", make_repo(files))) == [("tests", None)]


def test_ts002_reads_the_commands_a_step_takes_from_its_jobs_matrix(make_repo: MakeRepo) -> None:
    matrix = (
        "on: [push]\njobs:\n  checks:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        task:\n"
        "          - name: Lint\n            run: ruff check .\n        include:\n          - task:\n"
        "              name: Test\n              run: {test}\n    steps:\n      - run: |\n"
        "          . .venv/bin/activate\n          ${{{{ matrix.task.run }}}}\n"
    )
    files = {"tests/test_a.py": TEST}
    assert run("TS002", make_repo({**files, ".github/workflows/ci.yml": matrix.format(test="pytest -v tests/")})) == []
    assert len(run("TS002", make_repo({**files, ".github/workflows/ci.yml": matrix.format(test="mypy .")}))) == 1


@pytest.mark.parametrize(
    "text",
    [
        'def test_train() -> None:\n    cmd = ["--max-epoch", "1"]\n',
        "def test_train() -> None:\n    max_iter = 50\n    trainer.train(0, max_iter)\n",
        'def test_train() -> None:\n    args = ["--max-update", "3"]\n',
        "def llama_debug() -> Config:\n    config.training.steps = 20\n    return config\n",  # torchtitan
        "training:\n  train_steps: 10\n",
    ],
)
def test_ts003_fairseq_and_detectron2_style_step_caps_are_smoke_tests(make_repo: MakeRepo, text: str) -> None:
    assert run("TS003", make_repo({"tests/test_train.py": text})) == []


# -- QA005 reads CI commands as TS002 does -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {".github/workflows/ci.yml": workflow("coverage run --source pkg -m mypy pkg")},
        {
            ".github/workflows/ci.yml": reusable("    uses: ./.github/workflows/lint.yml\n"),
            ".github/workflows/lint.yml": "on: [workflow_call]\njobs:\n  l:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: some/retry-action@v3\n        with:\n          command: ruff check .\n",
        },
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  c:\n    runs-on: ubuntu-latest\n    strategy:\n"
            "      matrix:\n        task:\n          - run: mypy .\n    steps:\n      - run: ${{ matrix.task.run }}\n"
        },
    ],
)
def test_qa005_sees_linters_through_the_same_ci_command_reading_as_ts002(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert run("QA005", make_repo(files)) == []
    assert len(run("QA005", make_repo({".github/workflows/ci.yml": workflow("echo hi")}))) == 1


def test_ts003_is_skipped_outside_training_projects(make_repo: MakeRepo) -> None:
    """A library has no training loop to smoke-test: TS003 asks nothing of it."""
    files = {
        "pyproject.toml": PYTEST_CONFIG,
        "src/t/__init__.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
        "tests/test_add.py": TEST,
    }
    got = audit(make_repo(files), Config(select=("TS003",)))
    result = next(r for r in got.results if r.code == "TS003")
    assert result.status is Status.SKIP and "training projects" in (result.reason or "")
