"""A hostile repository: links out of the root and in circles, a 20 GB sparse file, undecodable names, special files,
parser bombs, and code that would leave a marker file behind if anything imported, executed or built it.

fsdl-check must audit it without crashing, exit 0 or 1, report nothing from outside the root, and leave no marker:
the checker reads files, it never runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import Report, audit
from fsdl_check.model import ProjectKind, Status
from fsdl_check.parsing.dockerfile import parse_dockerfile, parse_dockerignore
from fsdl_check.parsing.kubernetes import read_manifests
from fsdl_check.parsing.sbatch import parse_sbatch
from fsdl_check.parsing.yamlfile import parse_yaml

GB = 1024**3
HOME = "ho" + "me"  # a home directory's parent, built at run time so this file holds no user path
# Built at run time so this file itself holds no token-shaped literal.
TOKEN = "hf_" + "".join("aB3dE5fG7h"[(i * 7) % 10] + "kQ9mN2pR4s"[(i * 3) % 10] for i in range(17))


def marker_code(marker_dir: Path, name: str) -> str:
    """Python that leaves `marker_dir/name` behind when it is imported or run."""
    return f"import pathlib\npathlib.Path({str(marker_dir)!r}, {name!r}).write_text('ran')\n"


def build_hostile(root: Path, marker_dir: Path, outside: Path, *, use_git: bool) -> None:
    outside.mkdir()
    (outside / "leaked.py").write_text(f"HF_TOKEN = {TOKEN!r}\n")
    (outside / "huge.ckpt").write_bytes(b"\0" * 64)
    marker_dir.mkdir()
    run_me = {
        "setup.py": None,
        "conftest.py": None,
        "tests/conftest.py": None,
        "noxfile.py": None,
        "sitecustomize.py": None,
        "usercustomize.py": None,
        "src/pkg/__init__.py": None,
        "src/pkg/__main__.py": None,
        # Modules named like the checker's own imports: found first if the audited root were on sys.path.
        "yaml.py": None,
        "pathspec.py": None,
        "rich.py": None,
        "tomllib.py": None,
        "fsdl_check.py": None,
    }
    files: dict[str, str | bytes] = {rel: marker_code(marker_dir, rel.replace("/", "_")) for rel in run_me}
    files |= {
        "pyproject.toml": (
            "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'backend'\nbackend-path = ['.']\n"
            "[project]\nname = 'hostile'\nversion = '0'\nrequires-python = '>=3.11'\n"
        ),
        "backend.py": marker_code(marker_dir, "build_backend"),
        "inside.py": f"HF_TOKEN = {TOKEN!r}\n",  # the same token inside the root: this one is reported
        "Makefile": f"test:\n\ttouch {marker_dir}/make\n",
        "tox.ini": f"[testenv]\ncommands = python -c \"open('{marker_dir}/tox', 'w')\"\n",
        ".pre-commit-config.yaml": (
            f"repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n    entry: touch {marker_dir}/pre-commit\n"
            "    language: system\n"
        ),
        "config/unsafe.yaml": f"x: !!python/object/apply:os.system ['touch {marker_dir}/yaml-tag']\n",
        ".github/workflows/ci.yml": (
            "on: [push, pull_request_target]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
            "    - uses: actions/checkout@v4\n      with: {ref: '${{ github.event.pull_request.head.sha }}'}\n"
            "    - run: echo ${{ github.event.issue.title }}\n"
        ),
        "notebook.ipynb": json.dumps(
            {"cells": [{"cell_type": "code", "source": marker_code(marker_dir, "notebook"), "outputs": []}]}
        ),
        ".gitlab-ci.yml": billion_laughs(),
        # A training loop (so training-only rules read it too) under a `__main__` test nested too deep to unparse.
        "train.py": (
            "import torch\nfor x in loader:\n    loss.backward()\n    opt.step()\n"
            "if " + "-" * 1500 + "1 == '__main__':\n    pass\nx = " + "a." * 1500 + "b()\n"
        ),
        "deeper.py": "x = " + "(" * 300 + ")" * 300 + "\n",
        "deep.ipynb": "[" * 50_000 + "]" * 50_000,
        "deep.toml": "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "nul.py": b"import os\0\0\0\n",
        "notes.yaml": b"\xff\xfe\x00k\x00e\x00y\x00",
        "requirements.txt": "-r requirements.txt\n-r ../../etc/passwd\ntorch==2.0 \\\n",
        # Dockerfile bombs: arguments that double at every step, a chain of stages, continuations to the end of
        # the file, an unterminated heredoc; a .dockerignore whose patterns would backtrack exponentially.
        "Dockerfile": (
            "ARG A0=xx\n"
            + "".join(f"ARG A{i}=$A{i - 1}$A{i - 1}\n" for i in range(1, 64))
            + "FROM python:$A63 AS s0\n"
            + "".join(f"FROM s{i} AS s{i + 1}\nUSER root\n" for i in range(300))
            + "COPY . /app\nRUN echo \\\n"
            + "  x \\\n" * 20_000
            + "RUN <<EOF\n"
            + "USER app\n" * 1000
        ),
        ".dockerignore": ("*a" * 120 + "*b\n") * 1000 + "**/" * 10_000 + "x\n" + "[" * 500 + "\n",
        "docker/Dockerfile.gpu": "FROM x\nRUN " + "<<A " * 100_000 + "\n" + '"' * 100_000 + "\n",
        "dir.py/inner.txt": "a directory whose name ends in .py\n",
        ("long_" + "x" * 240 + ".py"): "y = 1\n",
        "line\nbreak.py": "z = 1\n",
    }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "wb") as fh:
        fh.write(b"print('\xe9')\n")
    with open(os.path.join(os.fsencode(root), b"bad\xff\xfename.yml"), "wb") as fh:
        fh.write(b"key: [unclosed\n")
    (root / "leak.py").symlink_to(outside / "leaked.py")
    (root / "outside_dir").symlink_to(outside, target_is_directory=True)
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    (root / "src" / "pkg" / "up").symlink_to("../..", target_is_directory=True)
    (root / "weights.ckpt").symlink_to(outside / "huge.ckpt")
    (root / "sub").mkdir()
    (root / "sub" / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(root / "requirements-dev.txt")  # reading it would block forever
    os.mkfifo(root / "fifo.py")
    if use_git:
        git(root, "init", "-q")
        git(root, "add", "-A")
        # The 20 GB file cannot be hashed cheaply: put a small blob in the index under its name.
        blob = (
            subprocess.run(
                ["git", "-C", str(root), "hash-object", "-w", "--stdin"], input=b"x", capture_output=True, check=True
            )
            .stdout.decode()
            .strip()
        )
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},data/huge.bin")
        # Repository-local git config that runs commands for some git operations.
        git(root, "config", "core.fsmonitor", f"touch {marker_dir}/fsmonitor; false")
        git(root, "config", "filter.evil.clean", f"touch {marker_dir}/filter")
        git(root, "config", "core.hooksPath", str(marker_dir))
        (root / ".gitattributes").write_text("* filter=evil\n")
    (root / "data").mkdir(exist_ok=True)
    with open(root / "data" / "huge.bin", "wb") as fh:
        fh.truncate(20 * GB)


def billion_laughs() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join([*lines, "job:", "  script:", "  - *i", ""])


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture(params=[False, True], ids=["walk", "git"])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    root, marker_dir = tmp_path / "repo", tmp_path / "markers"
    root.mkdir()
    build_hostile(root, marker_dir, tmp_path / "outside", use_git=request.param)
    yield root, marker_dir
    shutil.rmtree(tmp_path, ignore_errors=True)  # do not keep a 20 GB (sparse) file around


def assert_audited_safely(findings: list[tuple[str, str]], marker_dir: Path) -> None:
    """`findings` as (code, path) pairs."""
    assert sorted(p.name for p in marker_dir.iterdir()) == []
    paths = {path for _, path in findings}
    assert not any(p.startswith(("outside_dir/", "/")) or ".." in p.split("/") for p in paths), paths
    assert ("VC005", "inside.py") in findings  # the scanner works: only the copy outside the root stays unreported
    assert ("VC005", "leak.py") not in findings
    assert ("VC001", "data/huge.bin") in findings  # sized from its metadata, never read


def test_engine_audits_a_hostile_repository(hostile: tuple[Path, Path]) -> None:
    root, marker_dir = hostile

    report: Report = audit(root)

    findings = [(f.code, f.path) for f in report.findings]
    assert_audited_safely(findings, marker_dir)
    assert report.exit_code == 1
    broken = {f.path for f in report.findings if f.code == "FC002"}
    assert {".gitlab-ci.yml", "deep.ipynb", "deep.toml"} <= broken
    assert all(f.display_path.encode("utf-8") for f in report.findings)  # undecodable names still print


def fsdl_check_command() -> list[str]:
    """The console script of the environment running the tests (not whichever one is first on PATH)."""
    script = Path(sys.executable).with_name("fsdl-check")
    return [str(script)] if script.exists() else [shutil.which("fsdl-check") or "fsdl-check"]


def test_cli_audits_a_hostile_repository(hostile: tuple[Path, Path]) -> None:
    root, marker_dir = hostile

    done = subprocess.run(
        [*fsdl_check_command(), "--format", "json", "--no-color", "."],
        cwd=root,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )

    stderr = done.stderr.decode(errors="replace")
    assert done.returncode in (0, 1), stderr
    assert "Traceback" not in stderr
    report = json.loads(done.stdout)
    findings = [(f["code"], f["path"]) for f in report_findings(report)]
    assert_audited_safely(findings, marker_dir)


def report_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reported (not suppressed) findings of a JSON report: each rule lists its own."""
    return [finding for rule in report["rules"] for finding in rule["findings"]]


