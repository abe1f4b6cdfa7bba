"""TP rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import fsdl_check
from fsdl_check.model import Finding
from fsdl_check.rules.template import conflicts, relative_source, template_version
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]
ANSWERS = "# Written by Copier\n_commit: v0.1.0\n_src_path: {source}\nproject_name: X\n"
#: What fsdl-stack generates and no other repository has all of.
LAYOUT = {
    "tools/environment.py": 'COPIER_ANSWERS = ROOT / ".copier-answers.yml"\nCC = ROOT / ".cookiecutter.json"\n',
    "configs/default.yaml": "trainer: {}\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: fsdl-check\n"
    "        name: fsdl-check\n        entry: .venv/bin/fsdl-check\n        language: system\n",
}


def where(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.line, f.message) for f in findings]


# -- TP001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["../fsdl-stack", ".", "templates/fsdl-stack"])
def test_tp001_relative_src_path_breaks_updates_from_elsewhere(make_repo: MakeRepo, source: str) -> None:
    root = make_repo({".copier-answers.yml": ANSWERS.format(source=source)})
    assert where(run("TP001", root)) == [
        (
            ".copier-answers.yml",
            3,
            f"`_src_path: {source}` is relative to where the update is started: `copier update` from anywhere "
            "else cannot find the template",
        )
    ]


@pytest.mark.parametrize(
    "source",
    ["gh:org/fsdl-stack", "https://github.com/org/fsdl-stack.git", "git@github.com:org/fsdl-stack.git", "/opt/t",
     "~/templates/fsdl-stack", "git+https://example.org/t", "C:\\templates\\fsdl-stack"],
)  # fmt: skip
def test_tp001_urls_and_absolute_paths_are_not_relative(make_repo: MakeRepo, source: str) -> None:
    assert relative_source(source) is False
    assert run("TP001", make_repo({".copier-answers.yml": ANSWERS.format(source=f"'{source}'")})) == []


def test_tp001_a_custom_answers_file_name_is_read_too(make_repo: MakeRepo) -> None:
    root = make_repo({".copier-answers.ml.yml": ANSWERS.format(source="../t")})
    assert [(f.path, f.line) for f in run("TP001", root)] == [(".copier-answers.ml.yml", 3)]


def test_tp001_answers_file_without_src_path(make_repo: MakeRepo) -> None:
    root = make_repo({".copier-answers.yml": "_commit: v0.1.0\nproject_name: X\n"})
    assert where(run("TP001", root)) == [
        (".copier-answers.yml", None, "no `_src_path`: `copier update` cannot find the template")
    ]


def test_tp001_cruft_relative_template(make_repo: MakeRepo) -> None:
    cruft = json.dumps({"template": "../fsdl-stack", "commit": "abc1234", "context": {}}, indent=2)
    assert [(f.path, f.line) for f in run("TP001", make_repo({".cruft.json": cruft}))] == [(".cruft.json", 2)]


def test_tp001_cookiecutter_record_with_an_absolute_folder_is_fine_even_if_given_relative(make_repo: MakeRepo) -> None:
    # fsdl-stack's cookiecutter hook records the folder made absolute; the project's setup reads that one.
    record = {"_template": "../fsdl-stack", "_repo_dir": "/srv/fsdl-stack/template", "_commit": ""}
    assert run("TP001", make_repo({".cookiecutter.json": json.dumps(record)})) == []
    del record["_repo_dir"]
    assert [f.line for f in run("TP001", make_repo({".cookiecutter.json": json.dumps(record)}))] == [1]


def test_tp001_answers_file_found_among_root_files_and_folders_that_sort_before_it(make_repo: MakeRepo) -> None:
    files = {".bumpversion.cfg": "[bumpversion]\n", ".ci/run.sh": "make test\n"}
    root = make_repo({**files, ".copier-answers.yml": ANSWERS.format(source="../t")})
    assert [(f.path, f.line) for f in run("TP001", root)] == [(".copier-answers.yml", 3)]


def test_tp001_an_empty_src_path_names_no_template(make_repo: MakeRepo) -> None:
    root = make_repo({".copier-answers.yml": "_commit: v0.1.0\n_src_path: ''\n"})
    assert where(run("TP001", root)) == [
        (".copier-answers.yml", None, "no `_src_path`: `copier update` cannot find the template")
    ]


@pytest.mark.parametrize("template", ["", 3])
def test_tp001_cruft_template_that_is_empty_or_not_a_string_names_no_template(
    make_repo: MakeRepo, template: object
) -> None:
    cruft = json.dumps({"template": template, "commit": "v0.1.0"})
    assert where(run("TP001", make_repo({".cruft.json": cruft}))) == [
        (".cruft.json", None, "no `template`: `cruft update` cannot find the template")
    ]


def test_tp001_cookiecutter_record_without_a_template_names_make_setup(make_repo: MakeRepo) -> None:
    record = json.dumps({"_repo_dir": "/srv/fsdl-stack/template", "_commit": ""})
    assert where(run("TP001", make_repo({".cookiecutter.json": record}))) == [
        (
            ".cookiecutter.json",
            None,
            "no `_template`: `make setup` (which installs fsdl-check from the template) cannot find the template",
        )
    ]


def test_tp001_cookiecutter_record_of_a_remote_template_without_its_folder_is_fine(make_repo: MakeRepo) -> None:
    record = json.dumps({"_template": "gh:org/fsdl-stack", "_commit": ""})
    assert run("TP001", make_repo({".cookiecutter.json": record})) == []


def test_relative_source_blank_is_no_relative_path() -> None:
    assert relative_source("  ") is False


def test_tp001_fsdl_stack_layout_without_answers_file(make_repo: MakeRepo) -> None:
    findings = run("TP001", make_repo(LAYOUT))
    assert [(f.path, f.line) for f in findings] == [(".copier-answers.yml", None)]
    assert "no answers file, though the project has fsdl-stack's layout" in findings[0].message


@pytest.mark.parametrize("missing", sorted(LAYOUT))
def test_tp001_not_a_template_project_without_every_layout_mark(make_repo: MakeRepo, missing: str) -> None:
    files = {path: text for path, text in LAYOUT.items() if path != missing}
    assert run("TP001", make_repo(files)) == []


@pytest.mark.parametrize("answers", [".copier-answers.yml", ".cookiecutter.json"])
def test_tp001_a_setup_script_that_reads_only_one_answers_file_is_not_fsdl_stacks(
    make_repo: MakeRepo, answers: str
) -> None:
    files = {**LAYOUT, "tools/environment.py": f'ANSWERS = ROOT / "{answers}"\n'}
    assert run("TP001", make_repo(files)) == []


def test_tp001_never_fires_on_a_repository_made_without_a_template(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": "import torch\n", "configs/a.yaml": "lr: 1\n", "tools/environment.py": "x = 1\n"})
    assert run("TP001", root) == []


def test_tp001_answers_file_in_a_subfolder_is_not_the_projects(make_repo: MakeRepo) -> None:
    root = make_repo({"vendor/lib/.copier-answers.yml": ANSWERS.format(source="../x")})
    assert run("TP001", root) == []


# -- TP002 --------------------------------------------------------------------------------------------------------
COPIER_CONFLICT = "lr: 0.1\n<<<<<<< before updating\nepochs: 3\n=======\nepochs: 5\n>>>>>>> after updating\n"


def test_tp002_copier_markers_in_a_config_and_the_readme(make_repo: MakeRepo) -> None:
    readme = "# X\n\n" + COPIER_CONFLICT + "text\n" + COPIER_CONFLICT.replace("lr: 0.1\n", "")
    root = make_repo({"configs/default.yaml": COPIER_CONFLICT, "README.md": readme}, git=True)
    assert where(run("TP002", root)) == [
        ("README.md", 4, "2 unresolved conflicts (conflict markers), the first here"),
        ("configs/default.yaml", 2, "an unresolved conflict (conflict markers), the first here"),
    ]


def test_tp002_git_markers_with_diff3_base(make_repo: MakeRepo) -> None:
    text = "a\n<<<<<<< HEAD\nb\n||||||| base\nc\n=======\nd\n>>>>>>> feature\n"
    assert [(f.path, f.line) for f in run("TP002", make_repo({"Makefile": text}))] == [("Makefile", 2)]


def test_tp002_crlf_markers(make_repo: MakeRepo) -> None:
    text = COPIER_CONFLICT.replace("\n", "\r\n")
    assert [f.line for f in run("TP002", make_repo({"notes.txt": text}))] == [2]


def test_tp002_rej_files(make_repo: MakeRepo) -> None:
    root = make_repo({"configs/default.yaml.rej": "@@ -1 +1 @@\n-a\n+b\n", "ok.txt": "x\n"})
    assert where(run("TP002", root)) == [
        ("configs/default.yaml.rej", None, "rejected hunk left by an update or a patch (`.rej` file)")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Title\n=======\n\ntext\n",  # a reST / Markdown heading underline
        "=======\n>>>>>>> x\n",  # no opener
        "<<<<<<< HEAD\nonly an opener\n",  # no separator and closer
        "<<<<<<<< eight\n=======\n>>>>>>> x\n",  # eight characters: not a marker
        "    <<<<<<< indented\n    =======\n    >>>>>>> example\n",  # a documented example, indented
        "a <<<<<<< b\n",
        "<<<<<<< HEAD\nours\n>>>>>>> theirs\n",  # an opener and a closer with no separator between them
    ],
)
def test_tp002_no_conflict_without_the_full_marker_sequence(make_repo: MakeRepo, text: str) -> None:
    assert run("TP002", make_repo({"README.md": text})) == []


def test_tp002_markers_in_a_python_string_of_a_module_that_parses_are_no_conflict(make_repo: MakeRepo) -> None:
    source = f'EXPECTED = """\n{COPIER_CONFLICT}"""\n'
    broken = "x = 1\n" + COPIER_CONFLICT.replace(":", " =")
    root = make_repo({"tests/test_update.py": source, "src/broken.py": broken})
    assert [(f.path, f.line) for f in run("TP002", root)] == [("src/broken.py", 3)]


def test_tp002_files_skipped_before_a_conflicted_one_do_not_end_the_search(make_repo: MakeRepo) -> None:
    files = {
        "a.rej": "@@ -1 +1 @@\n-a\n+b\n",
        "b.svg": COPIER_CONFLICT,  # a binary suffix: not read
        "c.py": f'X = """\n{COPIER_CONFLICT}"""\n',  # parses: the markers are in a string
        "d.txt": "no markers\n",
        "z.txt": COPIER_CONFLICT,
    }
    root = make_repo(files)
    os.symlink("z.txt", root / "e-link.txt")  # a link is not read: its target is reported once
    assert [(f.path, f.line) for f in run("TP002", root)] == [("a.rej", None), ("z.txt", 2)]


def test_tp002_a_binary_file_with_an_unknown_suffix_is_skipped(make_repo: MakeRepo) -> None:
    root = make_repo({"blob.dat2": b"\0" + COPIER_CONFLICT.encode(), "notes.txt": COPIER_CONFLICT})
    assert [(f.path, f.line) for f in run("TP002", root)] == [("notes.txt", 2)]


def test_tp002_a_conflict_after_an_unclosed_markdown_fence_is_an_example(make_repo: MakeRepo) -> None:
    assert run("TP002", make_repo({"README.md": "# X\n\n```\n" + COPIER_CONFLICT})) == []


def test_conflicts_reports_each_opener() -> None:
    assert [a for a, _ in conflicts(COPIER_CONFLICT * 2)] == [8, 8 + len(COPIER_CONFLICT)]


def test_tp002_a_conflict_inside_a_markdown_code_block_is_an_example(make_repo: MakeRepo) -> None:
    example = "# Resolving\n\n```yaml\n" + COPIER_CONFLICT + "```\n\n~~~\n" + COPIER_CONFLICT + "~~~\n"
    leftover = "````\nopen\n" + COPIER_CONFLICT.replace("lr: 0.1\n", "") + "```` and\n" + COPIER_CONFLICT
    root = make_repo({"CONTRIBUTING.md": example, "README.md": leftover, "notes.txt": example})
    assert [(f.path, f.line) for f in run("TP002", root)] == [("README.md", 10), ("notes.txt", 5)]


# -- TP003 --------------------------------------------------------------------------------------------------------
@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def set_version(version: str) -> None:
        monkeypatch.setattr(fsdl_check, "__version__", version)

    return set_version


@pytest.mark.parametrize("commit", ["v0.1.0", "v0.1.0-12-gabc1234", "v0.1.0-3-gabc1234-dirty", "0.2.0rc1"])
def test_tp003_template_behind_the_installed_release(
    make_repo: MakeRepo, released: Callable[[str], None], commit: str
) -> None:
    released("0.2.0")
    root = make_repo({".copier-answers.yml": f"_commit: {commit}\n_src_path: gh:o/fsdl-stack\n"})
    assert where(run("TP003", root)) == [
        (
            ".copier-answers.yml",
            1,
            f"made from template {commit}, behind fsdl-check 0.2.0: run `copier update --defaults --vcs-ref v0.2.0`",
        )
    ]


@pytest.mark.parametrize("commit", ["v0.2.0", "v0.2.0-4-gabc1234", "v0.3.0", "abc1234", "main", "abc1234def"])
def test_tp003_current_ahead_or_not_a_version(
    make_repo: MakeRepo, released: Callable[[str], None], commit: str
) -> None:
    released("0.2.0")
    assert run("TP003", make_repo({".copier-answers.yml": f"_commit: {commit}\n_src_path: gh:o/t\n"})) == []


@pytest.mark.parametrize("installed", ["0.2.0.dev0", "0.3.0rc1", "0.3.0+g1234", "not-a-version"])
def test_tp003_skipped_between_releases(make_repo: MakeRepo, released: Callable[[str], None], installed: str) -> None:
    released(installed)
    assert run("TP003", make_repo({".copier-answers.yml": "_commit: v0.1.0\n_src_path: gh:o/t\n"})) == []


def test_tp003_cruft_and_custom_answers_file_commands(make_repo: MakeRepo, released: Callable[[str], None]) -> None:
    released("1.0.0")
    cruft = json.dumps({"template": "gh:o/t", "commit": "v0.9.0"}, indent=2)
    root = make_repo({".cruft.json": cruft, ".copier-answers.ml.yml": "_src_path: gh:o/t\n_commit: v0.1.0\n"})
    messages = [(f.path, f.line, f.message.split("run ")[1]) for f in run("TP003", root)]
    assert messages == [
        (
            ".copier-answers.ml.yml",
            2,
            "`copier update --defaults --answers-file .copier-answers.ml.yml --vcs-ref v1.0.0`",
        ),
        (".cruft.json", 3, "`cruft update --checkout v1.0.0`"),
    ]


def test_tp003_a_current_answers_file_does_not_hide_a_behind_one(
    make_repo: MakeRepo, released: Callable[[str], None]
) -> None:
    released("1.0.0")
    cruft = json.dumps({"template": "gh:o/t", "commit": "v0.9.0"}, indent=2)
    root = make_repo({".copier-answers.ml.yml": "_src_path: gh:o/t\n_commit: v1.0.0\n", ".cruft.json": cruft})
    assert [(f.path, f.line) for f in run("TP003", root)] == [(".cruft.json", 3)]


def test_tp003_a_cruft_commit_that_is_not_a_string_is_no_release(
    make_repo: MakeRepo, released: Callable[[str], None]
) -> None:
    released("1.0.0")  # cruft records a commit as a string; a number was not written by cruft
    cruft = json.dumps({"template": "gh:o/t", "commit": 0.9})
    assert run("TP003", make_repo({".cruft.json": cruft})) == []


def test_template_versions() -> None:
    assert str(template_version("v0.1.0-12-gabc1234")) == "0.1.0.post12"
    assert template_version("deadbeef") is None
    assert template_version("1234567") is None  # a short hash of digits
    assert template_version("v1") is not None
