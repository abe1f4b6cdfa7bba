"""Invalid answers are refused before anything is written, by Copier and by cookiecutter, with the same message.

The checks live once, as the validators in copier.yml; cookiecutter's hooks/pre_gen_project.py renders those
same validators. These tests hold the two engines to one wording for each kind of bad answer.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from template_helpers import REPO_ROOT, RenderCookiecutter, RenderCopier

# answer -> the message both engines must give (after "Validation error for question '<name>': ").
INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "package-not-identifier": (
        {"package_name": "digits-classifier"},
        "package_name must be a lowercase Python identifier (a-z, 0-9 and _, not starting with a digit): "
        "got 'digits-classifier'",
    ),
    "package-uppercase": (
        {"package_name": "Digits"},
        "package_name must be a lowercase Python identifier (a-z, 0-9 and _, not starting with a digit): got 'Digits'",
    ),
    "package-leading-digit": (
        {"package_name": "2digits"},
        "package_name must be a lowercase Python identifier (a-z, 0-9 and _, not starting with a digit): got '2digits'",
    ),
    "package-keyword": ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
    "package-test": (
        {"package_name": "test"},
        "package_name 'test' clashes with the project layout (src/ and tests/) or pytest",
    ),
    "package-stdlib": (
        {"package_name": "logging"},
        "package_name 'logging' would shadow the standard-library module of the same name",
    ),
    "package-dependency": ({"package_name": "torch"}, "package_name 'torch' would shadow the 'torch' dependency"),
    "slug-underscore": (
        {"project_slug": "digits_classifier"},
        "project_slug must be kebab-case (lowercase letters and digits, words joined by single hyphens, "
        "starting with a letter): got 'digits_classifier'",
    ),
    "slug-double-hyphen": (
        {"project_slug": "digits--classifier"},
        "project_slug must be kebab-case (lowercase letters and digits, words joined by single hyphens, "
        "starting with a letter): got 'digits--classifier'",
    ),
    "slug-derived-from-bad-name": (
        {"project_name": "Digits (v2)"},
        "project_slug must be kebab-case (lowercase letters and digits, words joined by single hyphens, "
        "starting with a letter): got 'digits-(v2)'",
    ),
    "email-no-at": (
        {"author_email": "you.example.com"},
        "author_email must look like an e-mail address (name@example.com): got 'you.example.com'",
    ),
    "email-no-domain-dot": (
        {"author_email": "you@localhost"},
        "author_email must look like an e-mail address (name@example.com): got 'you@localhost'",
    ),
    "email-space": (
        {"author_email": "you @example.com"},
        "author_email must look like an e-mail address (name@example.com): got 'you @example.com'",
    ),
    "python-3.10": (
        {"python_version": "3.10"},
        "python_version must be 3.11, 3.12 or 3.13 (3.11 is the oldest supported): got '3.10'",
    ),
    "name-with-quote": (
        {"project_name": 'Digits "Pro"', "project_slug": "digits-pro"},
        "project_name must be one line without double quotes or backslashes: got 'Digits \"Pro\"'",
    ),
    "author-empty": ({"author_name": "  "}, "author_name must not be empty"),
    "year-two-digits": ({"copyright_year": "24"}, "copyright_year must be a four-digit year: got '24'"),
}


def question_of(answers: dict[str, Any], message: str) -> str:
    name = message.split(" ", 1)[0]
    assert name in {*answers, "project_slug"}
    return name


@pytest.mark.parametrize("case", list(INVALID))
def test_copier_rejects_with_the_validator_message(case: str, render_copier: RenderCopier, tmp_path: Path) -> None:
    answers, message = INVALID[case]
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=r"^Validation error for question") as error:
        render_copier(answers, destination)
    assert str(error.value) == f"Validation error for question '{question_of(answers, message)}': {message}"
    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("case", list(INVALID))
def test_cookiecutter_hook_rejects_with_the_same_message(
    case: str, render_cookiecutter: RenderCookiecutter, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    answers, message = INVALID[case]
    with pytest.raises(FailedHookException):
        render_cookiecutter(answers, tmp_path / "out")
    stderr_lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert stderr_lines[-1] == f"Validation error for question '{question_of(answers, message)}': {message}"
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")] == []  # nothing left behind


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pre_gen_project", REPO_ROOT / "hooks" / "pre_gen_project.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return load_hook()


@pytest.fixture(scope="module")
def validators(hook: ModuleType) -> dict[str, str]:
    result: dict[str, str] = hook.load_validators(REPO_ROOT / "copier.yml")
    return result


def default_answers() -> dict[str, Any]:
    return {
        "project_name": "Digits Classifier",
        "project_slug": "digits-classifier",
        "package_name": "digits_classifier",
        "description": "",
        "author_name": "Your Name",
        "author_email": "you@example.com",
        "python_version": "3.11",
        "copyright_year": "2024",
    }


def test_every_asked_text_question_is_validated(validators: dict[str, str]) -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    questions = {name: spec for name, spec in config.items() if not name.startswith("_")}
    free_text = [n for n, q in questions.items() if q.get("type") == "str" and not {"choices", "when"} & set(q)]
    assert free_text and set(free_text) <= set(validators)


def test_valid_answers_pass(hook: ModuleType, validators: dict[str, str]) -> None:
    assert hook.first_error(validators, default_answers()) is None
    for email in ("a.b+tag@sub.example.co.uk", "x@y.io"):
        assert hook.first_error(validators, {**default_answers(), "author_email": email}) is None
    for slug in ("a", "digits2", "my-2nd-model"):
        assert hook.first_error(validators, {**default_answers(), "project_slug": slug}) is None


def test_every_standard_library_module_is_refused(hook: ModuleType, validators: dict[str, str]) -> None:
    """The list in copier.yml covers the running interpreter's standard library (public top-level names)."""
    names = sorted(n for n in sys.stdlib_module_names if re.fullmatch(r"[a-z][a-z0-9_]*", n))
    allowed = [n for n in names if hook.first_error(validators, {**default_answers(), "package_name": n}) is None]
    assert allowed == []


def test_hook_reports_one_line_and_fails_on_invalid_answers(hook: ModuleType, validators: dict[str, str]) -> None:
    error = hook.first_error(validators, {**default_answers(), "package_name": "import"})
    assert error == "Validation error for question 'package_name': package_name 'import' is a Python keyword"
    # Questions are checked in copier.yml's order, and the first failure is the one reported, as Copier does.
    both_bad = {**default_answers(), "project_slug": "Bad Slug", "author_email": "nobody"}
    first = hook.first_error(validators, both_bad)
    assert first is not None and first.startswith("Validation error for question 'project_slug'")
    assert "\n" not in first


def test_hook_main_exit_status(hook: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    template_dir = str(REPO_ROOT / "template")
    assert hook.main(json.dumps({**default_answers(), "_repo_dir": template_dir})) == 0
    assert hook.main(json.dumps({**default_answers(), "_repo_dir": template_dir, "python_version": "3.9"})) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "Validation error for question 'python_version': "
        "python_version must be 3.11, 3.12 or 3.13 (3.11 is the oldest supported): got '3.9'"
    ]
    # A front end that does not pass the template folder gets a warning, not a failure.
    assert hook.main(json.dumps(default_answers())) == 0
    assert "answers not validated" in capsys.readouterr().err
    # Broken input is one line and a failure, never a traceback.
    assert hook.main("{not json") == 1
    assert capsys.readouterr().err.startswith("pre_gen_project: cannot read the answers")
