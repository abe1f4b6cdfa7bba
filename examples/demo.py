"""The main job behind `make demo`: make an example project as a user would, train it, show the run, audit it.

1. Render `examples/default.yml` (or the answers file given as the first argument) with Copier from this
   repository's committed HEAD into a fresh directory under `demo/` (or `$FSDL_DEMO_DIR`); nothing that exists
   is overwritten.
2. In the project, as its README says: `git init`, `make setup` (its own virtual environment from its lock,
   written on this first run; fsdl-check from this repository at that commit), the first commit through its
   hooks, then `make train` (MLflow on the project's local SQLite store).
3. Read the run back from that store and print the validation accuracy, where the store is and how to open its UI.
4. When the project has sweeps: `make tune`, the Ray Tune sweep of configs/sweeps/default.yaml (ASHA stopping weak
   trials), tracked in the same store as a parent run with a child run per trial; print its best trial.
5. Audit the project with its own `make audit` (fsdl-check, every rule at every severity).
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

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("FSDL_DEMO_DIR") or ROOT / "demo").resolve()


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


class StepFailed(Exception):
    """A command of the demo failed; its own output above says why."""


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, check=False)
    if done.returncode != 0:
        raise StepFailed(f"`{' '.join(command)}` failed in {cwd} (exit {done.returncode}); its output is above")


def render(answers_file: Path) -> Path:
    answers = yaml.safe_load(answers_file.read_text())
    destination = OUTPUT / f"{answers['project_slug']}-{time.strftime('%Y%m%d-%H%M%S')}"
    if destination.exists():
        raise SystemExit(f"demo: {destination} exists already; try again in a second")
    step(f"Rendering {answers_file.name} into {destination} (the template at this repository's HEAD)")
    copier.run_copy(str(ROOT), destination, data=answers, defaults=True, unsafe=False, vcs_ref="HEAD", quiet=True)
    run("git", "init", "-q", cwd=destination)
    return destination


def set_up(project: Path) -> None:
    step("make setup: the project's own .venv from its lock (a first run downloads about 1 GB: minutes)")
    run("make", "setup", cwd=project, env=users_environment())
    step("The first commit, through the project's own pre-commit hooks")
    run("git", "add", "-A", cwd=project)
    run("git", "commit", "-q", "-m", "Start from fsdl-stack", cwd=project, env=users_environment())


def train(project: Path) -> float:
    step("make train: configs/default.yaml on the CPU, MLflow on the project's local store")
    started = time.perf_counter()
    run("make", "train", cwd=project, env=users_environment())
    return time.perf_counter() - started


def sweep(project: Path) -> tuple[float, float] | None:
    """`make tune` where the project has sweeps; the best trial's accuracy and the seconds it took."""
    if not (project / "configs" / "sweeps" / "default.yaml").is_file():
        return None
    step("make tune: the sweep of configs/sweeps/default.yaml (Ray Tune, ASHA), trials as MLflow child runs")
    started = time.perf_counter()
    run("make", "tune", cwd=project, env=users_environment())
    seconds = time.perf_counter() - started
    with sqlite3.connect(project / "mlflow.db") as db:
        row = db.execute(
            "SELECT MAX(m.value) FROM metrics m JOIN runs r ON r.run_uuid = m.run_uuid "
            "WHERE r.name = 'sweep-default' AND m.key LIKE 'best_%'"
        ).fetchone()
    if row is None or row[0] is None:
        raise StepFailed(f"the sweep left no best trial in {project / 'mlflow.db'}")
    return float(row[0]), seconds


def users_environment() -> dict[str, str]:
    """This environment without the demo's own virtual environment on PATH: the project uses its own."""
    ours = Path(sys.prefix).resolve()
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not Path(p).resolve().is_relative_to(ours)]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MLFLOW_TRACKING_URI")}
    return env | {"PATH": os.pathsep.join(path)}


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
    try:
        set_up(project)
        seconds = train(project)
    except StepFailed as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1

    store = project / "mlflow.db"
    result = best_val_accuracy(store) if store.is_file() else None
    step("Result")
    if result is None:
        print(f"No MLflow run with val/acc was found in {store}", file=sys.stderr)
        return 1
    run_id, accuracy = result
    print(f"  validation accuracy  {accuracy:.3f}  (best epoch; `make train` took {seconds:.0f} s)")
    print(f"  MLflow run           {run_id}")
    print(f"  MLflow store         {store}  (artifacts: {project / 'mlartifacts'})")
    print(f"  open its UI with     cd {project} && make ui")

    try:
        swept = sweep(project)
    except StepFailed as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    if swept is not None:
        best, seconds = swept
        print(f"  sweep: best trial's validation accuracy {best:.3f} (`make tune` took {seconds:.0f} s)")
        print(f"  best config          {project / 'outputs' / 'sweeps' / 'default' / 'best.yaml'}")
        print("  train it with        make train CONFIG=outputs/sweeps/default/best.yaml")

    step(f"make audit: fsdl-check on {project}")
    code = subprocess.run(["make", "audit"], cwd=project, env=users_environment(), check=False).returncode
    print(f"\nfsdl-check exit code {code} (0: every practice holds)")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