@pytest.mark.parametrize(
    ("pyproject", "line"),
    [
        ("[project]\nname = 'x'\nversion = [\n", 3),
        ("[project\nname = 'x'\n", 1),
        ("[project]\nname = 'x'\nname = 'y'\n", 3),
        ("[tool.fsdl-check]\nselect = ['PK'\n", 2),
    ],
)
def test_a_broken_pyproject_is_a_clean_parse_finding(tmp_path: Path, pyproject: str, line: int) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)

    done = subprocess.run(
        [*fsdl_check_command(), "--format", "json", str(tmp_path)], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    parse_errors = [(f["path"], f["line"]) for f in report_findings(json.loads(done.stdout)) if f["code"] == "FC002"]
    assert parse_errors == [("pyproject.toml", line)]
    assert [(f.path, f.line) for f in audit(tmp_path).findings if f.code == "FC002"] == [("pyproject.toml", line)]


def test_a_pyproject_nested_beyond_the_parsers_limit_is_a_parse_finding(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fsdl-check]\nselect = " + "[" * 3000 + "]" * 3000 + "\n")

    done = subprocess.run(
        [*fsdl_check_command(), "--format", "json", str(tmp_path)], capture_output=True, text=True, timeout=60
    )

    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    codes = [(f["code"], f["path"]) for f in report_findings(json.loads(done.stdout))]
    assert ("FC002", "pyproject.toml") in codes


# -- Dockerfiles that would make a careless reader slow ---------------------------------------------------------------
DOCKERFILE_BOMBS = {
    "continuations": "FROM a\nRUN echo \\\n" + "  x \\\n" * 300_000 + "  done\n",
    "bare escapes": "\\\n" * 1_000_000,
    "heredoc markers": "FROM a\nRUN " + "<<A " * 500_000 + "\n",
    "unterminated heredocs": "FROM a\n" + "RUN <<A\n" * 300_000,
    "argument bomb": "ARG A0=xx\n" + "".join(f"ARG A{i}=$A{i - 1}$A{i - 1}\n" for i in range(1, 80)) + "FROM p:$A79\n",
    "stage chain": "FROM python:3 AS s0\n"
    + "".join(f"FROM s{i} AS s{i + 1}\nRUN pip install x\n" for i in range(6000)),
    "instructions": "FROM a\n" + "USER x\n" * 400_000,
    "quotes": "FROM a\nENV A=" + '"' * 1_000_000 + "\n",
    "nested substitutions": "ARG A=1\nFROM " + "${A:-" * 50_000 + "}" * 50_000 + "\n",
    "one long RUN": "FROM a\nRUN " + "pip install x && " * 200_000 + "\n",
    "sudoers": "FROM a\n"
    + "RUN echo '%sudo ALL=(ALL) NOPASSWD: ALL'\n" * 3000
    + "RUN usermod -aG sudo app\n" * 2000
    + "USER app\n",
    "binary-ish": "FROM a\n" + "\ufffd\x01\x02" * 500_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(DOCKERFILE_BOMBS))
def test_hostile_dockerfiles_are_read_in_a_moment(name: str, tmp_path: Path) -> None:
    text = DOCKERFILE_BOMBS[name]
    started = time.perf_counter()
    parsed = parse_dockerfile("Dockerfile", text)
    assert time.perf_counter() - started < 5, f"{name}: parsing took too long"
    assert parsed.error is None or "\n" not in parsed.error
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / ".dockerignore").write_text(("*a" * 120 + "*b\n") * 1000)
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("DK",), project_kind=ProjectKind.TRAINING))
    assert time.perf_counter() - started < 10, f"{name}: the DK rules took too long"
    assert all(f.line is None or f.line >= 1 for f in report.findings)


