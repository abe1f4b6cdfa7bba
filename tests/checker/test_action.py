"""The composite GitHub Action (`action.yml`): its shape, that it passes every input through `env:` (so fsdl-check's
own GA002 has nothing to say about it), and, end to end, that its scripts install and run fsdl-check the way a
runner would execute them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fsdl_check.engine import audit

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def test_action_is_a_composite_action_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    # No `version` input: installing fsdl-check by name from the package index, where the name is not
    # registered, would run whatever its registrant published. The action installs its own checkout.
    assert set(inputs) == {"path", "args", "format", "sarif", "sarif-category", "timeout", "python-version"}
    assert all(isinstance(spec.get("description"), str) and "default" in spec for spec in inputs.values())
    assert inputs["path"]["default"] == "." and inputs["sarif"]["default"] == "false"
    assert all(step.get("shell") == "bash" for step in STEPS if "run" in step)
    uses = [step["uses"] for step in STEPS if "uses" in step]
    # Pinned by full commit, as zizmor and GitHub's hardening guide ask (a tag can be moved).
    assert all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref) for ref in uses), uses
    assert any(ref.startswith("github/codeql-action/upload-sarif@") for ref in uses)
    upload = next(step for step in STEPS if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "inputs.sarif == 'true'"


def test_no_expression_is_interpolated_into_a_script() -> None:
    for step in STEPS:
        assert "${{" not in step.get("run", ""), step["name"]


def action_as_workflow(steps: list[dict[str, Any]]) -> str:
    """The action's steps as the one job of a workflow: the shape fsdl-check's GA rules read."""
    workflow = {"on": "push", "permissions": {}, "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": steps}}}
    return yaml.safe_dump(workflow, sort_keys=False)


def ga_findings(tmp_path: Path, steps: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    root = tmp_path / "repo"
    shutil.rmtree(root, ignore_errors=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "action.yml", root / "action.yml")
    (root / ".github" / "workflows" / "action.yml").write_text(action_as_workflow(steps))
    return [(f.code, f.line) for f in audit(root).findings if f.code == "GA002"]


def test_fsdl_check_finds_no_untrusted_interpolation_in_the_action(tmp_path: Path) -> None:
    assert ga_findings(tmp_path, STEPS) == []
    assert [f for f in audit(REPO_ROOT).findings if f.code == "GA002"] == []  # this repository, action.yml and all


def test_the_same_check_catches_an_interpolated_input(tmp_path: Path) -> None:
    """The control for the test above: an expression pasted into `run:` is reported."""
    steps = [dict(step) for step in STEPS]
    audit_step = next(step for step in steps if step.get("id") == "audit")
    audit_step["run"] = 'echo "${{ github.event.pull_request.title }}"\n' + audit_step["run"]

    assert [code for code, _ in ga_findings(tmp_path, steps)] == ["GA002"]


# -- the scripts, run as a runner would run them ---------------------------------------------------------------------
class Runner:
    """Runs the action's `run:` steps in order with bash, evaluating the few expressions their `env:` blocks use.

    `uses:` steps are left out: setup-python is replaced by the interpreter running the tests, and the upload needs
    GitHub. Step outputs, `$GITHUB_ENV` and `$GITHUB_STEP_SUMMARY` work as on a runner.
    """

    def __init__(self, temp: Path, action_path: Path, inputs: dict[str, str]) -> None:
        self.temp = temp
        self.inputs = {name: str(spec["default"]) for name, spec in ACTION["inputs"].items()} | inputs
        self.context = {"github.action_path": str(action_path), "steps.python.outputs.python-path": sys.executable}
        self.env: dict[str, str] = {}
        self.summary = temp / "summary.md"
        self.summary.write_text("# Earlier step\n")

    def evaluate(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("inputs."):
                return self.inputs[name.removeprefix("inputs.")]
            return self.context[name]

        return EXPRESSION.sub(value, text)

    def run(self, step: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
        files = {name: self.temp / f"{name}.{step.get('id', 'step')}" for name in ("env", "output")}
        for file in files.values():
            file.write_text("")
        env = os.environ | self.env | {k: self.evaluate(str(v)) for k, v in step.get("env", {}).items()}
        env |= {
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.env |= dict(line.split("=", 1) for line in files["env"].read_text().splitlines())
        for line in files["output"].read_text().splitlines():
            name, _, value = line.partition("=")
            self.context[f"steps.{step['id']}.outputs.{name}"] = value
        return done


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in STEPS if s.get("id") == step_id)


INSTALL = next(s for s in STEPS if s.get("name") == "Install fsdl-check")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The install step, run once: (runner temp directory, the environment it exported)."""
    action_path = tmp_path_factory.mktemp("action")
    for name in ("pyproject.toml", "README.md", "LICENSE", "checker"):
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, action_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, action_path / name)
    temp = tmp_path_factory.mktemp("runner-temp")
    runner = Runner(temp, action_path, {})
    done = runner.run(INSTALL, temp)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\d+\.\d+", done.stdout)  # fsdl-check --version
    return temp, runner.env


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A repository with one error (a committed `.env`) and one warning-level problem, in a path with a space."""
    root = tmp_path / "my project"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "__init__.py").write_text("")
    (root / ".env").write_text("TOKEN=1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0.1.0'\n")
    return root


def run_action(installed: tuple[Path, dict[str, str]], cwd: Path, inputs: dict[str, str]) -> tuple[Runner, list[Any]]:
    temp, env = installed
    runner = Runner(temp, Path("unused"), inputs)
    runner.env = dict(env)
    results = [runner.run(step("reports"), cwd), runner.run(step("audit"), cwd)]
    return runner, results


@pytest.mark.e2e
def test_action_scripts_report_findings_write_the_summary_and_sarif(
    installed: tuple[Path, dict[str, str]], workspace: Path
) -> None:
    runner, (reports, audit_run) = run_action(
        installed, workspace.parent, {"path": workspace.name, "sarif": "true", "args": "--select VC,PK"}
    )

    assert reports.returncode == 0, reports.stderr
    summary = runner.summary.read_text()
    assert summary.startswith("# Earlier step\n") and "VC004" in summary  # appended, not overwritten
    sarif = json.loads(Path(runner.context["steps.reports.outputs.sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"VC004"}
    assert "GA002" not in {r["ruleId"] for r in sarif["runs"][0]["results"]}  # --select was applied
    assert audit_run.returncode == 1
    assert runner.context["steps.audit.outputs.exit-code"] == "1"
    assert "::error" in audit_run.stdout and ".env" in audit_run.stdout  # github format: annotations


@pytest.mark.e2e
def test_action_scripts_honour_args_and_skip_sarif_by_default(
    installed: tuple[Path, dict[str, str]], workspace: Path
) -> None:
    (workspace / ".env").unlink()
    runner, (reports, audit_run) = run_action(
        installed, workspace, {"args": "--select VC --fail-on error", "format": "concise"}
    )

    assert reports.returncode == 0, reports.stderr
    assert "steps.reports.outputs.sarif-file" not in runner.context
    assert audit_run.returncode == 0, audit_run.stdout + audit_run.stderr
    assert runner.context["steps.audit.outputs.exit-code"] == "0"


def test_every_audit_in_the_action_runs_under_the_timeout_input() -> None:
    assert float(ACTION["inputs"]["timeout"]["default"]) > 0
    for step_id in ("reports", "audit"):
        script = step(step_id)
        assert script["env"]["TIMEOUT"] == "${{ inputs.timeout }}"
        assert '-m fsdl_check.deadline "$TIMEOUT"' in script["run"]
        calls = [line for line in script["run"].splitlines() if '"$AUDIT_PATH"' in line]
        assert calls and all(line.strip().startswith("fsdl_check ") for line in calls)


@pytest.mark.e2e
def test_action_scripts_stop_a_run_past_the_timeout(installed: tuple[Path, dict[str, str]], workspace: Path) -> None:
    runner, (_, audit_run) = run_action(installed, workspace, {"timeout": "0.001"})

    assert audit_run.returncode == 2
    assert runner.context["steps.audit.outputs.exit-code"] == "2"
    assert "took longer than its time limit" in audit_run.stderr
