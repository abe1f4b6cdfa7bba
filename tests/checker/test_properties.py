"""Property tests: every parser, and then a whole audit, take random and malformed input without raising.

Documents come three ways: structured documents of the right overall shape with wrong types inside
(``{"repos": 3}``, ``jobs: [1, null]``, ``on: {pull_request_target: ...}``), those documents cut or spliced at a
random point, and raw text or bytes. A file that does not parse must come back as a clean FC002 finding.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import fsdl_check.parsing
from fsdl_check import config as configuration
from fsdl_check.engine import audit
from fsdl_check.model import ProjectKind, Status, all_rules
from fsdl_check.parsing.dockerfile import key_values, parse_dockerfile, parse_dockerignore
from fsdl_check.parsing.notebook import parse_notebook
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.requirements import parse_requirements
from fsdl_check.parsing.tomlfile import parse_toml
from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import YamlDoc, parse_yaml
from fsdl_check.repo import Repo
from fsdl_check.reports import FORMATS, render

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# An audit example holds a dozen files and shrinking one takes minutes; the parser tests shrink their own inputs.
AUDIT_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

# -- building blocks -------------------------------------------------------------------------------------------------
# Strings a rule might look for, mixed with arbitrary ones, so generated documents reach the rules' deeper branches.
INTERESTING = [
    "on", "run", "uses", "steps", "jobs", "script", "pytest", "ruff check .", "mypy", "pre-commit run --all-files",
    "pull_request_target", "push", "actions/checkout@v4", "${{ github.event.issue.title }}", "${{ secrets.TOKEN }}",
    "write-all", "read-all", "contents", "id", "repo", "hooks", "local", "python", "pytorch", "cudatoolkit",
    "torch==2.0", "numpy>=1", "-r requirements.txt", "/home/user/data", "C:\\Users\\me", "{{ cookiecutter.x }}",
    "lightning", "Trainer", "fit", "seed_everything", "nbstripout", "", " ", "\\", "\t", "\x00", "é", "🙂",
]  # fmt: skip
text_atom = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
strings = st.one_of(st.sampled_from(INTERESTING), text_atom)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4), max_leaves=10
)


# A value of the wrong type, each type about as likely as the others (a deep random value is mostly scalars).
wrong = st.one_of(
    st.integers(-5, 5),
    st.none(),
    st.booleans(),
    strings,
    st.lists(values, max_size=3),
    st.dictionaries(strings, values, max_size=3),
)


def shaped(required: dict[str, st.SearchStrategy[Any]] | None = None, **optional: st.SearchStrategy[Any]) -> Any:
    """A mapping with the expected keys, each of which holds the expected shape or a value of the wrong type."""
    return st.fixed_dictionaries(
        {k: v | wrong for k, v in (required or {}).items()}, optional={k: v | wrong for k, v in optional.items()}
    )


def list_of(element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(element | wrong, max_size=4)


# GitHub Actions
events = st.sampled_from(["push", "pull_request", "pull_request_target", "workflow_dispatch", "schedule"])
step = shaped(
    {"run": strings}, uses=strings, name=strings, shell=strings, env=st.dictionaries(strings, strings, max_size=2),
    **{"with": st.dictionaries(st.sampled_from(["ref", "python-version", "args"]), strings, max_size=2)},
)  # fmt: skip
job = shaped(
    {"steps": list_of(step)},
    permissions=st.sampled_from(["read-all", "write-all", {}, {"contents": "write"}]),
    **{"runs-on": strings, "if": strings, "needs": strings, "container": strings},
)
github_workflow = shaped(
    {
        "on": events | st.lists(events, max_size=3) | st.dictionaries(events, values, max_size=3),
        "jobs": st.dictionaries(strings, job, min_size=1, max_size=3),
    },
    permissions=st.sampled_from(["read-all", "write-all", {}, {"contents": "read"}]),
    name=strings,
)
# GitLab CI
gitlab_job = shaped(
    {"script": list_of(strings) | strings}, before_script=list_of(strings), after_script=strings, image=strings,
    stage=strings, rules=list_of(values), extends=strings,
)  # fmt: skip
gitlab_ci = st.dictionaries(
    st.sampled_from(["stages", "variables", "default", "include", "test", "lint", ".hidden", "pages"]) | strings,
    gitlab_job,
    max_size=4,
)
# pre-commit
precommit_hook = shaped({"id": strings}, entry=strings, args=list_of(strings), files=strings, language=strings)
precommit_config = shaped(
    {"repos": list_of(shaped({"repo": strings, "hooks": list_of(precommit_hook)}, rev=strings))},
    ci=values,
    exclude=strings,
)
# conda
conda_env = shaped(
    {"dependencies": list_of(strings | st.fixed_dictionaries({"pip": values}))}, name=strings, channels=list_of(strings)
)
# pyproject.toml
pyproject = shaped(
    {"build-system": shaped(requires=list_of(strings), **{"build-backend": strings})},
    project=shaped(
        name=strings, version=strings, dependencies=list_of(strings),
        **{"requires-python": strings, "optional-dependencies": st.dictionaries(strings, list_of(strings))},
    ),
    tool=shaped(
        ruff=values, mypy=values, pytest=shaped(ini_options=values), uv=values, poetry=values,
        **{"fsdl-check": shaped(select=list_of(strings), ignore=values, severity=values, exclude=list_of(strings))},
    ),
    **{"dependency-groups": st.dictionaries(strings, list_of(strings), max_size=3)},
)  # fmt: skip
# notebooks
cell = shaped(
    cell_type=st.sampled_from(["code", "markdown", "raw"]),
    source=strings | st.lists(strings, max_size=3),
    outputs=st.lists(values, max_size=2),
    execution_count=st.integers(0, 10) | st.none(),
    metadata=values,
)
notebook = shaped({"cells": list_of(cell)}, metadata=values, nbformat=st.integers(), nbformat_minor=st.integers())


def toml_value(value: Any) -> str:
    """`value` as a TOML value (inline tables for mappings); None, which TOML lacks, becomes an empty table."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(document: dict[str, Any]) -> str:
    """Top-level tables as `[table]` sections (what pyproject.toml looks like), everything else inline."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in document.items() if not isinstance(v, dict)]
    for key, table in document.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(key)}]")
            lines.extend(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def yaml_text(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@st.composite
def damaged(draw: st.DrawFn, documents: st.SearchStrategy[str]) -> str:
    """A document, cut short or with random text spliced in at a random point."""
    text = draw(documents)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(["", ":", "[", "{", '"', "\n  - ", "\t", "'''", "\\"]) | text_atom)


def document(serialized: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(serialized, damaged(serialized), st.text(max_size=200))


yaml_structures = {
    ".github/workflows/ci.yml": github_workflow,
    ".gitlab-ci.yml": gitlab_ci,
    ".pre-commit-config.yaml": precommit_config,
    "environment.yml": conda_env,
    "configs/train.yaml": values,
}
yaml_documents = {path: document(structure.map(yaml_text)) for path, structure in yaml_structures.items()}
toml_documents = document(pyproject.map(toml_text))
notebook_documents = document(notebook.map(json.dumps) | values.map(json.dumps))

DOCKER_LINES = [
    "FROM python:3.11-slim", "FROM python:3.11 AS build", "FROM build", "FROM", "FROM --platform=$X img AS",
    "RUN pip install torch", "RUN apt-get update && \\", "    apt-get install -y git", "USER app", "USER 0", "USER",
    "COPY . /app", "COPY --from=build /a /b", "ARG BASE=python", "ENV A=1 B", "WORKDIR /app", "# syntax=docker/x",
    "HEALTHCHECK NONE", 'CMD ["python", "-m", "x"]', "ENTRYPOINT [", "RUN <<EOF", "echo hi", "EOF", "\\", "",
]  # fmt: skip
dockerfiles = st.one_of(
    st.lists(st.sampled_from(DOCKER_LINES) | text_atom, max_size=12).map("\n".join), st.text(max_size=200)
)
PYTHON_LINES = [
    "import torch", "import lightning as L", "from lightning.pytorch.cli import LightningCLI", "from . import x",
    "from .. import *", "L.seed_everything(42)", "torch.manual_seed(0)", "trainer = L.Trainer(max_steps=1)",
    "trainer.fit(model)", "LightningCLI(Model)", "def f(a, b=1):", "async def g(*a, **k) -> int:", "    return a",
    "    pass", "class Trainer:", "    def fit(self): ...", "if __name__ == '__main__':", "    main()",
    "for x in loader:", "    loss.backward()", "    opt.step()", "LR = 0.001", "PATH = '/home/user/data'",
    "x = f()()[0].g", "lambda: (yield)", "@decorator", "print(f'{x!r:>{width}}')", "match x:", "    case [1, *r]: pass",
    "try:", "except* ValueError: pass", "'''", "x = (", "\\", "\t", "  ", "def", "import", "from x import",
]  # fmt: skip
python_sources = st.one_of(
    st.lists(st.sampled_from(PYTHON_LINES) | text_atom, max_size=15).map("\n".join), st.text(max_size=200)
)
REQUIREMENT_LINES = [
    "torch==2.3.1", "numpy>=1.26,<2", "lightning[extra]==2.4 ; python_version >= '3.11'", "-r other.txt",
    "-c constraints.txt", "-e .", "--index-url https://x", "pkg @ https://x/y.whl", "--hash=sha256:abc",
    "x==1 \\", "    --hash=sha256:def", "# comment", "name===1.0", "weird", "-r", "===", "[x]", "pkg==*",
]  # fmt: skip
requirements_texts = st.one_of(
    st.lists(st.sampled_from(REQUIREMENT_LINES) | text_atom, max_size=10).map("\n".join), st.text(max_size=200)
)


# -- every parser, on its own ----------------------------------------------------------------------------------------
def discovered_parsers() -> dict[str, Callable[[str, str], object]]:
    """Every ``parse_*(path, text)`` function of the `fsdl_check.parsing` modules, plus `PythonModule` (also with
    its facts left for first use)."""
    found: dict[str, Callable[[str, str], object]] = {
        "PythonModule": PythonModule,
        "PythonModule(gather=False)": lambda path, text: PythonModule(path, text, gather=False),
    }
    for info in pkgutil.iter_modules(fsdl_check.parsing.__path__):
        module = importlib.import_module(f"fsdl_check.parsing.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            own = name.startswith("parse_") and function.__module__ == module.__name__
            required = [p for p in inspect.signature(function).parameters.values() if p.default is p.empty]
            if own and len(required) == 2:
                found[f"{info.name}.{name}"] = function
    return found


PARSERS = discovered_parsers()


def test_the_known_parsers_are_discovered() -> None:
    assert {
        "PythonModule",
        "dockerfile.parse_dockerfile",
        "dockerfile.parse_dockerignore",
        "notebook.parse_notebook",
        "requirements.parse_requirements",
        "tomlfile.parse_toml",
        "yamlfile.parse_yaml",
    } <= set(PARSERS)


ANY_TEXT = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")),
    toml_documents,
    yaml_documents[".github/workflows/ci.yml"],
    notebook_documents,
    dockerfiles,
    python_sources,
)


@SETTINGS
@given(text=ANY_TEXT)
def test_every_parser_accepts_any_text(text: str) -> None:
    for name, parse in PARSERS.items():
        result = parse("some/file.ext", text)
        assert result is not None, name
        error = getattr(result, "error", None)
        assert error is None or (isinstance(error, str) and error and "\n" not in error.strip()), (name, error)


@SETTINGS
@given(text=toml_documents)
def test_toml_parser(text: str) -> None:
    try:
        expected: dict[str, Any] | None = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        expected = None

    doc = parse_toml("pyproject.toml", text)

    assert (doc.error is None) == (expected is not None)
    assert doc.data == (expected or {})
    if doc.error is not None:
        assert doc.error.startswith("invalid TOML") and (doc.error_line is None or doc.error_line >= 1)
    for key in ("project.name", "tool.ruff", "project.dependencies", "build-system.requires", "a.b.c.d"):
        doc.get(key)
        assert doc.line_of(key) >= 1


def check_yaml_views(doc: YamlDoc) -> None:
    assert (doc.error is None) or (doc.documents == () and doc.error.startswith("invalid YAML"))
    for provider in ("github", "gitlab"):
        workflow = Workflow(doc.path, provider, doc)
        assert isinstance(workflow.triggers, set)
        assert all(isinstance(k, str) and isinstance(v, dict) for k, v in workflow.jobs.items())
        for s in workflow.steps:
            assert s.line >= 1 and (s.run is None or isinstance(s.run, str))
        assert isinstance(workflow.commands, str)


@SETTINGS
@given(path=st.sampled_from(sorted(yaml_documents)), data=st.data())
def test_yaml_parser_and_workflow_views(path: str, data: st.DataObject) -> None:
    check_yaml_views(parse_yaml(path, data.draw(yaml_documents[path])))


@pytest.mark.parametrize("path", sorted(yaml_structures))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_yaml_documents_with_wrong_types_inside(path: str, data: st.DataObject) -> None:
    """Well-formed YAML of the expected shape, with values of the wrong type anywhere, seen through the `Repo`."""
    text = yaml_text(data.draw(yaml_structures[path]))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, path).parent.mkdir(parents=True, exist_ok=True)
        Path(tmp, path).write_text(text)
        repo = Repo(tmp)

        [doc] = repo.yaml_files
        assert doc.error is None, text  # what safe_dump wrote always loads
        check_yaml_views(doc)
        assert all(hook.id and hook.line >= 1 for hook in repo.precommit_hooks)
        assert all(isinstance(w.steps, list) for w in repo.workflows)
        assert repo.parse_errors == []
        assert repo.kind in ProjectKind


@SETTINGS
@given(text=notebook_documents)
def test_notebook_parser(text: str) -> None:
    nb = parse_notebook("a.ipynb", text)

    assert all(isinstance(c, dict) for c in nb.cells)
    assert nb.error is None or nb.cells == ()
    assert all(0 <= i < len(nb.cells) for i in nb.cells_with_outputs)
    assert len(nb.sources) == len(nb.cells) and all(isinstance(s, str) for s in nb.sources)


@SETTINGS
@given(text=python_sources)
def test_python_parser(text: str) -> None:
    module = PythonModule("pkg/mod.py", text)

    assert (module.tree is None) == (module.error is not None)
    assert all(isinstance(name, str) and line >= 1 for name, line in module.imports.items())
    assert all(c.line >= 1 and c.name for c in module.calls)
    assert module.calls_named("fit", "seed_everything") == [
        c for c in module.calls if c.last in ("fit", "seed_everything")
    ]
    assert isinstance(module.has_main_guard, bool)
    if module.tree is not None:  # the fast walk sees what `ast.walk` sees, less the Load/Store/Del markers
        expected = [n for n in ast.walk(module.tree) if not isinstance(n, ast.expr_context)]
        assert sorted(map(id, module.walk())) == sorted(map(id, expected))
        # and `parents` holds every node but the module, each under the node `ast.iter_child_nodes` finds it in
        holders = {id(c): p for p in expected for c in ast.iter_child_nodes(p) if not isinstance(c, ast.expr_context)}
        assert {id(c): p for c, p in module.parents.items()} == holders
    assert module.imports_any("torch", "lightning") in (None, *module.imports.values())
    _ = (module.functions, module.lines)


#: Names the property test below asks of modules: imported or called in PYTHON_LINES, or only part of a word there.
ASKED_NAMES = (
    "torch", "lightning", "lightning.pytorch", "fit", "seed_everything", "torch.manual_seed", "backward", "print",
    "rch", "os",
)  # fmt: skip


@SETTINGS
@given(text=python_sources, name=st.sampled_from(ASKED_NAMES))
def test_a_module_gathered_on_first_use_answers_as_one_gathered_at_once(text: str, name: str) -> None:
    eager = PythonModule("tests/mod.py", text)
    lazy = PythonModule("tests/mod.py", text, gather=False)

    assert (lazy.error, lazy.error_line) == (eager.error, eager.error_line)  # the verdict, before any fact
    # the answers from the text alone (or from facts gathered for them) are the parsed ones
    assert lazy.imports_any(name) == eager.imports_any(name)
    assert [(c.name, c.line) for c in lazy.calls_named(name)] == [(c.name, c.line) for c in eager.calls_named(name)]
    assert (lazy.imports, lazy.facts()) == (eager.imports, eager.facts())  # and every fact, once one is asked for


@SETTINGS
@given(text=dockerfiles)
def test_dockerfile_parser(text: str) -> None:
    df = parse_dockerfile("Dockerfile", text)

    lines = max(1, len(text.splitlines()))
    previous = 0
    for instruction in df.instructions:
        assert previous < instruction.line <= instruction.end_line <= lines
        assert instruction.keyword == instruction.keyword.upper()
        assert instruction.exec_form is None or all(isinstance(word, str) for word in instruction.exec_form)
        previous = instruction.end_line
        _ = (instruction.script, instruction.mounts, key_values(instruction, df.escape))
    staged = [i for stage in df.stages for i in (stage.from_, *stage.instructions)]
    assert all(i in df.instructions for i in staged)
    for stage in df.stages:
        chain = df.chain(stage)
        assert chain[0] is stage and all(s.index < stage.index for s in chain[1:])
        assert all(v is None or isinstance(v, str) for v in df.variables(stage).values())
    assert df.final_stage is (df.stages[-1] if df.stages else None)


@SETTINGS
@given(
    patterns=st.lists(st.sampled_from(["*", "**", "!", "/", "?", "[", "]", "a", ".git", "\\", "-", "^"]) | text_atom),
    path=st.sampled_from([".git/HEAD", "data/raw/x.csv", "a", "src/a/b.py", "[x]/y"]) | text_atom,
)
def test_dockerignore_parser(patterns: list[str], path: str) -> None:
    ignore = parse_dockerignore(".dockerignore", "\n".join(patterns))
    assert isinstance(ignore.excludes(path), bool)
    assert all(1 <= number <= len("\n".join(patterns).splitlines()) for number in ignore.invalid)


@SETTINGS
@given(text=requirements_texts)
def test_requirements_parser(text: str) -> None:
    parsed = parse_requirements("requirements.txt", text)

    lines = len(text.splitlines())
    assert all(1 <= r.line <= lines and r.name == r.name.lower() for r in parsed.requirements)
    assert parsed.fully_pinned == (bool(parsed.requirements) and all(r.pinned for r in parsed.requirements))


@SETTINGS
@given(table=shaped(**{"fsdl-check": values}).map(lambda d: {"tool": d}), damage=st.booleans(), data=st.data())
def test_configuration_loads_or_fails_with_a_config_error(
    table: dict[str, Any], damage: bool, data: st.DataObject
) -> None:
    text = toml_text(table)
    if damage:
        text = data.draw(damaged(st.just(text)))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pyproject.toml").write_text(text)
        try:
            loaded = configuration.load(Path(tmp))
        except configuration.ConfigError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            assert isinstance(loaded, configuration.Config)


# -- a whole audit ---------------------------------------------------------------------------------------------------
tree = st.fixed_dictionaries(
    {},
    optional={
        "pyproject.toml": toml_documents,
        **yaml_documents,
        "notebooks/explore.ipynb": notebook_documents,
        "Dockerfile": dockerfiles,
        "src/pkg/train.py": python_sources,
        "src/pkg/__init__.py": python_sources,
        "tests/test_x.py": python_sources,
        "requirements.txt": requirements_texts,
        ".gitignore": st.lists(st.sampled_from(["*.log", "!keep.log", "\\", "!", "/build/", "[z-a]"]) | text_atom).map(
            "\n".join
        ),
        ".gitattributes": st.lists(
            st.sampled_from(["*.pt filter=lfs", "\\ filter=lfs", "! filter=lfs"]) | text_atom
        ).map("\n".join),
        "setup.cfg": st.text(max_size=100),
    },
)
garbage = st.dictionaries(
    st.sampled_from(
        ["model.pt", "weights.ckpt", "data.yaml", "pyproject.toml", "x.ipynb", "setup.py", "blob.bin", "Dockerfile.gpu"]
    ),
    st.binary(max_size=300),
    max_size=3,
)


@AUDIT_SETTINGS
@given(files=tree, binary=garbage)
def test_audit_of_random_trees_finishes_with_findings_or_parse_errors(
    files: dict[str, str], binary: dict[str, bytes]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, content in {**files, **binary}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))

        report = audit(root)

        assert [r.code for r in report.results] == [rule.code for rule in all_rules()]
        assert all(r.status in Status for r in report.results)
        for finding in report.findings:
            assert not finding.path.startswith("/") and ".." not in finding.path.split("/")
            assert finding.line is None or finding.line >= 1
        unparsable = set(_unparsable(root, {**files, **binary}))
        parse_findings = {f.path for f in report.findings if f.code == "FC002"}
        assert unparsable <= parse_findings
        for fmt in FORMATS:
            rendered = render(report, fmt)
            assert isinstance(rendered, str)
            if fmt in ("json", "sarif"):
                json.loads(rendered)


def _unparsable(root: Path, files: dict[str, str | bytes]) -> set[str]:
    """Data files that are readable text but do not parse (and are not templates): each must give an FC002.

    Only files the checker lists count: a generated `.gitignore` may ignore them (a `*` line ignores everything).
    """
    parsers: dict[str, Callable[[str, str], Any]] = {".toml": parse_toml, ".yml": parse_yaml, ".yaml": parse_yaml}
    parsers[".ipynb"] = parse_notebook
    listed = Repo(root).paths
    out = set()
    for rel in files:
        if rel not in listed:
            continue
        parse = parsers.get(Path(rel).suffix)
        raw = (root / rel).read_bytes()
        if parse is None or b"\0" in raw[:8192]:
            continue
        text = raw.decode("utf-8", errors="replace")
        if "{{" in text or "{%" in text:
            continue
        if parse(rel, text).error is not None:
            out.add(rel)
    return out
