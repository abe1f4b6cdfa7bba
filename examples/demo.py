"""The main job behind `make demo`: render an example project, train it on the CPU, show the run, audit it.

1. Render `examples/default.yml` (or the answers file given as the first argument) with Copier from this
   working tree into a fresh directory under `demo/` (or `$FSDL_DEMO_DIR`) — nothing that exists is overwritten.
2. Install the project (editable, no new dependencies: the stack is already in this environment) and train its
   default config with MLflow on the project's local SQLite store.
3. Read the run back from that store, print the validation accuracy, where the store is and how to open its UI.
4. Lock its dependencies with `make lock`'s tool (uv) and audit the project with fsdl-check.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import copier
import yaml

from fsdl_check.cli import main as fsdl_check

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUTPUT = Path(os.environ.get("FSDL_DEMO_DIR") or ROOT / "demo").resolve()


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True)


def render(answers_file: Path) -> Path:
    answers = yaml.safe_load(answers_file.read_text())
    destination = OUTPUT / f"{answers['project_slug']}-{time.strftime('%Y%m%d-%H%M%S')}"
    if destination.exists():
        raise SystemExit(f"demo: {destination} exists already; try again in a second")
    step(f"Rendering {answers_file.name} into {destination}")
    copier.run_copy(str(ROOT), destination, data=answers, defaults=True, unsafe=False, vcs_ref="HEAD", quiet=True)
    # The project's git commit is logged with each run, and fsdl-check reads what git lists.
    run("git", "init", "-q", cwd=destination)
    run("git", "add", "-A", cwd=destination)
    return destination


def train(project: Path, slug: str) -> float:
    step("Installing the project into this environment (editable, no new downloads)")
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(project), cwd=project)
    step("Training configs/default.yaml on the CPU (MLflow: the project's local store)")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}  # the local store, on purpose
    started = time.perf_counter()
    run(str(BIN / f"{slug}-train"), "--config", "configs/default.yaml", cwd=project, env=env)
    return time.perf_counter() - started


def lock(project: Path) -> None:
    """Write uv.lock. fsdl-check, a dev dependency of every generated project, is resolved from a wheel built
    from this checkout (it is not taken from the package index), so the lock is valid on this machine."""
    step("Locking the project's dependencies (uv lock)")
    wheels = OUTPUT / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT), cwd=ROOT)
    run(str(BIN / "uv"), "lock", "--quiet", "--find-links", str(wheels), cwd=project)


def best_val_accuracy(store: Path) -> tuple[str, float] | None:
    """The newest run's id and its best `val/acc`, read straight from MLflow's SQLite store."""
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT run_uuid FROM runs ORDER BY start_time DESC LIMIT 1").fetchone()
        if row is None:
            return None
        best = db.execute("SELECT MAX(value) FROM metrics WHERE run_uuid = ? AND key = 'val/acc'", (row[0],)).fetchone()
    return (row[0], float(best[0])) if best and best[0] is not None else None


def main(argv: list[str]) -> int:
    answers_file = Path(argv[0]).resolve() if argv else ROOT / "examples" / "default.yml"
    if not answers_file.is_file():
        print(f"demo: no such answers file: {answers_file}", file=sys.stderr)
        return 2
    project = render(answers_file)
    slug = yaml.safe_load(answers_file.read_text())["project_slug"]
    seconds = train(project, slug)

    store = project / "mlflow.db"
    result = best_val_accuracy(store) if store.is_file() else None
    step("Result")
    if result is None:
        print(f"No MLflow run with val/acc was found in {store}", file=sys.stderr)
        return 1
    run_id, accuracy = result
    print(f"  validation accuracy  {accuracy:.3f}  (best epoch; training took {seconds:.0f} s)")
    print(f"  MLflow run           {run_id}")
    print(f"  MLflow store         {store}  (artifacts: {project / 'mlartifacts'})")
    print(f"  open its UI with     cd {project} && {BIN / 'mlflow'} ui --backend-store-uri sqlite:///mlflow.db")

    lock(project)
    step(f"Auditing {project} with fsdl-check")
    code = fsdl_check([str(project), "--fail-on", "info"])
    print(f"\nfsdl-check exit code {code} (0: every practice holds)")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
