"""Audit time of fsdl-check against `ruff check` and `repo-review` (sp-repo-review), same trees, one run.

    python benchmarks/checker.py [--sizes 100,1000,10000,50000] [--runs N] [--profile 10000] [--keep]
                                 [--repo PATH ...]

For each size a synthetic repository is generated deterministically in a temporary directory: Python modules with
imports, classes, calls and functions (some typed, some not), tests, notebooks with and without outputs,
Dockerfiles, YAML configs, Kubernetes manifests and CI workflows, requirement files, a pyproject.toml. Each tree is
timed as a plain directory (the walk that honours .gitignore) and after `git init && git add` (the `git ls-files`
listing). fsdl-check is timed three ways, with a cache directory of the benchmark's own filled by the warm-up
round: cold (`--no-cache`: every Python file parsed, every rule run), facts (the fact cache warm but the report cache
missed, as after a change to one file: each round selects one more, already selected, rule code, which makes a new
configuration without changing the report) and warm (an unchanged repository, as a pre-commit run or a CI re-run
finds it: the stored report). Synthetic trees are left alone for the report cache's quiet time before the warm-up
round, since a report is only stored for files not changed in the last seconds.

Every tool runs as it is installed: Python tools with their compiled bytecode, so the benchmark drops
PYTHONDONTWRITEBYTECODE from their environment (the warm-up round writes the bytecode where it is missing); with it
set, every run would compile every module of fsdl-check and repo-review from source first (about 0.15 s here).
The tools run round-robin on the same tree in the same process run (one run of each per round, so a burst of load
from elsewhere hits all of them alike), after one warm-up round; the median of N rounds is reported (N is 5 below
10,000 files and 3 above unless --runs says otherwise), with the ratios and the time per file so the growth with
size is visible. Each tree is deleted once measured.

`--repo PATH` (repeatable, or the os.pathsep-separated list in $FSDL_BENCH_REPOS) also times local copies of real
repositories, for example a clone of Lightning-AI/pytorch-lightning and one of karpathy/nanoGPT. The benchmark never
downloads: a path that does not exist is skipped with a note.

Commands timed (output discarded):
    fsdl-check TREE --format json --output /dev/null --exit-zero --no-cache     (cold)
    fsdl-check TREE --format json --output /dev/null --exit-zero --extend-select CODE   (facts; CODE each round anew)
    fsdl-check TREE --format json --output /dev/null --exit-zero                (warm)
    ruff check TREE --no-cache --exit-zero
    repo-review TREE --format json

Benchmarks report figures; they never assert a time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fsdl_check.report_cache import QUIET_S

DEFAULT_SIZES = (100, 1_000, 10_000, 50_000)
FILES_PER_DIRECTORY = 40


# -- the synthetic repository --------------------------------------------------------------------------------------
PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "synthetic"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["torch>=2.3", "lightning>=2.4", "numpy>=1.26", "pyyaml>=6"]

[project.optional-dependencies]
dev = ["pytest>=8", "ruff>=0.6", "mypy>=1.11"]

[tool.ruff]
line-length = 120

[tool.ruff.lint]
select = ["E", "F", "I", "B", "UP"]

[tool.mypy]
strict = true

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
GITIGNORE = "__pycache__/\n*.py[cod]\n.venv/\nmlruns/\nwandb/\nlightning_logs/\noutputs/\ncheckpoints/\n*.ckpt\n"
PRECOMMIT = """\
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.9
    hooks:
      - id: ruff
      - id: ruff-format
  - repo: https://github.com/pre-commit/mirrors-mypy
    rev: v1.11.2
    hooks:
      - id: mypy
"""
WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -e ".[dev]"
      - run: ruff check . && mypy src
      - run: pytest -q
"""
TRAIN = """\
\"\"\"Training entry point.\"\"\"
from __future__ import annotations

import lightning as L
from lightning.pytorch.cli import LightningCLI

from synthetic.model import Model


def main() -> None:
    L.seed_everything(42, workers=True)
    LightningCLI(Model)


if __name__ == "__main__":
    main()
"""


