"""Configuration as users write it: ignore reasons, per-path ignores, severity overrides, config files, and the
JSON Schema of the `[tool.fsdl-check]` table, checked against the parser itself."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from fsdl_check import config
from fsdl_check.model import Area

pytestmark = pytest.mark.usefixtures("marker_rules")

MakeRepo = Callable[..., Path]
REPO_ROOT = Path(__file__).resolve().parents[2]


def rules_by_code(out: str) -> dict[str, dict[str, Any]]:
    return {rule["code"]: rule for rule in json.loads(out)["rules"]}


def test_ignore_table_reasons_appear_in_text_and_json(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {
            "pyproject.toml": "[tool.fsdl-check]\nselect = ['FC']\n"
            "ignore = {FC901 = 'generated code, checked upstream', FC902 = ''}\n",
            "a.py": "x = 'MARK-ERROR'\ny = 'MARK-WARNING'\n",
        }
    )
    code, text, _ = run_cli(root)
    assert code == 0
    assert "Ignored in configuration" in text
    assert "FC901" in text
    assert "generated code, checked upstream" in text
    assert "no reason given" in text
    _, out, _ = run_cli("--format", "json", root)
    rules = rules_by_code(out)
    assert rules["FC901"]["status"] == "skip"
    assert rules["FC901"]["reason"] == "ignored in configuration: generated code, checked upstream"
    assert rules["FC902"]["reason"] == "ignored in configuration"
    assert json.loads(out)["config"]["ignore"] == {"FC901": "generated code, checked upstream", "FC902": ""}


def test_ignore_as_a_list_of_prefixes(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC']\nignore = ['fc90']\n", "a.py": "x = 'MARK-ERROR'\n"})
    code, out, _ = run_cli("--format", "json", root)
    assert code == 0
    assert all(r["status"] == "skip" for c, r in rules_by_code(out).items() if c.startswith("FC90"))


def test_per_path_ignores_hide_findings_under_matching_paths_only(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {
            ".fsdl-check.toml": "select = ['FC']\n[per-path-ignores]\n'scripts/**' = ['FC90']\n",
            "scripts/tool.py": "x = 'MARK-ERROR'\n",
            "src/app.py": "x = 'MARK-ERROR'\n",
        }
    )
    code, out, _ = run_cli("--format", "json", root)
    assert code == 1
    rule = rules_by_code(out)["FC901"]
    assert [f["path"] for f in rule["findings"]] == ["src/app.py"]
    assert [(f["path"], f["suppressed_by"]) for f in rule["suppressed"]] == [
        ("scripts/tool.py", "per-path-ignores: FC90")
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", 0),  # info is below the default threshold (warning)
        ("severity = {FC903 = 'error'}", 1),
        ("severity = {FC9 = 'error'}", 1),  # a prefix
        ("severity = {FC9 = 'error', FC903 = 'info'}", 0),  # the longest prefix wins
        ("severity = {FC903 = 'error'}\nfail-on = 'error'", 1),
        ("severity = {FC903 = 'warning'}\nfail-on = 'error'", 0),
        ("fail-on = 'info'", 1),
    ],
)
def test_severity_override_and_fail_on_decide_the_exit_code(
    make_repo: MakeRepo, run_cli, settings: str, expected: int
) -> None:
    root = make_repo({".fsdl-check.toml": f"select = ['FC']\n{settings}\n", "a.py": "x = 'MARK-INFO'\n"})
    code, out, _ = run_cli("--format", "json", root)
    assert code == expected
    report = json.loads(out)
    assert report["summary"]["failing"] == expected


def test_severity_override_shows_in_the_reports(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC']\nseverity = {FC903 = 'error'}\n", "a.py": "'MARK-INFO'\n"})
    _, out, _ = run_cli("--format", "json", root)
    rule = rules_by_code(out)["FC903"]
    assert (rule["severity"], rule["default_severity"]) == ("error", "info")
    assert rule["findings"][0]["severity"] == "error"
    _, out, _ = run_cli("--format", "github", root)
    assert out.startswith("::error file=a.py,line=1,title=FC903::")


def test_dedicated_file_wins_over_pyproject(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {
            "pyproject.toml": "[tool.fsdl-check]\nselect = ['FC901']\n",
            ".fsdl-check.toml": "select = ['FC902']\n",
            "a.py": "x = 'MARK-ERROR'\n",
        }
    )
    code, out, _ = run_cli("--format", "json", root)
    assert code == 0
    assert json.loads(out)["config"]["source"] == ".fsdl-check.toml"


def test_explicit_config_file(make_repo: MakeRepo, run_cli, tmp_path: Path) -> None:
    root = make_repo({".fsdl-check.toml": "select = ['FC902']\n", "a.py": "x = 'MARK-ERROR'\n"})
    explicit = tmp_path / "strict.toml"
    explicit.write_text("select = ['FC901']\nfail-on = 'error'\n")
    code, out, _ = run_cli("--config", explicit, "--format", "json", root)
    assert code == 1
    assert json.loads(out)["config"]["source"] == "strict.toml"
    inside = root / "strict.toml"
    inside.write_text("select = ['FC901']\nunknown-key = 1\n")
    code, _, err = run_cli("--config", inside, root)
    assert code == 2
    assert err.startswith("fsdl-check: error: strict.toml: unknown key 'unknown-key'")


def test_an_explicit_config_outside_the_repository_quotes_none_of_its_keys(
    make_repo: MakeRepo, run_cli, tmp_path: Path
) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    outside = tmp_path / "private.toml"
    outside.write_text("api-token = 'hunter2-secret'\n")
    code, _, err = run_cli("--config", outside, root)
    assert code == 2
    assert "invalid configuration" in err
    assert "api-token" not in err and "hunter2" not in err


@pytest.mark.parametrize("given", [False, True], ids=["found", "given with --config"])
def test_a_config_link_that_leaves_the_repository_is_not_read(
    make_repo: MakeRepo, run_cli, tmp_path: Path, given: bool
) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    (tmp_path / "private.toml").write_text("api-token = 'hunter2-secret'\n")
    (root / ".fsdl-check.toml").symlink_to(tmp_path / "private.toml")
    code, _, err = run_cli(*(["--config", root / ".fsdl-check.toml"] if given else []), root)
    assert code == 2
    assert err.count("\n") == 1 and "symbolic link to a file outside the repository" in err
    assert "api-token" not in err


def test_a_config_link_inside_the_repository_is_read(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"config/fsdl.toml": "select = ['FC902']\n", "a.py": "x = 1\n"})
    (root / ".fsdl-check.toml").symlink_to("config/fsdl.toml")
    code, out, _ = run_cli("--format", "json", root)
    assert code == 0
    assert json.loads(out)["config"]["select"] == ["FC902"]


def test_an_oversized_config_is_not_read(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({".fsdl-check.toml": "# " + "x" * 1_100_000 + "\n"})
    code, _, err = run_cli(root)
    assert code == 2
    assert "over the 1 MB configuration limit" in err


def test_a_config_fifo_is_refused_without_waiting_for_a_writer(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    os.mkfifo(root / ".fsdl-check.toml")
    code, _, err = run_cli(root)
    assert code == 2
    assert "not a regular file" in err


@pytest.mark.parametrize(
    "toml",
    ['"\\u001b]0;pwned\\u0007KEY\\u202e" = 1\n', '[per-path-ignores]\n"\\u001b[31mX" = 5\n'],
    ids=["unknown key", "per-path pattern"],
)
def test_escape_sequences_in_config_keys_are_escaped_on_stderr(make_repo: MakeRepo, run_cli, toml: str) -> None:
    root = make_repo({".fsdl-check.toml": toml})
    code, _, err = run_cli(root)
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "\\x1b" in err


def test_explicit_pyproject_reads_its_tool_table(make_repo: MakeRepo, run_cli) -> None:
    other = make_repo({"pyproject.toml": "[project]\nname = 'x'\n[tool.fsdl-check]\nselect = ['FC902']\n"})
    root = make_repo({"a.py": "x = 'MARK-ERROR'\n"})
    code, out, _ = run_cli("--config", other / "pyproject.toml", "--format", "json", root)
    assert code == 0
    assert json.loads(out)["config"]["select"] == ["FC902"]


def test_a_broken_pyproject_is_a_finding_not_a_config_error(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"pyproject.toml": "[project\nname = 'x'\n"})
    code, out, err = run_cli("--select", "FC", "--format", "concise", root)
    assert (code, err) == (1, "")
    assert out.startswith("pyproject.toml:1:1: FC002 ")


# -- the JSON Schema of the configuration -------------------------------------------------------------------------
SCHEMA = json.loads(files("fsdl_check").joinpath("data/config.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_config_schema_is_valid_and_covers_exactly_the_known_keys() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["properties"]) == config.KEYS


@pytest.mark.parametrize("area", [a.prefix for a in Area])
def test_config_schema_knows_every_area_prefix(area: str) -> None:
    assert VALIDATOR.is_valid({"select": [area, area.lower() + "0", f"{area}001"]})


@pytest.mark.parametrize("example", SCHEMA["examples"])
def test_schema_examples_are_valid_configurations(example: dict[str, Any]) -> None:
    VALIDATOR.validate(example)
    config.parse(example, "example")


TABLES = [
    {},
    {"select": ["ALL"]},
    {"select": "PK"},
    {"select": ["pk", " QA001 "]},
    {"extend-select": ["FC"]},
    {"ignore": ["PK003", "GA"]},
    {"ignore": {"PK003": "we vendor wheels"}},
    {"ignore": {"PK003": 3}},
    {"ignore": [3]},
    {"ignore": ["XX1"]},
    {"select": ["PK0001"]},
    {"per-path-ignores": {"scripts/**": ["RP", "QA007"]}},
    {"per-path-ignores": {"scripts/**": "RP"}},
    {"per-path-ignores": ["RP"]},
    {"severity": {"QA007": "warning", "VC": "ERROR"}},
    {"severity": {"QA007": "fatal"}},
    {"severity": "error"},
    {"fail-on": "info"},
    {"fail-on": "Warning"},
    {"fail-on": "never"},
    {"project-kind": "training"},
    {"project-kind": "Library"},
    {"project-kind": "app"},
    {"large-file-mb": 25},
    {"large-file-mb": 0.5},
    {"large-file-mb": 0},
    {"large-file-mb": True},
    {"large-file-mb": "10"},
    {"type-hint-share": 0.9},
    {"type-hint-share": 1.5},
    {"exclude": ["vendor/", "*.min.js"]},
    {"exclude": "vendor/"},
    {"exclude": [1]},
    {"selct": ["PK"]},
]


@pytest.mark.parametrize("table", TABLES, ids=[json.dumps(t) for t in TABLES])
def test_schema_accepts_exactly_what_the_parser_accepts(table: dict[str, Any]) -> None:
    try:
        config.parse(table, "test")
        parsed = True
    except config.ConfigError:
        parsed = False
    assert VALIDATOR.is_valid(table) is parsed


def _shipped_configs() -> list[Path]:
    """Plain configuration files this repository ships (not the test fixtures, not Jinja templates)."""
    found = []
    for directory, dirnames, filenames in os.walk(REPO_ROOT):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in {"tests", "node_modules"}]
        for name in {"pyproject.toml", ".fsdl-check.toml"} & set(filenames):
            path = Path(directory) / name
            text = path.read_text(encoding="utf-8")
            if (name == ".fsdl-check.toml" or "[tool.fsdl-check]" in text) and "{{" not in text and "{%" not in text:
                found.append(path)
    return found


@pytest.mark.parametrize("path", _shipped_configs(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_schema_validates_the_configurations_this_repository_ships(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data if path.name == ".fsdl-check.toml" else data["tool"]["fsdl-check"]
    VALIDATOR.validate(table)
    config.parse(table, path.name)


TEMPLATE_PYPROJECT = REPO_ROOT / "template" / "{{cookiecutter.project_slug}}" / "pyproject.toml"
EXAMPLE_ANSWERS = sorted((REPO_ROOT / "examples").glob("*.yml"))


def _template_table(answers: dict[str, Any]) -> dict[str, Any]:
    """The template's [tool.fsdl-check] table as a project generated with `answers` gets it."""
    import jinja2

    lines = TEMPLATE_PYPROJECT.read_text(encoding="utf-8").splitlines()
    start = lines.index("[tool.fsdl-check]")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("[") and "fsdl-check" not in lines[i]),
        len(lines),
    )
    section = jinja2.Environment(autoescape=False).from_string("\n".join(lines[start:end]) + "\n")
    table: dict[str, Any] = tomllib.loads(section.render(cookiecutter=answers))["tool"]["fsdl-check"]
    return table


@pytest.mark.skipif(not TEMPLATE_PYPROJECT.is_file() or not EXAMPLE_ANSWERS, reason="the template is not in the tree")
@pytest.mark.parametrize("answers_file", EXAMPLE_ANSWERS, ids=lambda p: p.name)
def test_schema_validates_the_template_configuration_for_every_example(answers_file: Path) -> None:
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    table = _template_table(answers)
    VALIDATOR.validate(table)
    config.parse(table, f"{answers_file.name}: [tool.fsdl-check]")
