"""GA rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]
WORKFLOW = ".github/workflows/ci.yml"


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


# -- GA001 --------------------------------------------------------------------------------------------------------
JOBS = """\
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: ruff check .
"""


@pytest.mark.parametrize(
    ("workflow", "expected", "message"),
    [
        (
            "name: CI\n\non: [push]\n" + JOBS,
            [(WORKFLOW, 3)],
            "no top-level `permissions:` (and none on job test, lint)",
        ),
        (
            "name: CI\non: push\n" + JOBS.replace("  lint:\n", "  lint:\n    permissions: {contents: read}\n"),
            [(WORKFLOW, 2)],
            "no top-level `permissions:` (and none on job test)",
        ),
        ("on: push\npermissions: write-all\n" + JOBS, [(WORKFLOW, 2)], "permissions: write-all"),
        (
            "on: push\n"
            + JOBS.replace("  test:\n", "  test:\n    permissions: write-all\n").replace(
                "  lint:\n", "  lint:\n    permissions: {}\n"
            ),
            [(WORKFLOW, 4)],
            "job test has write-all",
        ),
    ],
)
def test_unrestricted_workflow_tokens(
    make_repo: MakeRepo, workflow: str, expected: list[tuple[str, int]], message: str
) -> None:
    findings = run("GA001", make_repo({WORKFLOW: workflow}))
    assert where(findings) == expected
    assert findings[0].message == message


def test_workflows_without_permissions_are_one_finding_that_lists_them(make_repo: MakeRepo) -> None:
    # trl has twelve such workflows: one fact, one finding, at the first, naming the others
    files = {f".github/workflows/w{i}.yml": "on: push\n" + JOBS for i in range(3)}
    files[".github/workflows/ok.yml"] = "on: push\npermissions: {}\n" + JOBS
    findings = run("GA001", make_repo(files))
    assert where(findings) == [(".github/workflows/w0.yml", 1)]
    assert findings[0].message.endswith("; 2 more workflows set none either: w1.yml, w2.yml")


@pytest.mark.parametrize(
    "files",
    [
        {WORKFLOW: "on: push\npermissions:\n  contents: read\n" + JOBS},
        {WORKFLOW: "on: push\npermissions: {}\n" + JOBS},
        {WORKFLOW: "on: push\n" + JOBS.replace("    runs-on:", "    permissions: read-all\n    runs-on:")},
        {".gitlab-ci.yml": "test:\n  script:\n    - pytest\n"},
        {WORKFLOW: "not: [a, workflow"},
    ],
)
def test_restricted_workflow_tokens(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("GA001", make_repo(files)) == []


# -- GA002 --------------------------------------------------------------------------------------------------------
PR_TARGET_CHECKOUT = """\
on: pull_request_target
permissions: {contents: read}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: make test
"""
ISSUE_TITLE = """\
on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: greet
        run: |
          echo "thanks for the issue"
          echo "${{ github.event.issue.title }}"
