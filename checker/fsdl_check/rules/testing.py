"""TS: tests and CI — tests exist, pytest is set up, CI runs them, and the training loop itself is smoke-tested."""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo, RepoFile
from fsdl_check.rules._toml_lines import first_tool_line
from fsdl_check.rules.ci_commands import Command, ci_commands, project_commands

TEST_DIRS = ("tests", "test")
TEST_RUNNERS = {"pytest", "py.test", "unittest", "nose2", "nosetests"}
#: In a test: Lightning's brief-run flags, a step cap, or training for one or two epochs (`num_epochs=2`).
_SMOKE = lazy(
    r"\b(fast_dev_run|overfit_batches|limit_train_batches|max_steps|max_train_steps|max_iters?|max[_-]epoch|max[_-]update)\b"
    r"|\b(?:max_epochs|num_epochs|n_epochs|num_train_epochs|epochs)\s*[=:]\s*[12]\b"
    # a step budget set in a test's config: `config.training.steps = 20` (torchtitan), `train_steps: 10`
    r"|\b(?:training|train)[._](?:steps|iters)\s*[=:]\s*\d{1,3}\b|\b(?:num_)?train(?:ing)?_steps\s*[=:]\s*\d{1,3}\b"
)
_SMOKE_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".json", ".cfg")
#: A `#` comment (full-line or trailing): `# TODO: add a fast_dev_run test` is a wish, not a test.
_COMMENT = lazy(r"(?:^|(?<=\s))#[^\n]*", re.MULTILINE)
#: A command line that trains briefly: `python train.py --max_epochs 1`, `--trainer.fast_dev_run`,
#: `trainer.fast_dev_run=true` (Hydra), `--max_iters=20`, `--epochs 1`.
_SMOKE_RUN = lazy(
    r"(?:^|[\s.=-])(?:fast_dev_run|overfit_batches|limit_train_batches|max_steps|max_iters)\b"
    r"|(?:^|[\s.-])(?:max[_-]epochs|n(?:um)?[_-]epochs|epochs)(?:=|\s+)1\b"
    r"|(?:^|[\s-])(?:training|train)[._-]steps(?:=|\s+)\d{1,3}\b"  # `--training.steps 10`
)


