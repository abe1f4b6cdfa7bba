"""Session fixtures for the template's tests (the helpers themselves live in template_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from template_helpers import (
    Answers,
    RenderCookiecutter,
    RenderCopier,
    cookiecutter_render,
    copier_copy,
    copy_template,
)


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def render_copier(template_snapshot: Path) -> RenderCopier:
    def render(answers: Answers, destination: Path) -> Path:
        return copier_copy(template_snapshot, answers, destination)

    return render


@pytest.fixture(scope="session")
def render_cookiecutter(template_snapshot: Path) -> RenderCookiecutter:
    def render(answers: Answers, output_dir: Path) -> Path:
        return cookiecutter_render(template_snapshot, answers, output_dir)

    return render
