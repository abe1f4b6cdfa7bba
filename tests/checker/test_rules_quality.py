"""QA rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

PYPROJECT = '[project]\nname = "t"\n\n[tool.hatch.build]\nonly-packages = true\n'  # [tool...] on line 4


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def hooks(*ids: str) -> str:
    listed = "".join(f"      - id: {i}\n" for i in ids)
    return f"repos:\n  - repo: https://example.invalid/hooks\n    rev: v1\n    hooks:\n{listed}"


def local_hook(entry: str) -> str:
    return (
        "repos:\n  - repo: local\n    hooks:\n      - id: check\n        name: check\n"
        f"        entry: {entry}\n        language: system\n"
    )


def workflow(*runs: str) -> str:
    steps = "".join(f"      - run: {r}\n" for r in runs)
    return (
        f"on: [push]\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n{steps}"
    )


# -- QA001-QA003: a tool configured -------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["QA001", "QA002", "QA003"])
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": PYPROJECT}, ("pyproject.toml", 4)),
        ({"pyproject.toml": '[project]\nname = "t"\n'}, ("pyproject.toml", None)),
        ({"setup.py": "print()\n"}, (".", None)),
        ({"pyproject.toml": PYPROJECT, ".pre-commit-config.yaml": "repos: 3\n"}, ("pyproject.toml", 4)),
    ],
)
def test_tool_missing(make_repo: MakeRepo, code: str, files: dict[str, str], expected: tuple[str, None]) -> None:
    assert where(run(code, make_repo(files))) == [expected]


@pytest.mark.parametrize(
    "files",
    [
        {"ruff.toml": "line-length = 100\n"},
        {"pyproject.toml": PYPROJECT + "[tool.ruff.lint]\nselect = ['E']\n"},
        {".flake8": "[flake8]\nmax-line-length = 100\n"},
        {"setup.cfg": "[flake8]\nmax-line-length = 100\n"},
        {"tox.ini": "[tox]\nenvlist = py311\n\n[flake8]\nmax-line-length = 100\n"},
        {".pylintrc": "[MAIN]\n"},
        {".pre-commit-config.yaml": hooks("ruff-check")},
        {".pre-commit-config.yaml": local_hook("uv run pylint src")},
        {"Makefile": "lint:\n\tflake8 src\n"},
    ],
)
def test_qa001_linter_configured(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA001", make_repo(files)) == []


@pytest.mark.parametrize("code", ["QA001", "QA002", "QA003"])
def test_tool_unknown_when_pyproject_does_not_parse(make_repo: MakeRepo, code: str) -> None:
    # FC002 reports the broken file; claiming the tool is missing would be a guess
    assert run(code, make_repo({"pyproject.toml": "[tool.ruff\nline-length = 1\n"})) == []


def test_qa001_formatting_alone_is_not_linting(make_repo: MakeRepo) -> None:
    root = make_repo({"pyproject.toml": PYPROJECT, "Makefile": "fmt:\n\truff format .\n"})
    assert where(run("QA001", root)) == [("pyproject.toml", 4)]


@pytest.mark.parametrize(
    "files",
    [
        {".pre-commit-config.yaml": hooks("ruff", "ruff-format")},
        {"pyproject.toml": PYPROJECT + "[tool.ruff.format]\nquote-style = 'double'\n"},
        {"pyproject.toml": PYPROJECT + "[tool.black]\nline-length = 100\n"},
        {".pre-commit-config.yaml": hooks("black-jupyter")},
        {".style.yapf": "[style]\nbased_on_style = pep8\n"},
        {".github/workflows/ci.yml": workflow("uv run ruff format --check .")},
    ],
)
def test_qa002_formatter_configured(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA002", make_repo(files)) == []


def test_qa002_linting_alone_is_not_formatting(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"pyproject.toml": PYPROJECT + "[tool.ruff]\nline-length = 100\n", ".pre-commit-config.yaml": hooks("ruff")}
    )
    assert where(run("QA002", root)) == [("pyproject.toml", 4)]


@pytest.mark.parametrize(
    "files",
    [
        {"mypy.ini": "[mypy]\nstrict = True\n"},
        {"pyproject.toml": PYPROJECT + "[tool.mypy]\nstrict = true\n"},
        {"setup.cfg": "[mypy]\nstrict = True\n"},
        {"pyrightconfig.json": "{}"},
        {"pyproject.toml": PYPROJECT + "[tool.ty.rules]\n"},
        {".pre-commit-config.yaml": hooks("mypy")},
        {"Makefile": "check: typecheck\ntypecheck:\n\tpython -m mypy src\n"},
    ],
)
def test_qa003_type_checker_configured(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA003", make_repo(files)) == []


# -- QA004 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected", "words"),
    [
        ({"pyproject.toml": PYPROJECT}, (".pre-commit-config.yaml", None), "no pre-commit"),
        ({".pre-commit-config.yaml": "# hooks\nrepos: []\n"}, (".pre-commit-config.yaml", 2), "no hooks"),
        ({".pre-commit-config.yaml": "repos: 3\n"}, (".pre-commit-config.yaml", 1), "no hooks"),
        ({".pre-commit-config.yaml": "- just a list\n"}, (".pre-commit-config.yaml", None), "no hooks"),
        ({".pre-commit-config.yaml": "repos:\n  - repo: x\n    hooks: [\n"}, (".pre-commit-config.yaml", 4), "parse"),
    ],
)
def test_qa004_fires(make_repo: MakeRepo, files: dict[str, str], expected: tuple[str, int | None], words: str) -> None:
    findings = run("QA004", make_repo(files))
    assert where(findings) == [expected]
    assert words in findings[0].message


def test_qa004_passes_with_a_hook(make_repo: MakeRepo) -> None:
    assert run("QA004", make_repo({".pre-commit-config.yaml": hooks("ruff")})) == []


# -- QA005 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": PYPROJECT}, (".github/workflows", None)),
        (
            {".github/workflows/ci.yml": workflow("pip install ruff mypy pre-commit", "pytest")},
            (".github/workflows/ci.yml", None),
        ),
        # make test is followed, and it does not lint
        (
            {".github/workflows/ci.yml": workflow("make test"), "Makefile": "test:\n\tpytest\nlint:\n\truff check .\n"},
            (".github/workflows/ci.yml", None),
        ),
        # `make check` is followed to its recipe, which only tests
        (
            {".github/workflows/ci.yml": workflow("make check"), "Makefile": "check:\n\tpytest -x\n"},
            (".github/workflows/ci.yml", None),
        ),
        ({".gitlab-ci.yml": "test:\n  script:\n    - pytest\n"}, (".gitlab-ci.yml", None)),
        # a recipe that only calls itself runs nothing (and following it terminates)
        (
            {".github/workflows/ci.yml": workflow("make lint"), "Makefile": "lint: lint\n\t$(MAKE) lint\n"},
            (".github/workflows/ci.yml", None),
        ),
    ],
)
def test_qa005_fires(make_repo: MakeRepo, files: dict[str, str], expected: tuple[str, None]) -> None:
    findings = run("QA005", make_repo(files))
    assert where(findings) == [expected]


@pytest.mark.parametrize(
    "files",
    [
        {".github/workflows/ci.yml": workflow("pre-commit run --all-files --show-diff-on-failure")},
        {".github/workflows/ci.yml": workflow("uv run --frozen mypy src")},
        {".github/workflows/ci.yml": "jobs:\n  l:\n    steps:\n      - uses: pre-commit/action@v3.0.1\n"},
        {".github/workflows/ci.yml": "jobs:\n  l:\n    steps:\n      - uses: astral-sh/ruff-action@v3\n"},
        # make targets are followed, prerequisites too
        {".github/workflows/ci.yml": workflow("make lint"), "Makefile": "lint:\n\t@uv run ruff check .\n"},
        {
            ".github/workflows/ci.yml": workflow("make check"),
            "Makefile": "check: lint test\nlint:\n\truff check .\ntest:\n\tpytest\n",
        },
        {
            ".github/workflows/ci.yml": workflow("make"),
            "Makefile": "all: types\ntypes:\n\t$(PY) -m mypy src\nPY = python3\n",
        },
        # a lint target whose recipe cannot be read is taken at its word
        {".github/workflows/ci.yml": workflow("make lint")},
        {
            ".github/workflows/ci.yml": workflow("tox -e lint"),
            "tox.ini": "[testenv:lint]\ncommands =\n    ruff check .\n",
        },
        {
            ".github/workflows/ci.yml": workflow("nox -s lint"),
            "noxfile.py": "import nox\n\n@nox.session\ndef lint(session):\n    session.run('pre-commit', 'run')\n",
        },
        {".github/workflows/ci.yml": workflow("bash scripts/ci.sh"), "scripts/ci.sh": "set -e\nflake8 .\npytest\n"},
        {".github/workflows/ci.yml": workflow("./ci/lint.sh"), "ci/lint.sh": "#!/bin/sh\npylint src\n"},
        {
            ".github/workflows/ci.yml": workflow("hatch run lint:check"),
            "pyproject.toml": PYPROJECT + "[tool.hatch.envs.lint.scripts]\ncheck = ['mypy src']\n",
        },
        {".gitlab-ci.yml": "lint:\n  script:\n    - ruff check .\n"},
        # pre-commit.ci runs the hooks on every pull request
        {
            ".github/workflows/ci.yml": workflow("pytest"),
            ".pre-commit-config.yaml": "ci:\n  autofix_prs: false\nrepos: []\n",
        },
    ],
)
def test_qa005_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA005", make_repo(files)) == []


# -- QA006 --------------------------------------------------------------------------------------------------------
def test_qa006_points_at_the_syntax_error(make_repo: MakeRepo) -> None:
    findings = run("QA006", make_repo({"src/pkg/model.py": "import torch\n\ndef forward(x)\n    return x\n"}))
    assert where(findings) == [("src/pkg/model.py", 3)]
    assert "does not parse" in findings[0].message


@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/model.py": "def forward(x: int) -> int:\n    return x\n"},
        {"{{cookiecutter.name}}/train.py": "import {{ cookiecutter.package }}\n"},
        {"template/train.py.py": "{% if tracking %}import mlflow{% endif %}\nx = {{ lr }}\n"},
        {"notes.py/readme.txt": "not python at all\n"},  # a directory named like a module
    ],
)
def test_qa006_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA006", make_repo(files)) == []


# -- QA007 --------------------------------------------------------------------------------------------------------
MOSTLY_UNTYPED = """\
def typed(x: int) -> int:
    return x


