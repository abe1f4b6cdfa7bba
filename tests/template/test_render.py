"""Every combination of answers that matters renders a clean project that passes its own audit.

The answer space (python_version x license x tracker x ci x demo_app) has 216 points; a pairwise cover of 12 rows
(every pair of values of any two questions appears in some row) plus the three example answer files is rendered
once per module with Copier and checked for leftover Jinja, files that do not parse, conditional files, and
fsdl-check findings with every rule selected at every severity.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import subprocess
import sysconfig
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from template_helpers import REPO_ROOT, RenderCopier, load_example

import fsdl_check
from fsdl_check import config as fsdl_config
from fsdl_check import engine
from fsdl_check.model import ProjectKind, Severity

# The console scripts installed beside this interpreter (`make test` does not put .venv/bin on PATH).
CONSOLE_SCRIPTS = Path(sysconfig.get_path("scripts"))

FACTORS: dict[str, tuple[Any, ...]] = {
    "python_version": ("3.11", "3.12", "3.13"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "proprietary"),
    "tracker": ("mlflow", "wandb", "tensorboard"),
    "ci": ("github", "gitlab", "none"),
    "demo_app": (False, True),
}
#: The container answer, paired with what its files depend on (Python, tracker, CI); the examples add the rest.
CONTAINERS = ("cpu", "cuda", "none")


def pairwise_cover() -> list[dict[str, Any]]:
    """12 rows: every license x tracker pair once; the other factors follow from it so that all pairs appear."""
    rows = []
    for b, c in itertools.product(range(4), range(3)):
        rows.append(
            {
                "python_version": FACTORS["python_version"][(b + c) % 3],
                "license": FACTORS["license"][b],
                "tracker": FACTORS["tracker"][c],
                "ci": FACTORS["ci"][(b + 2 * c) % 3],
                "demo_app": FACTORS["demo_app"][(b + c) % 2],
                "container": CONTAINERS[b % 3],
                "slurm": (b + 2 * c) % 2 == 0,
            }
        )
        if rows[-1]["container"] != "none":  # Kubernetes needs an image; without one the question is not asked
            rows[-1]["kubernetes"] = (b + c) % 2 == 1
        if rows[-1]["tracker"] == "mlflow":  # sweeps are asked with MLflow only
            rows[-1]["sweeps"] = b % 2 == 1
    return rows


COVER = pairwise_cover()
EXAMPLES = ("default", "full", "minimal")


def case_answers(case: str) -> dict[str, Any]:
    if case in EXAMPLES:
        return {**load_example(case), "copyright_year": "2024"}
    index = int(case.removeprefix("pair"))
    # Vary the name too, so the derived slug and package name are exercised (slug and package come from defaults).
    return {"project_name": f"Digits Run {index}", "copyright_year": "2024", **COVER[index]}


CASES = [*EXAMPLES, *(f"pair{i:02d}" for i in range(len(COVER)))]

# Codes a generated project may switch off, by CI answer: without CI nothing runs the tests or the linters in CI.
ALLOWED_IGNORES = {"github": set(), "gitlab": set(), "none": {"TS002", "QA005", "GA001"}}
# Needs `make lock` (uv lock), which needs the network: shown passing by the end-to-end tests.
EXEMPT_IN_RENDER_TEST = {"PK003"}

# A Jinja variable or block opening (GitHub's `${{ ... }}` aside). A lone `%}` is no sign: `f"{share:.1%}"`.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{\s*[A-Za-z_]|\{%-?\s|\{#-?\s")


def test_pairwise_cover_covers_every_pair() -> None:
    names = list(FACTORS)
    for first, second in itertools.combinations(names, 2):
        seen = {(row[first], row[second]) for row in COVER}
        wanted = set(itertools.product(FACTORS[first], FACTORS[second]))
        assert seen == wanted, f"{first} x {second} misses {wanted - seen}"
    for factor in ("python_version", "tracker", "ci"):
        seen = {(row[factor], row["container"]) for row in COVER}
        assert seen == set(itertools.product(FACTORS[factor], CONTAINERS)), f"container x {factor}"


@pytest.fixture(scope="module")
def rendered(render_copier: RenderCopier, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Render a case on first use and reuse it for every test of this module."""
    cache: dict[str, Path] = {}

    def get(case: str) -> Path:
        if case not in cache:
            project = render_copier(case_answers(case), tmp_path_factory.mktemp(case) / "project")
            # What the message after copy tells the user to do first; the checks read what git tracks.
            subprocess.run(["git", "init", "-q", str(project)], check=True)
            subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
            cache[case] = project
        return cache[case]

    return get


