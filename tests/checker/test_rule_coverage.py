"""Every registered rule is made to fire by at least one passing test, and its tests name it.

The firing check is real, not a text search: the rule tests run once more in a child pytest with the `rule_firings`
plugin, which records the codes of the findings each passing test produced (from a rule's `check` called directly,
or from a whole audit). The rule tests assert exact paths and lines on their bad repositories and no findings on
their good ones, so a code recorded there comes from a test that expects it to fire.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rule_firings

from fsdl_check.model import all_rules

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CODES = [rule.code for rule in all_rules()]
#: The rules' own tests, plus the modules that test the engine-level rules (FC001 unused suppressions, FC002 parse
#: errors reported through configuration loading).
RULE_TEST_MODULES = [*sorted(HERE.glob("test_rules_*.py")), HERE / "test_suppressions.py", HERE / "test_config.py"]


def string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


@pytest.fixture(scope="module")
def firings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    output = tmp_path_factory.mktemp("firings") / "firings.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env[rule_firings.OUTPUT_VARIABLE] = str(output)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "rule_firings"]
    done = subprocess.run(
        [*command, *(str(p.relative_to(REPO_ROOT)) for p in RULE_TEST_MODULES)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"the rule tests fail on their own:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    data = json.loads(output.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_rule_test_modules_exist() -> None:
    assert all(path.is_file() for path in RULE_TEST_MODULES)
    assert len(RULE_TEST_MODULES) > 2


@pytest.mark.parametrize("code", CODES)
def test_rule_fires_in_a_passing_test(code: str, firings: dict[str, list[str]]) -> None:
    assert firings.get(code), f"no passing rule test makes {code} report a finding; add a bad repository for it"


@pytest.mark.parametrize("code", CODES)
def test_rule_code_is_named_in_its_tests(code: str) -> None:
    # The firing test above proves the rule fires; this makes sure a test names the code, so it is findable.
    named = [path.name for path in RULE_TEST_MODULES if any(code in text for text in string_constants(path))]
    assert named, f"no test module under tests/checker mentions {code}"