def _test_dir(path: str) -> str | None:
    """The `tests`/`test` directory `path` lies in (the outermost one), else None."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in TEST_DIRS:
            return "/".join(parts[: i + 1])
    return None


def is_test_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]  # mutation: equivalent (only the last part is read)
    is_test_name = (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py")
    return is_test_name and _test_dir(path) is not None


def find_test_files(files: list[RepoFile]) -> list[RepoFile]:
    return [f for f in files if not f.symlink and is_test_file(f.path)]


class TestsExist(Rule):
    """Tests exist and pytest is configured

    Deep learning code fails quietly: a transposed axis or a leaked validation split still trains and still
    produces a number. Tests in a `tests/` directory, collected by a configured pytest, are where data modules,
    models and the training step get pinned down, and the precondition for running them in CI.
    """

    __test__ = False  # a rule, not a pytest test class  # mutation: equivalent (tells pytest this class is no test)
    code, severity = "TS001", Severity.ERROR
    fix = "Add `tests/test_*.py` and `[tool.pytest.ini_options]`; see the template's `tests/test_training.py`."
    example = "train.py\nmodel.py\n# no tests/ directory"
    template_file = "tests/test_training.py"

    def check(
        self,
        files: list[RepoFile],
        pyproject: TomlDoc | None,
        setup_cfg: configparser.ConfigParser | None,
        repo: Repo,
    ) -> Iterator[Finding]:
        if not find_test_files(files):
            yield self.finding("tests", None, "no tests: no test_*.py or *_test.py files under tests/")
        tox_ini = repo.text("tox.ini")
        # pytest run from CI or a task runner with its defaults is configured by that command line: the missing
        # settings file is a fact of taste, not a problem
        configured = (
            any(c.program in ("pytest", "py.test") for c in project_commands(repo))
            or (pyproject is not None and isinstance(pyproject.get("tool.pytest"), dict))
            or repo.has("pytest.ini", ".pytest.ini")
            or (setup_cfg is not None and setup_cfg.has_section("tool:pytest"))
            or (tox_ini is not None and re.search(r"^\[pytest\]", tox_ini, re.MULTILINE) is not None)
            or any(f.name == "conftest.py" for f in files)
        )
        if not configured and not (pyproject is not None and pyproject.error):
            line = first_tool_line(pyproject) if pyproject is not None else None
            message = "pytest is not configured ([tool.pytest.ini_options], pytest.ini or conftest.py)"
            yield self.finding("pyproject.toml", line, message)


def runs_tests(command: Command) -> bool:
    """Whether a command runs the test suite (directly, or through a runner whose recipe could not be read)."""
    if command.program in TEST_RUNNERS:
        return True
    if command.expanded:
        return False  # what it runs follows it in the command list and is judged there
    if command.program in ("tox", "nox"):
        return not command.targets or any("test" in t or t.startswith("py") for t in command.targets)
    if command.program in ("make", "just"):
        return any("test" in t for t in command.targets)
    return False


class TestsRunInCI(Rule):
    """A CI workflow runs the tests

    Tests that only run when someone remembers stop protecting anything. A workflow that runs them on every push
    and pull request — directly, or through `make test`, tox, nox, hatch or a script — turns them into a gate.
    """

    __test__ = False  # mutation: equivalent (tells pytest this class is no test)
    code, severity = "TS002", Severity.ERROR
    fix = "Run `pytest` (or `make test`) in a CI job; see the template's `.github/workflows/ci.yml`."
    example = "jobs:\n  lint:\n    steps:\n      - run: ruff check .\n# no job runs pytest"
    template_file = ".github/workflows/ci.yml"

    def check(self, files: list[RepoFile], repo: Repo) -> Iterator[Finding]:
        # Not `requires = ("TS001",)`: a missing pytest configuration must not hide tests that never run in CI.
        if not find_test_files(files):
            return  # no tests to run: TS001 says so
        if not repo.workflows:
            yield self.finding(".github/workflows", None, "no CI workflow runs the tests")
            return
        if not any(runs_tests(c) for c in ci_commands(repo)):
            message = "no CI step runs the tests (pytest, tox, nox, make test, hatch test, ...)"
            yield self.finding(repo.workflows[0].path, None, message)


class SmokeTest(Rule):
    """A smoke test runs the training loop briefly

    Unit tests of layers do not catch a broken training loop: a loss that never decreases, a checkpoint that does
    not save, a metric logged under the wrong name. A test that runs a few steps (`fast_dev_run`,
    `limit_train_batches`, `max_steps`) or overfits one batch (`overfit_batches`) exercises the whole loop on a CPU
    in seconds; so does a CI step or task that trains for one epoch (`python train.py --max_epochs 1`).
    """

    code, severity = "TS003", Severity.INFO
    fix = "Add a test that trains with `Trainer(fast_dev_run=True)`; see the template's `tests/test_training.py`."
    example = "def test_model_forward():\n    assert model(x).shape == (2, 10)  # never trains"
    requires = ("TS001",)
    training_only = True
    template_file = "tests/test_training.py"

    def check(self, files: list[RepoFile], repo: Repo) -> Iterator[Finding]:
        candidates = [f for f in files if not f.symlink and f.suffix in _SMOKE_SUFFIXES and _test_dir(f.path)]
        for file in candidates:
            text = repo.text(file.path)
            if text is not None and _SMOKE.search(_COMMENT.sub("", text) if file.suffix != ".json" else text):
                return
        if any(_SMOKE_RUN.search(" ".join(c.argv)) for c in project_commands(repo)):
            return  # CI or a task runner trains for a moment (`python train.py --max_epochs 1`)
        tests = find_test_files(files)
        directory = _test_dir(tests[0].path) if tests else None
        message = "no test trains briefly (fast_dev_run, overfit_batches, limit_train_batches or max_steps)"
        yield self.finding(directory or "tests", None, message)