def test_a_dockerignore_that_would_backtrack_is_matched_in_bounded_time() -> None:
    ignore = parse_dockerignore(".dockerignore", ("*a" * 120 + "*b\n") * 1000 + "**/" * 100_000 + "x\n")
    started = time.perf_counter()
    results = [ignore.excludes(path) for path in ("a" * 60, "data/raw/train.csv", "a/" * 30 + "b")]
    assert time.perf_counter() - started < 5
    assert all(isinstance(r, bool) for r in results)


# -- batch scripts and Kubernetes manifests that would make a careless reader slow ------------------------------------
SBATCH_BOMBS = {
    "directives": "#!/bin/bash\n" + "#SBATCH -N 1 -n 2 --gres=gpu:4 --signal=B:USR1@90\n" * 200_000,
    "continuations": "#SBATCH -t 1\nsrun python train.py \\\n" + "  --x \\\n" * 200_000,
    "open quote": '#SBATCH -t 1\npython -c "\n' + "srun python x.py\n" * 200_000,
    "commands": "#SBATCH -t 1\n" + "srun python train.py & " * 100_000 + "\n",
    "traps": "#SBATCH --signal=B:USR1\n" + "trap 'x' USR1 TERM\n" * 200_000,
    "binary-ish": "#SBATCH -t 1\n" + "\ufffd\x01'\"`$(" * 300_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(SBATCH_BOMBS))