"""


@pytest.mark.parametrize(
    ("workflow", "line", "message"),
    [
        (PR_TARGET_CHECKOUT, 7, "pull_request_target checks out the PR head"),
        (
            PR_TARGET_CHECKOUT.replace("github.event.pull_request.head.sha", "github.head_ref"),
            7,
            "pull_request_target checks out the PR head",
        ),
        (ISSUE_TITLE, 9, "`github.event.issue.title` interpolated into a script"),
        (
            ISSUE_TITLE.replace("issue.title", "pull_request.head.ref"),
            9,
            "`github.event.pull_request.head.ref` interpolated into a script",
        ),
        (
            "on: pull_request\njobs:\n  a:\n    steps:\n      - run: git checkout ${{ github.head_ref }}\n",
            5,
            "`github.head_ref` interpolated into a script",
        ),
        (
            "on: issue_comment\njobs:\n  a:\n    steps:\n      - uses: actions/github-script@v7\n        with:\n"
            "          script: console.log('${{ github.event.comment.body }}')\n",
            5,
            "`github.event.comment.body` interpolated into a script",
        ),
    ],
)
def test_injection_and_pr_head_checkout(make_repo: MakeRepo, workflow: str, line: int, message: str) -> None:
    findings = run("GA002", make_repo({WORKFLOW: workflow}))
    assert where(findings) == [(WORKFLOW, line)]
    assert findings[0].message == message


@pytest.mark.parametrize(
    "workflow",
    [
        PR_TARGET_CHECKOUT.replace("pull_request_target", "pull_request"),
        PR_TARGET_CHECKOUT.replace("        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n", ""),
        ISSUE_TITLE.replace(
            '        run: |\n          echo "thanks for the issue"\n          echo "${{ github.event.issue.title }}"\n',
            '        env:\n          TITLE: ${{ github.event.issue.title }}\n        run: echo "$TITLE"\n',
        ),
        "on: pull_request\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.event.pull_request.number }}\n",
        "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.sha }} ${{ matrix.python }}\n",
    ],
)
def test_safe_workflows(make_repo: MakeRepo, workflow: str) -> None:
    assert run("GA002", make_repo({WORKFLOW: workflow})) == []


# -- GA003 --------------------------------------------------------------------------------------------------------
def test_missing_dependency_updates(make_repo: MakeRepo) -> None:
    findings = run("GA003", make_repo({WORKFLOW: "on: push\n", "README.md": "x"}))
    assert where(findings) == [(".github/dependabot.yml", None)]


@pytest.mark.parametrize(
    "path",
    [".github/dependabot.yml", ".github/dependabot.yaml", "renovate.json", ".renovaterc", ".github/renovate.json5"],
)
def test_dependency_update_tools(make_repo: MakeRepo, path: str) -> None:
    assert run("GA003", make_repo({path: "{}\n"})) == []


# -- GA004 --------------------------------------------------------------------------------------------------------
def test_missing_license_and_readme(make_repo: MakeRepo) -> None:
    findings = run("GA004", make_repo({"src/pkg/__init__.py": "", "docs/README.md": "x", "third_party/LICENSE": "x"}))
    assert [(f.path, f.line, f.message) for f in findings] == [
        ("LICENSE", None, "no LICENSE file and no `license` in [project]"),
        ("README.md", None, "no README"),
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"LICENSE": "MIT", "README.md": "x"}, []),
        ({"COPYING": "GPL", "readme.rst": "x"}, []),
        ({"LICENSE.txt": "MIT", "README": "x"}, []),
        ({"pyproject.toml": '[project]\nname = "x"\nlicense = "MIT"\n', "README.md": "x"}, []),
        ({"pyproject.toml": '[project]\nname = "x"\nlicense-files = ["LICENSES/*"]\n', "README.md": "x"}, []),
        ({"LICENSE.md": "MIT"}, [("README.md", None)]),
        ({"README.md": "x", "pyproject.toml": '[project]\nname = "x"\n'}, [("LICENSE", None)]),
    ],
)
def test_license_and_readme(make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, None]]) -> None:
    assert where(run("GA004", make_repo(files))) == expected


def test_odd_workflow_shapes_are_treated_as_absent(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".github/workflows/a.yml": "on: 3\npermissions: [1]\njobs: [1, 2]\n",
            ".github/workflows/b.yml": (
                "on: {pull_request_target: null}\njobs:\n  x:\n    permissions: 7\n    steps:\n"
                "      - uses: actions/checkout@v4\n        with: [ref]\n      - uses: actions/checkout@v4\n"
                "        with: {ref: 5}\n      - run: 12\n      - uses: actions/github-script@v7\n"
                "        with: {script: [1]}\n      - 7\n"
            ),
            ".github/workflows/c.yml": "- just\n- a list\n",
            ".github/workflows/d.yml": "a: &x [*x]\n",
            "pyproject.toml": "[project]\nname = 'x'\nlicense = {file = 'LICENSE'}\n",
            "README.md": "x",
        }
    )
    assert [run(code, root) for code in ("GA001", "GA002", "GA004")] == [[], [], []]


# -- GA005 --------------------------------------------------------------------------------------------------------
SHA = "b4ffde65f46336ab88eb53be808477a3936bae11"
PINNED = f"""\
on: push
permissions: {{contents: read}}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: github/codeql-action/init@main
      - uses: ./.github/actions/setup
      - uses: docker://alpine@sha256:{"0" * 64}
      - name: set up uv
        uses: astral-sh/setup-uv@{SHA}  # v6.0.1
      - run: uv run pytest