def python_module(rng: random.Random, package: str, index: int, siblings: int) -> str:
    other = rng.randrange(siblings)
    lines = [
        f'"""Synthetic module {index}: layers and helpers."""',
        "from __future__ import annotations",
        "",
        "import math",
        "import os",
        "from pathlib import Path",
        "",
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        f"from {package}.mod_{other} import helper_{other}",
        "",
        f"SCALE_{index} = {rng.randint(1, 99)}",
        "",
        "",
        f"class Block{index}(nn.Module):",
        f"    def __init__(self, width: int = {rng.choice([32, 64, 128])}) -> None:",
        "        super().__init__()",
        "        self.linear = nn.Linear(width, width)",
        "        self.norm = nn.LayerNorm(width)",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        "        return torch.relu(self.norm(self.linear(x)))",
    ]
    for number in range(rng.randint(2, 6)):
        typed = rng.random() < 0.7
        signature = "values: list[float], scale: float = 1.0) -> float" if typed else "values, scale=1.0)"
        lines += [
            "",
            "",
            f"def helper_{index}_{number}({signature}:" if number else f"def helper_{index}({signature}:",
            f"    total = sum(math.sqrt(abs(v)) * scale for v in values) + helper_{other}([1.0])",
            f"    if os.environ.get('DEBUG_{index}'):",
            "        print(total, Path.cwd())",
            f"    return total / max(len(values), 1) * np.float32(SCALE_{index})",
        ]
    return "\n".join(lines) + "\n"


def test_source(index: int, package: str) -> str:
    return (
        f"from {package}.mod_{index} import helper_{index}\n\n\n"
        f"def test_helper_{index}() -> None:\n    assert helper_{index}([1.0, 4.0]) > 0\n"
    )


def notebook(rng: random.Random, index: int, with_outputs: bool) -> str:
    cells: list[dict[str, object]] = [
        {"cell_type": "markdown", "metadata": {}, "source": [f"# Exploration {index}\n", "Loss curves.\n"]}
    ]
    for number in range(rng.randint(2, 5)):
        cell: dict[str, object] = {
            "cell_type": "code",
            "metadata": {},
            "source": ["import numpy as np\n", f"x = np.linspace(0, {number + 1}, 50)\n", "x.mean()\n"],
            "execution_count": number + 1 if with_outputs else None,
            "outputs": [],
        }
        if with_outputs:
            data = {"text/plain": [f"{rng.random():.6f}"]}
            cell["outputs"] = [{"output_type": "execute_result", "execution_count": number + 1, "data": data}]
        cells.append(cell)
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def dockerfile(index: int) -> str:
    return (
        "FROM python:3.11-slim AS build\n"
        "WORKDIR /app\n"
        "COPY pyproject.toml .\n"
        "RUN pip install --no-cache-dir build && python -m build --wheel\n"
        "\n"
        "FROM python:3.11-slim\n"
        "RUN useradd --create-home app\n"
        "COPY --from=build /app/dist/*.whl /tmp/\n"
        "RUN pip install --no-cache-dir /tmp/*.whl\n"
        "USER app\n"
        f'CMD ["python", "-m", "synthetic.serve", "--port", "{8000 + index}"]\n'
    )


def yaml_config(rng: random.Random, index: int) -> str:
    return (
        f"# experiment {index}\n"
        "model:\n"
        f"  width: {rng.choice([64, 128, 256])}\n"
        f"  depth: {rng.randint(2, 12)}\n"
        f"  dropout: {rng.random():.2f}\n"
        "data:\n"
        f"  batch_size: {rng.choice([16, 32, 64])}\n"
        "  num_workers: 4\n"
        "trainer:\n"
        f"  max_epochs: {rng.randint(1, 50)}\n"
        "  accelerator: auto\n"
        "  callbacks:\n"
        "    - class_path: lightning.pytorch.callbacks.ModelCheckpoint\n"
        "      init_args: {monitor: val_loss, save_top_k: 1}\n"
    )


def manifest(index: int) -> str:
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n"
        f"  name: train-{index}\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n"
        f"        - name: train\n          image: registry.example.com/synthetic:{index}\n"
        "          resources: {limits: {cpu: '2', memory: 4Gi}}\n"
    )


def requirements(rng: random.Random) -> str:
    names = ["numpy", "torch", "lightning", "pyyaml", "rich", "scikit-learn", "pandas", "mlflow", "pillow", "tqdm"]
    picked = rng.sample(names, rng.randint(3, len(names)))
    return "".join(f"{name}=={rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}\n" for name in picked)