def test_hostile_batch_scripts_are_read_in_a_moment(name: str, tmp_path: Path) -> None:
    text = SBATCH_BOMBS[name]
    started = time.perf_counter()
    parse_sbatch("job.sbatch", text)
    assert time.perf_counter() - started < 5, f"{name}: parsing took too long"
    (tmp_path / "job.sbatch").write_text(text)
    (tmp_path / "train.py").write_text("import lightning\n")
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("SL",), project_kind=ProjectKind.TRAINING))
    assert time.perf_counter() - started < 10, f"{name}: the SL rules took too long"
    assert all(f.line is None or f.line >= 1 for f in report.findings)


def _deep(depth: int) -> str:
    return "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      env: " + "[" * depth + "]" * depth


K8S_BOMBS = {
    "alias bomb": "apiVersion: v1\nkind: Pod\n" + billion_laughs().replace("job:", "spec:\n  containers:\n  x:"),
    "shared containers": "c: &c {name: a, image: x, env: [{name: PASSWORD, value: 'hunter2-Xk9qLm3vPz7Rt'}]}\n"
    + "---\napiVersion: v1\nkind: Pod\nspec:\n  containers: ["
    + ", ".join(["*c"] * 5000)
    + "]\n",
    "deep nesting": _deep(5000),
    "documents": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: []}}}\n"
    "---\n" * 30_000,
    "many patches": "",
}


