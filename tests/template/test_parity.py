"""Copier and cookiecutter render the same answers into byte-identical trees (Copier's answers file aside)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from template_helpers import REPO_ROOT, RenderCookiecutter, RenderCopier, load_example

COPIER_ONLY = {".copier-answers.yml"}
# Where each engine records the template source and commit (`make setup` takes fsdl-check from there).
COOKIECUTTER_ONLY = {".cookiecutter.json"}

CASES: dict[str, dict[str, Any]] = {
    # Every default, the copyright year included (both engines default it to the current year).
    "defaults": {},
    "default-example": {**load_example("default"), "copyright_year": "2024"},
    "full-example": {**load_example("full"), "copyright_year": "2024"},
    "minimal-example": {**load_example("minimal"), "copyright_year": "2024"},
    "wandb-bsd-gitlab": {
        "project_name": "Ink Net",
        "python_version": "3.12",
        "license": "BSD-3-Clause",
        "tracker": "wandb",
        "ci": "gitlab",
        "demo_app": True,
        "sweeps": False,  # Copier does not ask without MLflow; cookiecutter takes the answer
        "copyright_year": "2023",
    },
}


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Relative path -> (kind, content): file bytes (with the executable bit), link target, or a directory."""
    tree: dict[str, tuple[str, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel in COPIER_ONLY | COOKIECUTTER_ONLY:
            continue
        if path.is_symlink():
            tree[rel] = ("link", str(path.readlink()))
        elif path.is_dir():
            tree[rel] = ("dir", "")
        else:
            executable = "x" if path.stat().st_mode & stat.S_IXUSR else "-"
            tree[rel] = (f"file{executable}", path.read_bytes())
    return tree


@pytest.mark.parametrize("case", list(CASES))
def test_copier_and_cookiecutter_trees_are_identical(
    case: str, render_copier: RenderCopier, render_cookiecutter: RenderCookiecutter, tmp_path: Path
) -> None:
    answers = CASES[case]
    by_copier = render_copier(answers, tmp_path / "copier" / "project")
    by_cookiecutter = render_cookiecutter(answers, tmp_path / "cookiecutter")

    # Cookiecutter names the folder after the slug; Copier renders into the folder it is given.
    name = str(answers.get("project_name", "Digits Classifier"))
    expected_slug = answers.get("project_slug") or name.lower().replace(" ", "-")
    assert by_cookiecutter.name == expected_slug
    assert (by_copier / ".copier-answers.yml").is_file()

    copier_tree, cookiecutter_tree = snapshot(by_copier), snapshot(by_cookiecutter)
    assert sorted(copier_tree) == sorted(cookiecutter_tree)
    different = [rel for rel in copier_tree if copier_tree[rel] != cookiecutter_tree[rel]]
    assert not different, f"files that differ between the engines: {different}"
    assert len([kind for kind, _ in copier_tree.values() if kind.startswith("file")]) >= 15


def test_both_engines_ask_the_same_questions_in_the_same_order() -> None:
    """copier.yml's questions, its computed `cookiecutter` mapping and cookiecutter.json name the same variables."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    # `when: false` marks a computed value, not a question; a question asked only sometimes is still a question.
    copier_questions = [
        name for name, spec in config.items() if not name.startswith("_") and spec.get("when") is not False
    ]
    mapping_keys = list(json.loads(re.sub(r"\{\{.*?\}\}", "null", config["cookiecutter"]["default"])))
    cookiecutter_json = json.loads((REPO_ROOT / "template" / "cookiecutter.json").read_text())
    cookiecutter_variables = [name for name in cookiecutter_json if not name.startswith("_")]
    assert copier_questions == cookiecutter_variables == mapping_keys
    assert set(cookiecutter_json["__prompts__"]) == set(cookiecutter_variables)
    for name in copier_questions:  # choices offered by both, in the same order
        choices = config[name].get("choices")
        if choices:
            assert list(choices.values()) == cookiecutter_json[name], name