def generate(root: Path, size: int, seed: int = 0) -> int:
    """Write a repository of exactly `size` files under `root`; returns the number of bytes written."""
    rng = random.Random(seed * 1_000_003 + size)
    fixed: dict[str, str] = {
        "pyproject.toml": PYPROJECT,
        ".gitignore": GITIGNORE,
        ".pre-commit-config.yaml": PRECOMMIT,
        ".github/workflows/ci.yml": WORKFLOW,
        "README.md": "# synthetic\n\nA generated repository for benchmarks.\n",
        "LICENSE": "MIT License\n",
        "src/synthetic/__init__.py": '"""Synthetic package."""\n',
        "src/synthetic/train.py": TRAIN,
    }
    files = dict(fixed)
    remaining = size - len(files)
    # The mix of a typical ML repository: mostly modules, then tests, configs, notebooks and the rest.
    shares = {"module": 0.62, "test": 0.15, "config": 0.10, "notebook": 0.05, "manifest": 0.04, "docker": 0.02}
    counts = {kind: int(remaining * share) for kind, share in shares.items()}
    counts["requirements"] = remaining - sum(counts.values())
    # Modules live in packages of FILES_PER_DIRECTORY, each with an __init__.py that counts as a file too.
    packages = max(1, -(-counts["module"] // (FILES_PER_DIRECTORY + 1)))
    modules = counts["module"] - packages
    for number in range(packages):
        files[f"src/synthetic/pkg_{number}/__init__.py"] = ""
    for index in range(modules):
        number, position = divmod(index, FILES_PER_DIRECTORY)
        siblings = min(FILES_PER_DIRECTORY, modules - number * FILES_PER_DIRECTORY)
        package = f"synthetic.pkg_{number}"
        files[f"src/synthetic/pkg_{number}/mod_{position}.py"] = python_module(rng, package, position, siblings)
    for index in range(counts["test"]):
        number, position = divmod(index % max(modules, 1), FILES_PER_DIRECTORY)
        files[f"tests/t_{index // FILES_PER_DIRECTORY}/test_{index}.py"] = test_source(
            position, f"synthetic.pkg_{number}"
        )
    for index in range(counts["config"]):
        files[f"configs/c_{index // FILES_PER_DIRECTORY}/experiment_{index}.yaml"] = yaml_config(rng, index)
    for index in range(counts["notebook"]):
        files[f"notebooks/n_{index // FILES_PER_DIRECTORY}/explore_{index}.ipynb"] = notebook(
            rng, index, index % 2 == 0
        )
    for index in range(counts["manifest"]):
        files[f"deploy/k8s_{index // FILES_PER_DIRECTORY}/job_{index}.yaml"] = manifest(index)
    for index in range(counts["docker"]):
        files[f"services/s_{index}/Dockerfile"] = dockerfile(index)
    for index in range(counts["requirements"]):
        files[f"requirements/r_{index // FILES_PER_DIRECTORY}/requirements-{index}.txt"] = requirements(rng)
    assert len(files) == size, (len(files), size)
    written = 0
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        written += len(data)
    return written


def make_git(root: Path) -> None:
    env = os.environ | {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)


def disk_usage(root: Path) -> int:
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


# -- timing ---------------------------------------------------------------------------------------------------------
def tool_path(name: str) -> str | None:
    """The console script from this interpreter's environment, else the first on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def commands(tree: Path) -> dict[str, list[str] | None]:
    fsdl, ruff, review = tool_path("fsdl-check"), tool_path("ruff"), tool_path("repo-review")
    audit = [fsdl, str(tree), "--format", "json", "--output", os.devnull, "--exit-zero"] if fsdl else None
    return {
        "fsdl-check cold": [*audit, "--no-cache"] if audit else None,
        "fsdl-check facts": [*audit, "--extend-select", PER_ROUND] if audit else None,
        "fsdl-check warm": audit,
        "ruff": [ruff, "check", str(tree), "--no-cache", "--exit-zero"] if ruff else None,
        "repo-review": [review, str(tree), "--format", "json"] if review else None,
    }


#: Replaced by another rule code each round: a configuration of its own (a report cache miss), the same report.
PER_ROUND = "<code of the round>"


def round_codes() -> list[str]:
    from fsdl_check.model import all_rules

    return sorted(rule.code for rule in all_rules())


def environment(extra: dict[str, str]) -> dict[str, str]:
    """This environment for the timed tools, less PYTHONDONTWRITEBYTECODE: installed tools run from bytecode."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | extra


#: Exit statuses that mean "ran to the end" (repo-review exits 3 when a check fails).
FINISHED = (0, 1, 3)


def time_once(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall-clock seconds and peak resident memory (KiB, Linux) of one run of `command`."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    if process.returncode not in FINISHED or "Traceback" in errors:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {errors.strip()[-500:]}")
    return elapsed, usage.ru_maxrss


def median_times(
    commands: dict[str, list[str] | None], runs: int, env: dict[str, str] | None = None
) -> dict[str, tuple[float, int] | None]:
    """Median seconds and largest peak memory of each command over `runs` rounds, after one warm-up round (imports,
    page cache, and fsdl-check's fact cache for the warm runs). One run of each command per round."""
    present = {name: command for name, command in commands.items() if command is not None}
    measured: dict[str, list[tuple[float, int]]] = {name: [] for name in present}
    codes = round_codes()
    for round_number in range(runs + 1):
        for name, command in present.items():
            code = codes[round_number % len(codes)]
            result = time_once([code if part == PER_ROUND else part for part in command], env)
            if round_number:
                measured[name].append(result)
    return {
        name: (statistics.median(t for t, _ in measured[name]), max(m for _, m in measured[name]))
        if name in measured
        else None
        for name in commands
    }


@dataclass
class Row:
    tree: str  # the size of a synthetic tree, or a real repository's name
    files: int
    listing: str  # "walk" or "git"
    cold_s: float
    cold_rss_kb: int
    facts_s: float
    warm_s: float
    ruff_s: float | None
    review_s: float | None
    runs: int

    def as_dict(self) -> dict[str, object]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "tree": self.tree,
            "files": self.files,
            "listing": self.listing,
            "fsdl_check_cold_s": rounded(self.cold_s),
            "fsdl_check_facts_s": rounded(self.facts_s),
            "fsdl_check_warm_s": rounded(self.warm_s),
            "fsdl_check_peak_rss_mb": round(self.cold_rss_kb / 1024, 1),
            "ruff_s": rounded(self.ruff_s),
            "repo_review_s": rounded(self.review_s),
            "cold_over_ruff": rounded(self.cold_s / self.ruff_s) if self.ruff_s else None,
            "facts_over_ruff": rounded(self.facts_s / self.ruff_s) if self.ruff_s else None,
            "warm_over_ruff": rounded(self.warm_s / self.ruff_s) if self.ruff_s else None,
            "cold_over_repo_review": rounded(self.cold_s / self.review_s) if self.review_s else None,
            "runs": self.runs,
        }


def ratio(a: float, b: float | None) -> str:
    return f"{a / b:6.2f}" if b else "     -"


def seconds(value: float | None) -> str:
    return f"{value:8.3f}" if value is not None else "       -"


def print_table(rows: list[Row]) -> None:
    print(
        f"{'tree':>17} {'files':>6} {'listing':>7} {'cold':>8} {'facts':>8} {'warm':>8} {'ruff':>8} "
        f"{'repo-review':>11} {'cold/ruff':>9} {'facts/ruff':>10} {'warm/ruff':>9} {'cold/rr':>7} {'warm/rr':>7} "
        f"{'cold ms/file':>12} {'cold MB':>8}"
    )
    for row in rows:
        print(
            f"{row.tree:>17} {row.files:6d} {row.listing:>7} {seconds(row.cold_s)} {seconds(row.facts_s)} "
            f"{seconds(row.warm_s)} {seconds(row.ruff_s)} {seconds(row.review_s):>11} "
            f"{ratio(row.cold_s, row.ruff_s):>9} {ratio(row.facts_s, row.ruff_s):>10} "
            f"{ratio(row.warm_s, row.ruff_s):>9} {ratio(row.cold_s, row.review_s):>7} "
            f"{ratio(row.warm_s, row.review_s):>7} "
            f"{1000 * row.cold_s / row.files:12.3f} {row.cold_rss_kb / 1024:8.0f}"
        )


def profile(tree: Path, top: int = 15) -> str:
    """cProfile of one in-process fsdl-check run on `tree`: the `top` functions by own time and by cumulative time."""
    from fsdl_check.cli import main as fsdl_main

    profiler = cProfile.Profile()
    profiler.runcall(fsdl_main, [str(tree), "--format", "json", "--output", os.devnull, "--exit-zero", "--no-cache"])
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def time_tree(name: str, tree: Path, files: int, listing: str, runs: int) -> Row:
    """One row: every tool on `tree`, round-robin, fsdl-check's warm runs with a fact cache of their own."""
    cmds = commands(tree)
    if cmds["fsdl-check warm"] is None:
        raise SystemExit("fsdl-check is not installed in this environment")
    with tempfile.TemporaryDirectory(prefix="fsdl-bench-cache-") as cache:
        times = median_times(cmds, runs, environment({"FSDL_CHECK_CACHE_DIR": cache}))
    cold, facts, warm = times["fsdl-check cold"], times["fsdl-check facts"], times["fsdl-check warm"]
    assert cold is not None and facts is not None and warm is not None
    ruff, review = times["ruff"], times["repo-review"]
    row = Row(name, files, listing, cold[0], cold[1], facts[0], warm[0], ruff and ruff[0], review and review[0], runs)
    print(f"# {json.dumps(row.as_dict())}", flush=True)  # each row as soon as it is measured
    return row


def measure(size: int, runs: int | None, workdir: Path | None, keep: bool, profile_size: int | None) -> list[Row]:
    n = runs or (5 if size < 10_000 else 3)
    tree = Path(tempfile.mkdtemp(prefix=f"fsdl-bench-{size}-", dir=workdir))
    rows = []
    try:
        started = time.perf_counter()
        written = generate(tree, size)
        print(
            f"# {size} files: generated in {time.perf_counter() - started:.1f} s, "
            f"{written / 1e6:.1f} MB of text, {disk_usage(tree) / 1e6:.1f} MB on disk",
            flush=True,
        )
        time.sleep(QUIET_S)  # a report is stored only for files left alone that long
        rows.append(time_tree(f"synthetic {size}", tree, size, "walk", n))
        make_git(tree)
        time.sleep(QUIET_S)
        print(f"# {size} files: git index built, {disk_usage(tree) / 1e6:.1f} MB on disk", flush=True)
        rows.append(time_tree(f"synthetic {size}", tree, size, "git", n))
        if profile_size == size:
            print(profile(tree), flush=True)
    finally:
        if keep:
            print(f"# kept {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    return rows


def measure_real(path: Path, runs: int | None) -> Row | None:
    """A local copy of a real repository, as it is (never downloaded, never changed)."""
    if not path.is_dir():
        print(f"# {path}: no such directory, skipped (clone the repository there to time it)", flush=True)
        return None
    listed = subprocess.run(["git", "-C", str(path), "ls-files"], capture_output=True, text=True)
    names = listed.stdout.splitlines() if listed.returncode == 0 else []
    files = len(names) or sum(len(f) for _, _, f in os.walk(path))
    python = sum(name.endswith(".py") for name in names)
    print(f"# {path.name}: {files} files, {python} Python", flush=True)
    return time_tree(path.name, path, files, "git" if names else "walk", runs or 5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated file counts")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per tool (default 5, or 3 from 10,000)")
    parser.add_argument("--profile", type=int, default=None, metavar="SIZE", help="cProfile fsdl-check at SIZE")
    parser.add_argument("--workdir", type=Path, default=None, help="where the trees are generated (default: temp)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the generated trees")
    parser.add_argument(
        "--repo", type=Path, action="append", default=None, help="also time this local repository (repeatable)"
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    if any(s < 20 for s in sizes) or (args.runs is not None and args.runs < 1):
        parser.error("sizes must be at least 20 files and --runs at least 1")

    versions = {name: _version(name) for name in ("fsdl-check", "ruff", "repo-review")}
    print(f"# {datetime.now(UTC):%Y-%m-%d} on {platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version[:6]}")
    print("# " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    rows: list[Row] = []
    repos = args.repo or [Path(p) for p in os.environ.get("FSDL_BENCH_REPOS", "").split(os.pathsep) if p]
    if not repos:
        print("# no --repo or $FSDL_BENCH_REPOS: real repositories skipped", flush=True)
    for repo in repos:
        if (row := measure_real(repo, args.runs)) is not None:
            rows.append(row)
    for size in sizes:
        rows.extend(measure(size, args.runs, args.workdir, args.keep, args.profile))
    print()
    print_table(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"versions": versions, "rows": [r.as_dict() for r in rows]}, indent=2) + "\n")
    return 0


def _version(name: str) -> str:
    path = tool_path(name)
    if path is None:
        return "not installed"
    done = subprocess.run([path, "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().split()[-1] if done.returncode == 0 else "unknown"


if __name__ == "__main__":
    sys.exit(main())