@pytest.mark.parametrize("name", sorted(K8S_BOMBS))
def test_hostile_manifests_are_read_in_a_moment(name: str, tmp_path: Path) -> None:
    text = K8S_BOMBS[name]
    files = {"k8s/job.yaml": text}
    if name == "many patches":  # every patch targets every Job: variants must stay bounded
        job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j%d}\n"
        job += "spec:\n  template: {spec: {containers: [{name: a}]}}\n"
        files = {"k8s/jobs.yaml": "---\n".join(job % i for i in range(300))}
        files["k8s/kustomization.yaml"] = "resources: [jobs.yaml]\npatches:\n" + "".join(
            f"  - target: {{kind: Job}}\n    patch: '[{{op: add, path: /spec/backoffLimit, value: {i}}}]'\n"
            for i in range(300)
        )
    started = time.perf_counter()
    read_manifests([parse_yaml(path, content) for path, content in files.items()])
    assert time.perf_counter() - started < 10, f"{name}: reading took too long"
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    (tmp_path / "data.py").write_text("DataLoader(ds, num_workers=4)\n")
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("KS",), project_kind=ProjectKind.TRAINING))
    assert time.perf_counter() - started < 30, f"{name}: the KS rules took too long"
    assert all(f.line is None or f.line >= 1 for f in report.findings)


# -- sweeps that would make a careless reader slow ---------------------------------------------------------------
_TUNER = "tune.Tuner(train, param_space=SPACE, tune_config=tune.TuneConfig(scheduler=s, search_alg=a))\n"
SWEEP_BOMBS = {
    "many tuners": "from ray import tune\n" + _TUNER * 20_000 + "r.get_best_result('x', 'min')\n" * 20_000,
    "long name chain": "from ray import tune\n"
    + "".join(f"a{i} = a{i + 1}\n" for i in range(20_000))
    + "tune.Tuner(a0, param_space=a0, tune_config=a0)\n",
    "self-reference": "from ray import tune\na = b\nb = a\na = f(a)\ntune.Tuner(a, param_space=b, tune_config=a)\n",
    "huge space": "from ray import tune\nSPACE = {"
    + ", ".join(f"'k{i}': tune.choice([{i}, {i + 1}])" for i in range(50_000))
    + "}\ntune.Tuner(train, param_space=SPACE)\n",
    "nested hyperopt": "from hyperopt import fmin, hp\nfmin(f, " + "hp.choice('a', [" * 90 + "1" + "])" * 90 + ")\n",
    "many studies": "import optuna\n"
    + "def objective(trial):\n    for i in range(3):\n        trial.suggest_float('x', 0, 1)\n" * 2000
    + "optuna.create_study()\n" * 5000,
    "wandb yaml": "method: bayes\nmetric: {name: '"
    + "acc_" * 200_000
    + "'}\nparameters:\n"
    + "".join(f"  p{i}: {{values: [1, 2]}}\n" for i in range(50_000)),
}


@pytest.mark.parametrize("name", sorted(SWEEP_BOMBS))
def test_hostile_sweeps_are_read_in_a_moment(name: str, tmp_path: Path) -> None:
    text = SWEEP_BOMBS[name]
    file = tmp_path / ("sweep.yaml" if name.endswith("yaml") else "sweep.py")
    file.write_text(text)
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("HP",), project_kind=ProjectKind.TRAINING))
    assert time.perf_counter() - started < 20, f"{name}: the HP rules took too long"
    assert all(f.line is None or f.line >= 1 for f in report.findings)


