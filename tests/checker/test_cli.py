"""The `fsdl-check` command: arguments, exit codes, one-line errors, rule listing and explanation."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check import __version__
from fsdl_check.model import REGISTRY, Rule, Severity, all_rules

pytestmark = pytest.mark.usefixtures("marker_rules")

MakeRepo = Callable[..., Path]


def one_line_error(err: str, *needles: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fsdl-check: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def statuses(out: str) -> dict[str, str]:
    return {rule["code"]: rule["status"] for rule in json.loads(out)["rules"]}


# -- exit codes -----------------------------------------------------------------------------------------------------
def test_clean_repository_exits_zero(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"main.py": "x = 1\n"})
    code, out, err = run_cli("--select", "FC", root)
    assert (code, err) == (0, "")
    assert "All selected checks passed." in out


@pytest.mark.parametrize(
    ("marker", "flags", "expected"),
    [
        ("MARK-ERROR", [], 1),
        ("MARK-WARNING", [], 1),  # the default threshold is warning
        ("MARK-INFO", [], 0),
        ("MARK-INFO", ["--fail-on", "info"], 1),
        ("MARK-WARNING", ["--fail-on", "error"], 0),
        ("MARK-ERROR", ["--fail-on", "error"], 1),
        ("MARK-ERROR", ["--exit-zero"], 0),
    ],
)
def test_exit_code_follows_the_threshold(make_repo: MakeRepo, run_cli, marker: str, flags: list[str], expected: int):
    root = make_repo({"main.py": f"x = '{marker}'\n"})
    code, out, err = run_cli("--select", "FC", *flags, root)
    assert (code, err) == (expected, "")
    assert "main.py:1" in out


def test_fail_on_flag_overrides_configuration(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"pyproject.toml": '[tool.fsdl-check]\nfail-on = "info"\n', "a.py": "x = 'MARK-INFO'\n"})
    assert run_cli("--select", "FC", root)[0] == 1
    assert run_cli("--select", "FC", "--fail-on", "warning", root)[0] == 0


# -- one-line errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "needles"),
    [
        ({"pyproject.toml": "[tool.fsdl-check]\nselct = ['FC']\n"}, ["unknown key 'selct'", "pyproject.toml"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nselect = ['ZZ1']\n"}, ["unknown rule code or prefix 'ZZ1'"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nignore = ['PK9999']\n"}, ["'PK9999'"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nseverity = {FC901 = 'fatal'}\n"}, ["severity.FC901", "'fatal'"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nfail-on = 'never'\n"}, ["fail-on", "'never'"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nproject-kind = 'app'\n"}, ["project-kind", "'app'"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nlarge-file-mb = -1\n"}, ["large-file-mb"]),
        ({".fsdl-check.toml": "select = [\n"}, [".fsdl-check.toml", "cannot read configuration"]),
        ({".fsdl-check.toml": "fail-on = 'error'\nfail-on = 'info'\n"}, [".fsdl-check.toml"]),
        ({"pyproject.toml": "[tool]\nfsdl-check = 3\n"}, ["must be a table"]),
        ({".fsdl-check.toml": "select = " + "[" * 5000 + "]" * 5000 + "\n"}, [".fsdl-check.toml", "nested"]),
        ({"pyproject.toml": "[tool.fsdl-check.per-path-ignores]\n'[z-a]' = ['FC']\n"}, ["per-path-ignores", "[z-a]"]),
        ({"pyproject.toml": "[tool.fsdl-check.per-path-ignores]\n'\\' = ['FC']\n"}, ["per-path-ignores"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nexclude = ['[z-a]']\n"}, ["exclude", "[z-a]"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nexclude = ['\\']\n"}, ["exclude"]),
        ({"pyproject.toml": "[tool.fsdl-check]\nignore = ['ALL']\n"}, ["no rule is selected"]),
    ],
)
def test_configuration_errors_exit_two_with_one_line(
    make_repo: MakeRepo, run_cli, files: dict[str, str], needles: list[str]
) -> None:
    code, out, err = run_cli(make_repo(files))
    assert (code, out) == (2, "")
    one_line_error(err, *needles)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--select", "ZZ"], ["--select", "'ZZ'"]),
        (["--extend-select", "FC9,QQ1"], ["--extend-select", "'QQ1'"]),
        (["--ignore", "nope"], ["--ignore", "'NOPE'"]),
        (["--select", ","], ["--select", "no rule code"]),
        (["--fail-on", "fatal"], ["--fail-on", "invalid choice: 'fatal'"]),
        (["--format", "xml"], ["--format", "invalid choice"]),
        (["--project-kind", "app"], ["--project-kind"]),
        (["--no-such-flag"], ["unrecognized arguments: --no-such-flag"]),
        (["--explain", "PK999"], ["unknown rule code 'PK999'"]),
        (["--list-rules", "--format", "sarif"], ["--list-rules", "sarif"]),
        (["--explain", "FC901", "--format", "junit"], ["--explain", "junit"]),
        (["--statistics", "--format", "sarif"], ["--statistics"]),
        (["--explain", ""], ["--explain", "no rule code"]),
        (["--explain", " "], ["--explain", "no rule code"]),
        (["--explain", "FC901", "--list-rules"], ["--explain", "--list-rules", "cannot be combined"]),
        (["--ignore", "ALL"], ["no rule is selected", "--ignore"]),
        (["--select", "FC901", "--ignore", "FC9"], ["no rule is selected"]),
    ],
)
def test_usage_errors_exit_two_with_one_line(make_repo: MakeRepo, run_cli, args: list[str], needles: list[str]):
    root = make_repo({"a.py": "x = 'MARK-ERROR'\n"})
    code, out, err = run_cli(*args, root)
    assert (code, out) == (2, "")
    one_line_error(err, *needles)


def test_missing_path_exits_two(tmp_path: Path, run_cli) -> None:
    code, out, err = run_cli(tmp_path / "nowhere")
    assert (code, out) == (2, "")
    one_line_error(err, "no such file or directory", "nowhere")


def test_explicit_config_files_that_are_not_configurations_exit_two(make_repo: MakeRepo, run_cli) -> None:
    deep = "select = " + "[" * 5000 + "]" * 5000 + "\n"
    root = make_repo({"a.py": "", "deep.toml": deep, "x/pyproject.toml": "tool = 1\n"})
    code, _, err = run_cli("--config", root / "deep.toml", root)
    assert code == 2
    one_line_error(err, "deep.toml", "nested")
    code, _, err = run_cli("--config", root / "x" / "pyproject.toml", root)
    assert code == 2
    one_line_error(err, "pyproject.toml", "tool")


def test_a_pyproject_whose_tool_is_not_a_table_is_audited(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"pyproject.toml": "tool = 1\n[project]\nname = 'x'\n", "a.py": "x = 'MARK-ERROR'\n"})
    code, out, err = run_cli("--select", "FC", root)
    assert (code, err) == (1, "")
    assert "a.py:1" in out


def test_missing_config_file_exits_two(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": ""})
    code, _, err = run_cli("--config", root / "absent.toml", root)
    assert code == 2
    one_line_error(err, "absent.toml")


def test_two_repositories_in_one_run_is_a_usage_error(make_repo: MakeRepo, run_cli) -> None:
    code, _, err = run_cli(make_repo({"a.py": ""}), make_repo({"b.py": ""}))
    assert code == 2
    one_line_error(err, "2 repositories")


def test_crashing_rule_is_a_one_line_internal_error(
    make_repo: MakeRepo, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Exploding(Rule):
        """A rule with a bug"""

        severity, fix = Severity.ERROR, "Fix the rule."

        def check(self) -> list[object]:
            raise ValueError("rule bug\nsecond line")

    Exploding.code = "FC999"
    monkeypatch.setitem(REGISTRY, "FC999", Exploding)
    code, out, err = run_cli("--select", "FC999", make_repo({"a.py": ""}))
    assert (code, out) == (2, "")
    one_line_error(err, "internal error: ValueError: rule bug second line")


def test_unwritable_output_exits_two(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "", "blocker": "a file, not a directory"})
    code, _, err = run_cli("--select", "FC", "--output", root / "blocker" / "report.txt", root)
    assert code == 2
    one_line_error(err, "cannot write")


# -- paths ----------------------------------------------------------------------------------------------------------
def test_default_path_is_the_current_directory(make_repo: MakeRepo, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo({"a.py": "x = 'MARK-ERROR'\n"})
    monkeypatch.chdir(root)
    code, out, _ = run_cli("--select", "FC", "--format", "json")
    assert code == 1
    assert json.loads(out)["root"] == str(root.resolve())


def test_file_arguments_audit_the_git_repository_they_are_in(make_repo: MakeRepo, run_cli) -> None:
    # pre-commit may pass file names; sub/pyproject.toml must not make sub/ the audited root in a git repository
    root = make_repo({"sub/pyproject.toml": "", "sub/pkg/mod.py": "x = 'MARK-ERROR'\n", "top.py": ""}, git=True)
    code, out, _ = run_cli(
        "--select", "FC", "--format", "json", root / "sub/pkg/mod.py", root / "top.py", root / "sub/pyproject.toml"
    )
    assert code == 1
    report = json.loads(out)
    assert report["root"] == str(root.resolve())
    assert report["files"] == 3


def test_file_argument_without_git_uses_the_nearest_pyproject(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"proj/pyproject.toml": "", "proj/src/m.py": "x = 1\n"})
    _, out, _ = run_cli("--select", "FC", "--format", "json", root / "proj/src/m.py")
    assert json.loads(out)["root"] == str((root / "proj").resolve())


def test_directory_and_file_of_the_same_repository_are_one_audit(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "x = 'MARK-INFO'\n"}, git=True)
    code, out, _ = run_cli("--select", "FC", "--format", "concise", root, root / "a.py", root)
    assert code == 0
    assert out.count("a.py:1:1: FC903") == 1


# -- selection --------------------------------------------------------------------------------------------------------
REPO_WITH_EVERY_MARKER = {
    "a.py": "x = 'MARK-ERROR'\ny = 'MARK-WARNING'\nz = 'MARK-INFO'\n",
    "whole-file.txt": "",
}


@pytest.mark.parametrize(
    ("flags", "evaluated"),
    [
        (["--select", "FC90"], {"FC901", "FC902", "FC903", "FC904", "FC905", "FC906"}),
        (["--select", "fc901,FC903"], {"FC901", "FC903"}),
        (["--select", "FC901", "--select", "FC902"], {"FC901", "FC902"}),
        (["--select", "FC901", "--extend-select", "FC902"], {"FC901", "FC902"}),
        (["--select", "FC90", "--ignore", "FC901,FC902"], {"FC903", "FC904", "FC905", "FC906"}),
        (["--select", "FC90", "--ignore", "FC903"], {"FC901", "FC902", "FC904", "FC905", "FC906"}),
        (["--select", "FC", "--ignore", "FC0"], {"FC901", "FC902", "FC903", "FC904", "FC905", "FC906"}),
    ],
)
def test_select_extend_select_and_ignore_by_prefix(
    make_repo: MakeRepo, run_cli, flags: list[str], evaluated: set[str]
) -> None:
    root = make_repo(REPO_WITH_EVERY_MARKER)
    _, out, _ = run_cli(*flags, "--project-kind", "training", "--format", "json", root)
    result = statuses(out)
    assert set(result) == {r.code for r in all_rules()}  # every rule is reported, evaluated or not
    ran = {c for c, s in result.items() if s != "skip"} - {"FC905"}  # FC905 is skipped: its prerequisite fails
    assert ran == evaluated - {"FC905"}


def test_extend_select_adds_to_the_configured_selection(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC901']\n", **REPO_WITH_EVERY_MARKER})
    _, out, _ = run_cli("--extend-select", "FC902", "--format", "json", root)
    assert {c for c, s in statuses(out).items() if s == "fail"} == {"FC901", "FC902"}


def test_select_flag_replaces_the_configured_selection(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC902']\nextend-select = ['FC903']\n", **REPO_WITH_EVERY_MARKER})
    _, out, _ = run_cli("--select", "FC901", "--format", "json", root)
    assert {c for c, s in statuses(out).items() if s != "skip"} == {"FC901"}
    _, out, _ = run_cli("--select", "FC901", "--extend-select", "FC904", "--format", "json", root)
    assert {c for c, s in statuses(out).items() if s != "skip"} == {"FC901", "FC904"}


def test_ignore_flag_adds_to_the_configured_ignores(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC90']\nignore = {FC901 = 'legacy'}\n", **REPO_WITH_EVERY_MARKER})
    _, out, _ = run_cli("--ignore", "FC902", "--format", "json", root)
    rules = {r["code"]: r for r in json.loads(out)["rules"]}
    assert rules["FC901"]["reason"] == "ignored in configuration: legacy"
    assert rules["FC902"]["reason"] == "ignored in configuration: set with --ignore"
    assert rules["FC903"]["status"] == "fail"


def test_project_kind_flag_decides_training_only_rules(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    _, out, _ = run_cli("--select", "FC906", "--project-kind", "library", "--format", "json", root)
    rule = next(r for r in json.loads(out)["rules"] if r["code"] == "FC906")
    assert rule["status"] == "skip"
    assert "training projects" in rule["reason"]
    assert json.loads(out)["project_kind"] == "library"
    code, out, _ = run_cli("--select", "FC906", "--project-kind", "training", "--format", "json", root)
    assert code == 1
    assert statuses(out)["FC906"] == "fail"


def test_prerequisite_failure_skips_the_dependent_rule(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"whole-file.txt": ""})
    _, out, _ = run_cli("--select", "FC90", "--format", "json", root)
    rule = next(r for r in json.loads(out)["rules"] if r["code"] == "FC905")
    assert (rule["status"], rule["reason"]) == ("skip", "requires FC904, which fails")


# -- output -----------------------------------------------------------------------------------------------------------
def test_output_file_gets_the_report_without_colour(
    make_repo: MakeRepo, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    root = make_repo({"a.py": "x = 'MARK-ERROR'\n"})
    target = root / "reports" / "fsdl.txt"
    code, out, _ = run_cli("--select", "FC", "--output", target, root)
    assert (code, out) == (1, "")
    written = target.read_text(encoding="utf-8")
    assert "a.py:1" in written
    assert "\x1b[" not in written


@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [
        ({"FORCE_COLOR": "1"}, [], True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False),
        ({"FORCE_COLOR": "1"}, ["--no-color"], False),
        ({}, [], False),
    ],
)
def test_colour_is_off_unless_a_terminal_or_forced(
    make_repo: MakeRepo, run_cli, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], flags: list[str], coloured: bool
) -> None:
    root = make_repo({"a.py": "x = 'MARK-ERROR'\n"})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _, out, _ = run_cli("--select", "FC", *flags, root)
    assert ("\x1b[" in out) is coloured


def test_statistics_counts_findings_per_code(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "x = 'MARK-WARNING'\ny = 'MARK-WARNING'\nz = 'MARK-INFO'\n"})
    code, out, _ = run_cli("--select", "FC", "--statistics", root)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["2", "FC902", "warning"]
    assert lines[1].split()[:3] == ["1", "FC903", "info"]
    assert lines[-1] == "3 findings from 2 rules."
    _, out, _ = run_cli("--select", "FC", "--statistics", "--format", "json", root)
    assert [(r["code"], r["count"]) for r in json.loads(out)] == [("FC902", 2), ("FC903", 1)]


# -- the rule catalogue ---------------------------------------------------------------------------------------------
def test_list_rules_text_names_every_rule(run_cli) -> None:
    code, out, _ = run_cli("--list-rules")
    assert code == 0
    for rule in all_rules():
        line = next(line for line in out.splitlines() if line.startswith(rule.code))
        assert rule.severity.label in line
        assert rule.title() in line


def test_list_rules_json_describes_every_rule(run_cli) -> None:
    code, out, _ = run_cli("--list-rules", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [r["code"] for r in listed] == [r.code for r in all_rules()]
    first = next(r for r in listed if r["code"] == "FC901")
    assert first["severity"] == "error"
    assert first["area"] == "FC"
    assert first["fix"] == "Remove the marker."
    assert first["template_file"] == "pyproject.toml"


@pytest.mark.parametrize("code", [r.code for r in all_rules()])
def test_explain_shows_the_full_page_of_every_rule(run_cli, code: str) -> None:
    rule = REGISTRY[code]
    status, out, err = run_cli("--explain", code.lower())
    assert (status, err) == (0, "")
    assert out.startswith(f"# {code}: {rule.title()}\n")
    assert f"Severity: {rule.severity.label}" in out
    assert f"Area: {rule.area().title} ({rule.area().prefix})" in out
    assert ("training projects only" in out) is rule.training_only
    for required in rule.requires:
        assert required in out
    assert "## What it checks" in out
    if rule.rationale():
        assert f"## Why it matters\n\n{rule.rationale()}" in out
    if rule.example:
        assert rule.example.strip() in out
    assert f"## How to fix\n\n{rule.fix}" in out
    if rule.template_file:
        assert f"`{rule.template_file}`" in out
    assert f"# fsdl: ignore[{code}]" in out


def test_explain_of_a_test_rule_has_example_and_template(run_cli) -> None:
    _, out, _ = run_cli("--explain", "FC901")
    assert '## Example\n\n```\nx = "MARK-ERROR"\n```' in out
    assert "Requires: nothing" in out
    assert "Template file: pyproject.toml" in out
    _, out, _ = run_cli("--explain", "FC905", "--format", "json")
    assert json.loads(out)["requires"] == ["FC904"]


def test_help_exits_zero(run_cli) -> None:
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "--explain" in out


def test_version_in_process(run_cli) -> None:
    assert run_cli("--version")[:2] == (0, f"fsdl-check {__version__}\n")


# -- the installed entry points -------------------------------------------------------------------------------------
def test_console_script_prints_the_version() -> None:
    # Beside this interpreter, where `pip install` put it: `make test` does not put .venv/bin on PATH.
    script = Path(sysconfig.get_path("scripts")) / "fsdl-check"
    assert script.is_file(), "fsdl-check is not installed (pip install -e .)"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"fsdl-check {__version__}\n", "")


def test_python_dash_m_runs_the_checker(make_repo: MakeRepo) -> None:
    root = make_repo({"broken.yml": "key: [unclosed\n"})
    done = subprocess.run(
        [sys.executable, "-m", "fsdl_check", "--select", "FC", "--format", "concise", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("broken.yml:2:1: FC002 ")


def test_a_bare_git_repository_is_refused_in_one_line(tmp_path: Path, run_cli) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "r.git")], check=True)
    code, out, err = run_cli(tmp_path / "r.git")
    assert (code, out) == (2, "")
    one_line_error(err, "bare git repository", "r.git")


def test_a_root_that_cannot_be_listed_is_refused_in_one_line(
    make_repo: MakeRepo, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    root = make_repo({"pyproject.toml": "[tool.fsdl-check]\n", "a.py": ""})
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path) == str(root):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run_cli(root)
    assert (code, out) == (2, "")
    one_line_error(err, "cannot list the files of", "Permission denied")