def answers_of(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


def project_files(project: Path) -> Iterator[Path]:
    for path in sorted(project.rglob("*")):
        if ".git" not in path.relative_to(project).parts and path.is_file():
            yield path


@pytest.mark.parametrize("case", CASES)
def test_no_leftover_jinja(case: str, rendered: Callable[[str], Path]) -> None:
    project = rendered(case)
    for path in project_files(project):
        rel = path.relative_to(project).as_posix()
        assert not rel.endswith(".jinja"), rel
        assert not LEFTOVER_JINJA.search(rel), f"unrendered file name {rel}"
        text = path.read_text(encoding="utf-8")
        match = LEFTOVER_JINJA.search(text)
        assert match is None, f"{rel}: unrendered Jinja near {text[max(0, match.start() - 40) : match.end() + 40]!r}"


@pytest.mark.parametrize("case", CASES)
def test_every_file_parses(case: str, rendered: Callable[[str], Path]) -> None:
    project = rendered(case)
    parsed = 0
    for path in project_files(project):
        rel = path.relative_to(project).as_posix()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            ast.parse(text, filename=rel)
        elif path.suffix == ".ipynb":
            notebook = nbformat.reads(text, as_version=4)
            nbformat.validate(notebook)
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    assert cell.outputs == [] and cell.execution_count is None, f"{rel}: committed with outputs"
                    ast.parse(cell.source, filename=rel)
        else:
            continue
        parsed += 1
    assert parsed >= 10  # pyproject, configs, workflows, package modules, tests, notebook


@pytest.mark.parametrize("case", CASES)
def test_conditional_files_follow_the_answers(case: str, rendered: Callable[[str], Path]) -> None:
    project = rendered(case)
    answers = answers_of(project)
    ci, package = answers["ci"], answers["package_name"]
    expected = {
        ".github/workflows/ci.yml": ci == "github",
        ".github/dependabot.yml": ci == "github",
        ".gitlab-ci.yml": ci == "gitlab",
        "renovate.json": ci != "github",
        f"src/{package}/app.py": answers["demo_app"],
        "launch/slurm/train.sbatch": answers["slurm"],
        "launch/slurm/submit.sh": answers["slurm"],
        "configs/sweeps/default.yaml": answers.get("sweeps", False),
        f"src/{package}/tune.py": answers.get("sweeps", False),
        "launch/slurm/tune.sbatch": answers["slurm"] and answers.get("sweeps", False),
    }
    for rel in ("README.md", "LICENSE", ".gitignore", ".pre-commit-config.yaml", "pyproject.toml", "Makefile"):
        expected[rel] = True
    expected["notebooks/explore.ipynb"] = True
    expected[f"src/{package}/py.typed"] = True
    actual = {rel: (project / rel).is_file() for rel in expected}
    assert actual == expected
    assert (project / ".github").exists() == (ci == "github"), "an empty .github folder was left behind"
    kubernetes = answers.get("kubernetes", False)  # not asked, so not recorded, without a container image
    assert (project / "launch" / "k8s").is_dir() == kubernetes
    assert (project / "launch").exists() == (answers["slurm"] or kubernetes), "an empty launch/ folder was left behind"


@pytest.mark.parametrize("case", CASES)
def test_launch_scripts_pass_shellcheck(case: str, rendered: Callable[[str], Path]) -> None:
    """Every shell script a project runs (Debian's shellcheck package; `.ci/run` installs it)."""
    project = rendered(case)
    scripts = sorted(
        path
        for path in project_files(project)
        if path.suffix in (".sh", ".sbatch") or path.read_bytes().startswith((b"#!/bin/bash", b"#!/usr/bin/env bash"))
    )
    if answers_of(project)["slurm"]:
        assert {path.name for path in scripts} >= {"train.sbatch", "submit.sh"}
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script.relative_to(project)} is not executable"
    if scripts:
        checked = subprocess.run(["shellcheck", "--shell=bash", *map(str, scripts)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("case", CASES)
def test_answers_reach_the_project(case: str, rendered: Callable[[str], Path]) -> None:
    project = rendered(case)
    given = case_answers(case)
    if given.get("container") == "none":  # not asked (Copier records no answer) without a container image
        given.pop("kubernetes", None)
    if given.get("tracker") != "mlflow":  # not asked without MLflow
        given.pop("sweeps", None)
    answers = answers_of(project)
    assert {k: answers[k] for k in given} == given
    assert Path(answers["_src_path"]).is_absolute()
    assert "cookiecutter" not in answers  # computed, not stored

    license_text = (project / "LICENSE").read_text()
    heading = {
        "MIT": "MIT License",
        "Apache-2.0": "Apache License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "proprietary": "All rights reserved.",
    }[answers["license"]]
    assert heading in license_text
    assert f"{answers['copyright_year']}" in license_text and answers["author_name"] in license_text
    assert "[yyyy]" not in license_text and "<year>" not in license_text

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == answers["project_slug"]
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    dependencies = " ".join(pyproject["project"]["dependencies"])
    for tracker, package in (("mlflow", "mlflow"), ("wandb", "wandb"), ("tensorboard", "tensorboard")):
        assert (package in dependencies) == (answers["tracker"] == tracker), dependencies
    assert ("streamlit" in dependencies) == answers["demo_app"]
    # fsdl-check is not on the package index: nothing may ask the index for it by name (whoever registered the
    # name would run code on every developer machine); `make setup` takes it from the template's own source.
    assert not re.search(r"fsdl[-_]check\s*[=<>~@\"]", (project / "pyproject.toml").read_text()), "fsdl-check pinned from the index"

    if answers["ci"] == "github":
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        assert workflow["permissions"] == {"contents": "read"}
        assert workflow["env"]["PYTHON_VERSION"] == answers["python_version"]
    elif answers["ci"] == "gitlab":
        gitlab = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
        assert gitlab["default"]["image"] == f"python:{answers['python_version']}"


def audit(project: Path) -> engine.Report:
    """fsdl-check with every rule selected and every severity failing, honouring the project's reasoned ignores."""
    config = fsdl_config.load(project).override(select=("ALL",), fail_on=Severity.INFO)
    return engine.audit(project, config)


@pytest.mark.parametrize("case", CASES)
def test_fsdl_check_reports_zero_findings(case: str, rendered: Callable[[str], Path]) -> None:
    project = rendered(case)
    answers = answers_of(project)
    report = audit(project)

    assert report.kind is ProjectKind.TRAINING, "training-only rules would be skipped"
    ignored = report.config.ignore
    allowed = ALLOWED_IGNORES[answers["ci"]] | ({"DK007"} if answers.get("container") == "none" else set())
    assert set(ignored) <= allowed, f"unexpected ignores {ignored}"
    assert all(reason.strip() for reason in ignored.values()), f"an ignore without a reason: {ignored}"
    not_selected = [r.code for r in report.results if r.reason == "not selected"]
    assert not not_selected

    findings = [f for f in report.failing(Severity.INFO) if f.code not in EXEMPT_IN_RENDER_TEST]
    assert not findings, "\n".join(f"{f.code} {f.path}:{f.line} {f.message}" for f in findings)


@pytest.mark.parametrize("case", EXAMPLES)
def test_fsdl_check_cli_passes_with_every_rule_at_every_severity(case: str, rendered: Callable[[str], Path]) -> None:
    """The command a user runs: exit 0 with every rule selected and `--fail-on info` (the lock file aside)."""
    project = rendered(case)
    exempt = ",".join(sorted(EXEMPT_IN_RENDER_TEST))
    result = subprocess.run(
        [CONSOLE_SCRIPTS / "fsdl-check", "--select", "ALL", "--fail-on", "info", "--ignore", exempt, "--format", "concise", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


MAKE_CALL = re.compile(r"(?:`|^[ \t]*(?:- )?(?:run: )?)make((?: [a-z][\w-]*)+)", re.MULTILINE)
MAKE_TARGET = re.compile(r"^([a-z][\w-]*(?: [a-z][\w-]*)*)\s*:(?!=)", re.MULTILINE)


@pytest.mark.parametrize("case", EXAMPLES)
def test_documented_make_targets_exist(case: str, rendered: Callable[[str], Path]) -> None:
    """Every `make <target>` that the README, CI or the message after copy names is a target of the Makefile."""
    project = rendered(case)
    targets = {name for line in MAKE_TARGET.findall((project / "Makefile").read_text()) for name in line.split()}
    sources = ["README.md", ".github/workflows/ci.yml", ".gitlab-ci.yml"]
    texts = {rel: (project / rel).read_text() for rel in sources if (project / rel).is_file()}
    message = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["_message_after_copy"]
    texts["copier.yml _message_after_copy"] = message
    calls = [(rel, call) for rel, text in texts.items() for call in MAKE_CALL.findall(text)]
    named = {(rel, target) for rel, call in calls for target in call.split()}
    missing = sorted((rel, target) for rel, target in named if target not in targets)
    assert not missing, f"make targets named but not defined: {missing}"
    assert {"setup", "train", "test"} <= {target for _, target in named}


def test_leftover_jinja_pattern() -> None:
    for leftover in ("{{ cookiecutter.package_name }}", "{{cookiecutter.ci}}", "{% if x %}", "{%- endif %}", "{# c #}"):
        assert LEFTOVER_JINJA.search(leftover), leftover
    for fine in ("${{ github.ref }}", 'f"{share:.1%}"', "{'a': 1}", "{{", "x = {}"):
        assert not LEFTOVER_JINJA.search(fine), fine