"""
HOW_TO_PIN = (
    ". Pin each to its full commit SHA with the tag as a trailing comment "
    "(`uses: owner/action@<40-hex sha> # v4.1.0`) and let Dependabot or Renovate update it"
)


def steps(*uses: str) -> str:
    return "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n" + "".join(
        f"      - name: step {i}\n        uses: {ref}\n" for i, ref in enumerate(uses)
    )


@pytest.mark.parametrize(
    "files",
    [
        {WORKFLOW: PINNED},
        {WORKFLOW: steps(f"pypa/gh-action-pypi-publish@{SHA.upper()}", "Actions/setup-python@v5")},
        {".github/actions/setup/action.yml": "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n"},
        {"action.yaml": "runs:\n  using: docker\n  image: Dockerfile\n"},
        {".gitlab-ci.yml": "test:\n  script:\n    - pytest\n"},
        {"docs/uses.yml": "steps:\n  - uses: owner/action@main\n"},  # neither a workflow nor an action
    ],
)
def test_pinned_local_and_githubs_own_actions_pass(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("GA005", make_repo(files)) == []


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("astral-sh/setup-uv@v6", "on a version tag (it can be moved): astral-sh/setup-uv@v6"),
        ("astral-sh/setup-uv@v6.0.1", "on a version tag (it can be moved): astral-sh/setup-uv@v6.0.1"),
        ("docker://python:3.12-slim", "on a version tag (it can be moved): docker://python:3.12-slim"),
        (
            "codecov/codecov-action@main",
            "on a branch (worse: it moves with every push): codecov/codecov-action@main",
        ),
        (
            "pypa/gh-action-pypi-publish@release/v1",
            "on a branch (worse: it moves with every push): pypa/gh-action-pypi-publish@release/v1",
        ),
        (
            "dtolnay/rust-toolchain@stable",
            "on a branch (worse: it moves with every push): dtolnay/rust-toolchain@stable",
        ),
        ("owner/action@b4ffde6", "on an abbreviated SHA: owner/action@b4ffde6"),
        ("owner/action", "with no ref: owner/action"),
    ],
)
def test_unpinned_action_says_whether_tag_or_branch(make_repo: MakeRepo, ref: str, kind: str) -> None:
    findings = run("GA005", make_repo({WORKFLOW: steps("actions/checkout@v4", ref)}))
    assert where(findings) == [(WORKFLOW, 9)]
    docker = "; a `docker://` image to `@sha256:<digest>`" if ref.startswith("docker://") else ""
    how = HOW_TO_PIN.replace("v4.1.0`)", f"v4.1.0`{docker})")
    assert findings[0].message == f"1 third-party action not pinned to a commit SHA, {kind}{how}"


def test_one_finding_per_file_lists_its_unpinned_actions(make_repo: MakeRepo) -> None:
    workflow = steps(
        f"astral-sh/setup-uv@{SHA}",
        "astral-sh/setup-uv@v6",
        "codecov/codecov-action@main",
        "astral-sh/setup-uv@v6",  # the same reference again: one fact, listed once
        "pre-commit/action@v3.0.1",
    )
    other = ".github/workflows/release.yaml"
    findings = run("GA005", make_repo({WORKFLOW: workflow, other: steps("softprops/action-gh-release@v2")}))
    assert where(findings) == [(WORKFLOW, 9), (other, 7)]
    assert findings[0].message == (
        "3 third-party actions not pinned to a commit SHA, on a branch (worse: it moves with every push): "
        "codecov/codecov-action@main; on a version tag (it can be moved): astral-sh/setup-uv@v6, "
        "pre-commit/action@v3.0.1" + HOW_TO_PIN
    )


def test_long_lists_are_cut_short(make_repo: MakeRepo) -> None:
    findings = run("GA005", make_repo({WORKFLOW: steps(*(f"owner/action-{i}@v1" for i in range(9)))}))
    assert ", owner/action-5@v1 and 3 more." in findings[0].message
    assert findings[0].message.startswith("9 third-party actions not pinned")


def test_reusable_workflow_jobs_are_read(make_repo: MakeRepo) -> None:
    workflow = (
        "on: push\njobs:\n  local:\n    uses: ./.github/workflows/test.yml\n"
        f"  pinned:\n    uses: octo-org/ci/.github/workflows/test.yml@{SHA}\n"
        "  shared:\n    uses: octo-org/ci/.github/workflows/lint.yml@main\n    secrets: inherit\n"
    )
    findings = run("GA005", make_repo({WORKFLOW: workflow}))
    assert where(findings) == [(WORKFLOW, 8)]
    assert "branch (worse: it moves with every push): octo-org/ci/.github/workflows/lint.yml@main." in (
        findings[0].message
    )


def test_composite_action_steps_are_read(make_repo: MakeRepo) -> None:
    action = (
        "name: setup\nruns:\n  using: composite\n  steps:\n    - uses: actions/setup-python@v5\n"
        "    - name: uv\n      uses: astral-sh/setup-uv@v6\n    - run: uv sync\n      shell: bash\n"
    )
    root = make_repo({"action.yml": action, ".github/actions/lint/action.yaml": action.replace("@v6", "@main")})
    findings = run("GA005", root)
    assert where(findings) == [(".github/actions/lint/action.yaml", 7), ("action.yml", 7)]
    assert "on a version tag (it can be moved): astral-sh/setup-uv@v6." in findings[1].message


def test_odd_uses_shapes_are_skipped(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            WORKFLOW: "on: push\njobs:\n  a:\n    uses: 7\n    steps: [1, {uses: [x]}, {uses: 'owner/a@${{ x }}'}]\n",
            ".github/workflows/b.yml": "- a list\n",
            "action.yml": "runs: [1]\n",
            ".github/actions/x/action.yml": "runs:\n  steps: {uses: owner/a@main}\n",
        }
    )
    assert run("GA005", root) == []


# -- boundaries and exemptions the mutation run found untested ----------------------------------------------------
def test_ga001_lists_three_open_jobs_and_cuts_a_fourth(make_repo: MakeRepo) -> None:
    def jobs(n: int) -> str:
        return "on: push\njobs:\n" + "".join(f"  j{i}:\n    runs-on: ubuntu-latest\n" for i in range(n))

    assert run("GA001", make_repo({WORKFLOW: jobs(3)}))[0].message.endswith("(and none on job j0, j1, j2)")
    assert run("GA001", make_repo({WORKFLOW: jobs(4)}))[0].message.endswith("(and none on job j0, j1, j2, ...)")


def test_ga001_a_second_open_workflow_is_named(make_repo: MakeRepo) -> None:
    files = {f".github/workflows/w{i}.yml": "on: push\n" + JOBS for i in range(2)}
    assert run("GA001", make_repo(files))[0].message.endswith("; 1 more workflows set none either: w1.yml")


def test_ga001_an_empty_workflow_file_does_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {".github/workflows/a.yml": "", ".github/workflows/b.yml": "on: push\n" + JOBS}
    assert where(run("GA001", make_repo(files))) == [(".github/workflows/b.yml", 1)]


def test_ga001_a_workflow_without_on_is_placed_on_its_first_line(make_repo: MakeRepo) -> None:
    assert where(run("GA001", make_repo({WORKFLOW: "name: x\n" + JOBS}))) == [(WORKFLOW, 1)]


@pytest.mark.parametrize("image", ["docker://alpine", "docker://registry.example:5000/team/image"])
def test_ga005_a_docker_image_without_a_tag_has_no_ref(make_repo: MakeRepo, image: str) -> None:
    """`registry:5000/image` has a port, not a tag."""
    findings = run("GA005", make_repo({WORKFLOW: steps(image)}))
    assert f"with no ref: {image}" in findings[0].message


def test_ga005_two_unpinned_actions_are_counted_in_the_plural(make_repo: MakeRepo) -> None:
    message = run("GA005", make_repo({WORKFLOW: steps("owner/a@v1", "owner/b@v1")}))[0].message
    assert message.startswith("2 third-party actions not pinned")


def test_ga005_a_pinned_workflow_does_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {".github/workflows/a.yml": steps(f"owner/a@{SHA}"), ".github/workflows/b.yml": steps("owner/b@v1")}
    assert where(run("GA005", make_repo(files))) == [(".github/workflows/b.yml", 7)]


def test_ga005_composite_actions_are_found_after_other_yaml_and_only_in_action_files(make_repo: MakeRepo) -> None:
    action = "runs:\n  using: composite\n  steps:\n    - uses: owner/a@main\n"
    files = {
        ".github/a.yml": "labels: [bug]\n",  # read before the action, and not an action
        ".github/actions/x/action.yml": action,
        "configs/exp.yaml": action,  # a `runs:` key in a config file is not a composite action
    }
    assert where(run("GA005", make_repo(files))) == [(".github/actions/x/action.yml", 4)]


def test_listing_names_six_and_counts_the_rest() -> None:
    from fsdl_check.rules.ci import listing

    assert listing([str(i) for i in range(6)]) == "0, 1, 2, 3, 4, 5"
    assert listing([str(i) for i in range(7)]) == "0, 1, 2, 3, 4, 5 and 1 more"


def test_ga005_an_empty_ref_is_no_ref(make_repo: MakeRepo) -> None:
    assert "with no ref: owner/action@" in run("GA005", make_repo({WORKFLOW: steps("owner/action@")}))[0].message
