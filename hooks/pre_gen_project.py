"""Cookiecutter pre-generation hook: reject invalid answers with exactly the messages Copier gives.

The checks and their messages live in one place, the `validator` of each question in `copier.yml`. Cookiecutter
renders this file with Jinja before running it, so the answers arrive below as JSON; the hook then renders each
question's validator with the same Jinja (sandboxed, plain string methods only) and stops at the first error, in
question order, as Copier does. One line on stderr and exit status 1; nothing is generated.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2.sandbox import SandboxedEnvironment

# Cookiecutter replaces this with the answers (its `cookiecutter` context) before the hook runs.
ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""


def invocation_path(path: str) -> Path:
    """`path` as cookiecutter was given it: a relative one is relative to where cookiecutter was started.

    Hooks run inside the new project's folder; the shell's PWD still names the folder cookiecutter ran in.
    """
    given = Path(path)
    return given if given.is_absolute() else (Path(os.environ.get("PWD") or Path.cwd().parent) / given).resolve()


def load_validators(copier_yml: Path) -> dict[str, str]:
    """Question name -> validator template, in question order, for every question of `copier.yml` that has one."""
    config = yaml.safe_load(copier_yml.read_text(encoding="utf-8"))
    return {
        name: spec["validator"]
        for name, spec in config.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("validator")
    }


def first_error(validators: Mapping[str, str], answers: Mapping[str, Any]) -> str | None:
    """The first failing question's message, worded as Copier words it; None when every answer is valid."""
    env = SandboxedEnvironment(keep_trailing_newline=True)
    for name, validator in validators.items():
        if name not in answers:
            continue
        try:
            message = env.from_string(validator).render(**answers).strip()
        except Exception as error:  # Copier reports a failing validator's exception text the same way
            message = str(error)
        if message:
            return f"Validation error for question '{name}': {message}"
    return None


def main(answers_json: str = ANSWERS_JSON) -> int:
    try:
        answers = json.loads(answers_json)
    except ValueError as error:
        print(f"pre_gen_project: cannot read the answers: {error}", file=sys.stderr)
        return 1
    repo_dir = answers.get("_repo_dir")
    if not repo_dir:
        # Front ends that drive cookiecutter's generator themselves (cruft, for one) do not say where the template is.
        print("pre_gen_project: answers not validated: this front end does not name the template", file=sys.stderr)
        return 0
    try:
        validators = load_validators(invocation_path(repo_dir).parent / "copier.yml")
    except (OSError, AttributeError, yaml.YAMLError) as error:
        print(f"pre_gen_project: cannot read the template's validators: {error}", file=sys.stderr)
        return 1
    error_message = first_error(validators, answers)
    if error_message:
        print(error_message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
