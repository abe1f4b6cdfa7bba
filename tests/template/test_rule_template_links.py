"""Rules and the template point at each other: every rule's `template_file` is a file the template really renders,
its fix names that file, and where the file is what satisfies the practice, a project without it fails the rule.

The example answer files are rendered once for the module: `default` (GitHub Actions, Dependabot, CPU image), `full`
(GitLab CI, Renovate, demo app, CUDA image) and `minimal` (no CI service, no image). A rule names the GitHub variant of
a CI file; projects made for another CI service satisfy the same rule with that service's file, and projects without
an image have no container files (they declare DK007 ignored instead); nor, without a launcher, launch files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from template_helpers import RenderCopier, load_example

from fsdl_check import engine
from fsdl_check.config import Config
from fsdl_check.model import REGISTRY, Rule, Status, all_rules

EXAMPLES = ("default", "full", "minimal")
ANSWERS: dict[str, dict[str, Any]] = {name: load_example(name) for name in EXAMPLES}
#: The file each answer renders in place of the one a rule names (None: that answer renders no such file), by the
#: question that decides it.
VARIANTS: dict[str, tuple[str, dict[str | bool, str | None]]] = {
    ".github/workflows/ci.yml": (
        "ci",
        {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml", "none": None},
    ),
    ".github/dependabot.yml": (
        "ci",
        {"github": ".github/dependabot.yml", "gitlab": "renovate.json", "none": "renovate.json"},
    ),
    "docker/Dockerfile": ("container", {"cpu": "docker/Dockerfile", "cuda": "docker/Dockerfile", "none": None}),
    ".dockerignore": ("container", {"cpu": ".dockerignore", "cuda": ".dockerignore", "none": None}),
    "launch/slurm/train.sbatch": ("slurm", {True: "launch/slurm/train.sbatch", False: None}),
    "launch/k8s/job/job.yaml": ("kubernetes", {True: "launch/k8s/job/job.yaml", False: None}),
    "configs/sweeps/default.yaml": ("sweeps", {True: "configs/sweeps/default.yaml", False: None}),
}
#: Rules whose template file is what satisfies them: delete it from a generated project and the rule fires (or a
#: rule it requires does), in the examples listed (a CI file only where there is a CI service). The other rules
#: forbid something (a secret, a hard-coded path, an over-broad token, a root user), so their template file shows the
#: safe way rather than being required, or the template satisfies them twice over (ruff is configured in
#: pyproject.toml and in pre-commit; tests/test_parallel.py and tests/test_preemption.py are short training runs as
#: much as tests/test_training.py, which TS003 names; with sweeps, src/<package>/tune.py tracks runs as much as
#: tracking.py, which EX001 names, and with TensorBoard the logger in configs/default.yaml does).
REQUIRED_BY: dict[str, tuple[str, ...]] = {
    "EX004": EXAMPLES,
    "GA003": EXAMPLES,
    "PK001": EXAMPLES,
    "QA004": EXAMPLES,
    "QA005": ("default", "full"),
    "TS002": ("default", "full"),
    "DK007": ("default", "full"),
    "VC003": EXAMPLES,
}

RULES = [rule for rule in all_rules() if rule.template_file]


@pytest.fixture(scope="module")
def projects(render_copier: RenderCopier, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("linked")
    return {
        name: render_copier({**ANSWERS[name], "copyright_year": "2024"}, out / name / "project") for name in EXAMPLES
    }


def template_path(rule: type[Rule], example: str) -> str | None:
    """Where a project rendered from `example` keeps the rule's template file (None: it has no such file)."""
    assert rule.template_file is not None
    path = rule.template_file.replace("<package>", ANSWERS[example]["package_name"])
    if path not in VARIANTS:
        return path
    question, variants = VARIANTS[path]
    return variants[ANSWERS[example][question]]


def files_of(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_template_file_is_rendered_verbatim_by_some_example(rule: type[Rule], projects: dict[str, Path]) -> None:
    names = {example: rule.template_file.replace("<package>", ANSWERS[example]["package_name"]) for example in EXAMPLES}
    assert any(names[example] in files_of(project) for example, project in projects.items()), (
        f"{rule.code} points at {rule.template_file!r}, which no example project contains"
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_has_each_template_file_or_its_variant(example: str, projects: dict[str, Path]) -> None:
    present = files_of(projects[example])
    missing = {}
    for rule in RULES:
        path = template_path(rule, example)
        if path is not None and path not in present:
            missing[rule.code] = path
    assert missing == {}, f"{example} lacks the template files of {missing}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_fix_names_the_template_file(rule: type[Rule]) -> None:
    # The fix is what users read: it must send them to the same file the rule's metadata points at.
    assert f"`{rule.template_file}`" in rule.fix, f"{rule.code}: the fix does not name {rule.template_file!r}"


def test_template_paths_are_relative_to_the_generated_project() -> None:
    for rule in RULES:
        path = rule.template_file or ""
        assert path.strip() == path and path, rule.code
        assert not path.startswith(("/", "./", "template/", "{{")), f"{rule.code}: {path!r}"
        assert ".." not in path.split("/"), f"{rule.code}: {path!r}"


def outcome(project: Path, rule: type[Rule]) -> tuple[Status, list[str]]:
    """The rule's status with every rule selected, and the codes it requires that fail."""
    report = engine.audit(project, Config(select=("ALL",)))
    results = {result.code: result for result in report.results}
    failing_prerequisites = [code for code in rule.requires if results[code].status is Status.FAIL]
    return results[rule.code].status, failing_prerequisites


def without(project: Path, rel: str, destination: Path) -> Path:
    shutil.copytree(project, destination)
    (destination / rel).unlink()
    return destination


@pytest.mark.parametrize(("code", "example"), [(code, ex) for code, examples in REQUIRED_BY.items() for ex in examples])
def test_removing_the_template_file_makes_the_rule_fire(
    code: str, example: str, projects: dict[str, Path], tmp_path: Path
) -> None:
    rule = REGISTRY[code]
    rel = template_path(rule, example)
    assert rel is not None, f"the {example} example renders no file for {code}"
    project = projects[example]
    assert outcome(project, rule) == (Status.PASS, []), f"{code} should pass on the rendered {example} project"
    status, prerequisites = outcome(without(project, rel, tmp_path / "project"), rule)
    assert status is Status.FAIL or prerequisites, f"{code} still passes without {rel}"


def test_required_by_names_real_rules_with_template_files() -> None:
    assert all(code in REGISTRY and REGISTRY[code].template_file for code in REQUIRED_BY)
    assert all(set(examples) <= set(EXAMPLES) for examples in REQUIRED_BY.values())