# -- patterns that would backtrack, and line numbers counted from the start for each finding ------------------------
CI_RUNS = {".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n    - run: {command}\n"}
TEXT_BOMBS: dict[str, dict[str, str]] = {
    # PEM headers that can each be read as one header or as part of the one before: exponential in the count
    "private-key headers": {"key.txt": "-----BEGIN PRIVATE KEY-----\n" + "a: " * 40},
    "private-key headers, JSON-escaped": {"key.json": '{"k": "-----BEGIN RSA PRIVATE KEY-----\\n' + "a: \\n" * 40},
    # a recipe header whose parameters and the spaces before `:` can be split in cubically many ways
    "justfile parameters": {"justfile": "a" + " " * 3000 + "\n" + "b" + " x" * 20_000 + "\n", **CI_RUNS},
    "Makefile targets": {"Makefile": "a" + " " * 100_000 + "b\n" + "c" + " d" * 50_000 + "\n", **CI_RUNS},
    "home paths": {"paths.yaml": "".join(f"- /{HOME}/alice{i}/data\n" for i in range(100_000))},
    "secrets": {"keys.py": "".join(f"K{i} = 'hf_{'aB3dE5fG7hkQ9mN2pR4s' * 2}{i:08d}'\n" for i in range(30_000))},
}


@pytest.mark.parametrize("name", sorted(TEXT_BOMBS))
def test_inputs_that_would_backtrack_or_recount_lines_are_audited_in_a_moment(name: str, tmp_path: Path) -> None:
    for rel, content in TEXT_BOMBS[name].items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        command = "just" if "justfile" in TEXT_BOMBS[name] else "make"
        path.write_text(content.replace("{command}", command))
    started = time.perf_counter()
    report = audit(tmp_path, Config(project_kind=ProjectKind.TRAINING))
    assert time.perf_counter() - started < 20, f"{name}: the audit took too long"
    assert all(f.line is None or f.line >= 1 for f in report.findings)


def test_line_numbers_of_many_findings_in_one_file_are_right(tmp_path: Path) -> None:
    (tmp_path / "paths.yaml").write_text("".join(f"- /{HOME}/alice{i}/data\n" for i in range(3000)))
    report = audit(tmp_path, Config(select=("RP003",)))
    assert [f.line for f in report.findings] == list(range(1, 3001))


def test_a_real_private_key_is_still_found_after_headers(tmp_path: Path) -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 2
    pem = f"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\n{body}\n"
    (tmp_path / "key.txt").write_text("x\n" + pem)
    (tmp_path / "key.json").write_text('{"k": "' + pem.replace("\n", "\\n") + '"}\n')
    findings = [(f.path, f.line) for f in audit(tmp_path, Config(select=("VC005",))).findings]
    assert findings == [("key.json", 1), ("key.txt", 2)]


@pytest.mark.parametrize("length", [1000, 30_000])
def test_a_long_chain_of_make_prerequisites_is_followed_without_recursion(length: int, tmp_path: Path) -> None:
    chain = "".join(f"t{i}: t{i + 1}\n\techo {i}\n" for i in range(length))
    (tmp_path / "Makefile").write_text(f"all: t0\n{chain}t{length}:\n\tpytest tests\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a() -> None:\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text(CI_RUNS[".github/workflows/ci.yml"].format(command="make all"))
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("TS001", "TS002")))
    assert time.perf_counter() - started < 20
    assert [(r.code, r.status) for r in report.results if r.code == "TS002"] == [("TS002", Status.PASS)]


def test_many_suppressions_and_findings_in_one_file_are_matched_in_a_moment(tmp_path: Path) -> None:
    lines = (f"- /{HOME}/alice{i}/x" + ("  # fsdl: ignore[RP003] r\n" if i % 2 else "\n") for i in range(40_000))
    (tmp_path / "paths.yaml").write_text("".join(lines))
    started = time.perf_counter()
    report = audit(tmp_path, Config(select=("RP003", "FC001")))
    assert time.perf_counter() - started < 20  # each finding against every suppression took 11 s for 20,000 lines
    rp003 = next(r for r in report.results if r.code == "RP003")
    assert (len(rp003.findings), len(rp003.suppressed)) == (20_000, 20_000)
    assert not [f for f in report.findings if f.code == "FC001"]
