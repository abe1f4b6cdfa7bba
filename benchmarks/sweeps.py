"""ASHA against running every trial to the end (FIFO): compute spent, wall time, best accuracy reached.

    python benchmarks/sweeps.py [--trials 12] [--epochs 12] [--json benchmarks/results/sweeps.json]

The default project (benchmarks/project.py) runs its own `<slug>-tune` twice on the same sweep file, which differs
only in the scheduler: the search space of configs/sweeps/default.yaml, the same seed (so the same configurations
in the same order: random search), T trials of at most E epochs, two trials at a time on this machine's local Ray
instance, MLflow on the project's local store. Reported per scheduler: trial-epochs trained (the sum over trials of
the epochs each ran, from the sweep's results.csv), the sweep's wall time, the best validation accuracy any trial
reached, and the ratios ASHA/FIFO. Ray's own start-up is measured apart (`ray.init` on 2 CPUs and its shutdown, in a
fresh process), since it is paid once per sweep whatever the scheduler.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from project import render

TIMEOUT_S = 3600
RAY_START = """
import time
t = time.perf_counter()
import ray
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
started = time.perf_counter() - t
ray.shutdown()
print(started, time.perf_counter() - t)
"""


def sweep(project: Path, slug: str, scheduler: dict[str, Any], trials: int, epochs: int) -> dict[str, float]:
    config = yaml.safe_load((project / "configs" / "sweeps" / "default.yaml").read_text())
    name = f"bench-{scheduler['name']}"
    config |= {"name": name, "trials": trials, "concurrency": 2, "scheduler": scheduler, "time_budget_s": None}
    config["overrides"] = {**config.get("overrides", {}), "trainer.max_epochs": epochs}
    path = project / "configs" / "sweeps" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(project / ".venv" / "bin" / f"{slug}-tune"), str(path.relative_to(project))],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the {scheduler['name']} sweep failed ({done.returncode}):\n{done.stdout[-3000:]}")
    with (project / "outputs" / "sweeps" / name / "results.csv").open() as table:
        rows = list(csv.DictReader(table))
    metric = next(column for column in rows[0] if column.startswith("best "))
    return {
        "trials": len(rows),
        "trial_epochs": sum(int(row["epochs"]) for row in rows),
        "stopped_early": sum(row["outcome"] == "stopped_early" for row in rows),
        "wall_s": seconds,
        "best_val_acc": max(float(row[metric]) for row in rows if row[metric]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        project = Path(tmp) / "project"
        slug = str(render(project)["project_slug"])
        ray_start = subprocess.run([sys.executable, "-c", RAY_START], capture_output=True, text=True, check=True)
        init_s, with_shutdown_s = map(float, ray_start.stdout.split()[-2:])
        results = {
            "fifo": sweep(project, slug, {"name": "fifo"}, args.trials, args.epochs),
            "asha": sweep(
                project, slug, {"name": "asha", "grace_period": 2, "reduction_factor": 3}, args.trials, args.epochs
            ),
        }
    fifo, asha = results["fifo"], results["asha"]
    print(
        f"\n{args.trials} trials of at most {args.epochs} epochs, 2 at a time (Ray start-up: {init_s:.1f} s, "
        f"{with_shutdown_s:.1f} s with its shutdown)"
    )
    print(f"{'':22}{'FIFO':>10}{'ASHA':>10}{'ASHA/FIFO':>11}")
    for key, label in (("trial_epochs", "trial-epochs"), ("wall_s", "wall time (s)"), ("best_val_acc", "best val acc")):
        print(f"{label:22}{fifo[key]:>10.3g}{asha[key]:>10.3g}{asha[key] / fifo[key]:>11.2f}")
    print(f"{'stopped early':22}{fifo['stopped_early']:>10.0f}{asha['stopped_early']:>10.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"ray_init_s": init_s, "ray_init_and_shutdown_s": with_shutdown_s, **results}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