def untyped(x):
    return x


class Model:
    def predict(self, batch):
        return batch

    def loss(self, y: float) -> float:
        return y

    def _private(self, z):
        return z
"""  # typed 2 of 4 public: `untyped` (line 5) is the first without


def test_qa007_reports_the_share_at_the_first_unannotated_function(make_repo: MakeRepo) -> None:
    findings = run("QA007", make_repo({"src/pkg/model.py": MOSTLY_UNTYPED}))
    assert where(findings) == [(".", None)]
    assert findings[0].message == (
        "2 of 4 public functions in 1 files have full type hints (50%, below 80%); least annotated: "
        "src/pkg/model.py (2 of 4)"
    )


def test_qa007_one_repository_finding_for_many_files_with_the_worst_first(make_repo: MakeRepo) -> None:
    # 441 of 774 findings over 14 repositories were QA007, one per file: now one per repository
    files = {f"pkg/m{i}.py": "def f(x):\n    pass\n" * (i + 1) for i in range(7)}
    findings = run("QA007", make_repo(files))
    assert len(findings) == 1
    assert "0 of 28 public functions in 7 files" in findings[0].message
    assert "least annotated: pkg/m6.py (0 of 7), pkg/m5.py (0 of 6)" in findings[0].message
    assert findings[0].message.endswith("pkg/m2.py (0 of 3) and 2 more")


def test_qa007_forward_overrides_and_args_kwargs_passthroughs_are_not_counted(make_repo: MakeRepo) -> None:
    # "0 of 1 (0%)" for one `def log(*args, **kwargs) -> None` (lightning-hydra-template), and nn.Module.forward
    code = (
        "class Net(nn.Module):\n    def forward(self, x):\n        return x\n\n"
        "def log(*args, **kwargs) -> None:\n    logger.info(*args, **kwargs)\n"
    )
    assert run("QA007", make_repo({"src/pkg/utils.py": code})) == []


def test_qa007_vendored_dependencies_are_not_counted_olmo(make_repo: MakeRepo) -> None:
    files = {"inference/dependencies/lm_eval/glue.py": "def f(x):\n    pass\n", "pkg/a.py": "def g() -> None: ..."}
    assert run("QA007", make_repo(files)) == []


def test_qa007_threshold_comes_from_options(make_repo: MakeRepo) -> None:
    assert run("QA007", make_repo({"src/pkg/model.py": MOSTLY_UNTYPED}), type_hint_share=0.5) == []


@pytest.mark.parametrize(
    "files",
    [
        {"tests/test_model.py": MOSTLY_UNTYPED, "docs/conf.py": "def setup(app):\n    pass\n"},
        {"examples/mnist/train.py": MOSTLY_UNTYPED, "src/pkg/test_utils.py": MOSTLY_UNTYPED},
        {
            "src/pkg/m.py": "class A:\n    @classmethod\n    def make(cls, n: int) -> 'A':\n        return cls()\n\n"
            "    @staticmethod\n    def f(*args: int, **kw: str) -> None: ...\n"
        },
        {"src/pkg/m.py": "def _helper(x):\n    return x\n"},
        {"src/pkg/broken.py": "def f(:\n"},
    ],
)
def test_qa007_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("QA007", make_repo(files)) == []


def test_qa007_self_named_parameter_of_a_function_counts(make_repo: MakeRepo) -> None:
    # only a method's first parameter is exempt; a module-level function's `self` needs a hint like any other
    findings = run("QA007", make_repo({"m.py": "def f(self) -> None:\n    pass\n"}))
    assert [f.message for f in findings] == [
        "0 of 1 public functions in 1 files have full type hints (0%, below 80%); least annotated: m.py (0 of 1)"
    ]


# -- boundaries the mutation run found untested -------------------------------------------------------------------
def test_qa007_exactly_five_files_are_all_named_with_no_more(make_repo: MakeRepo) -> None:
    files = {f"pkg/m{i}.py": "def f(x):\n    pass\n" * (i + 1) for i in range(5)}
    message = run("QA007", make_repo(files))[0].message
    assert message.endswith("pkg/m0.py (0 of 1)") and " more" not in message


def test_qa007_ties_are_named_by_path_and_fully_typed_files_not_at_all(make_repo: MakeRepo) -> None:
    files = {
        "pkg/b.py": "def f(x):\n    pass\n",
        "pkg/a.py": "def f(x):\n    pass\n",
        "pkg/typed.py": "def g(x: int) -> None:\n    pass\n",
    }
    message = run("QA007", make_repo(files))[0].message
    assert message.endswith("least annotated: pkg/a.py (0 of 1), pkg/b.py (0 of 1)")


def test_qa007_a_file_left_out_does_not_end_the_count(make_repo: MakeRepo) -> None:
    files = {"conftest.py": "def fixture(x):\n    pass\n", "pkg/lib.py": "def f(x):\n    pass\n"}
    assert "0 of 1 public functions in 1 files" in run("QA007", make_repo(files))[0].message


@pytest.mark.parametrize(
    ("command", "configured"),
    [("black --check .", True), ("ruff format --check .", True), ("ruff check .", False), ("flake8", False)],
)
def test_qa002_a_formatter_run_in_ci_counts_a_linter_does_not(
    make_repo: MakeRepo, command: str, configured: bool
) -> None:
    files = {"pyproject.toml": PYPROJECT, ".github/workflows/ci.yml": workflow(command)}
    assert (run("QA002", make_repo(files)) == []) is configured


@pytest.mark.parametrize(("command", "configured"), [("mypy src", True), ("pyright", True), ("ruff check .", False)])
def test_qa003_a_type_checker_run_in_ci_counts(make_repo: MakeRepo, command: str, configured: bool) -> None:
    files = {"pyproject.toml": PYPROJECT, ".github/workflows/ci.yml": workflow(command)}
    assert (run("QA003", make_repo(files)) == []) is configured


def test_qa004_a_config_without_repos_is_placed_on_its_first_line(make_repo: MakeRepo) -> None:
    assert where(run("QA004", make_repo({".pre-commit-config.yaml": "ci:\n  autofix_prs: false\n"}))) == [
        (".pre-commit-config.yaml", None)
    ]


def test_qa007_fully_annotated_files_are_not_listed_among_the_least_annotated(make_repo: MakeRepo) -> None:
    typed = "def f(x: int) -> int:\n    return x\n" * 9
    files = {"pkg/typed.py": typed, "pkg/untyped.py": "def g(x):\n    pass\n" * 4}
    findings = run("QA007", make_repo(files))
    assert len(findings) == 1
    assert findings[0].message.endswith("least annotated: pkg/untyped.py (0 of 4)")
