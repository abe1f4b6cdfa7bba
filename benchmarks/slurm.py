"""What SLURM adds to a training run: time to the first training step and to the end, through the scheduler.

    python benchmarks/slurm.py [--runs 3] [--json benchmarks/results/slurm.json]

The default answers (examples/default.yml) are rendered with Copier into a temporary directory, with a `.venv` whose
packages are this repository's (a stand-in for `make setup`, which the end-to-end tests exercise). A real
single-node SLURM cluster is started for the run (tests/e2e/slurm_cluster.py; Debian's slurmctld, slurmd,
slurm-client and munge, as root).

Both cases run the same training, two DDP processes on the CPU with `configs/default.yaml` for 5 epochs, MLflow on
the project's local store:
- direct: `.venv/bin/<slug>-train fit ... --trainer.devices 2`, Lightning starting the second process itself;
- SLURM: `launch/slurm/submit.sh fit ...` with `TASKS_PER_NODE=2`, the project's sbatch script unchanged, `srun`
  starting both processes.
The clock starts when the command is started. "First step" is when rank zero finishes its first training batch
(a callback appended on the command line writes the time); "done" is the process's exit (direct) or the moment
`scontrol` first reports the job COMPLETED (polled every 0.1 s). Cases alternate; the median of R runs of each is
reported with the SLURM/direct ratio, and beside it the time the job waited in the queue by SLURM's own record
(SubmitTime to StartTime, whole seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
from project import render  # noqa: E402
from slurm_cluster import SlurmCluster, missing_programs, start_cluster  # noqa: E402

TRAINING = ["fit", "--config", "configs/default.yaml", "--config", "configs/strategy/ddp.yaml"]
TRAINING += ["--trainer.max_epochs=5", "--trainer.callbacks+=slurm_probe.FirstStep"]
PROBE = '''
import os
import time

from lightning.pytorch import Callback


class FirstStep(Callback):
    """Writes the wall-clock time at which rank zero finishes its first training batch."""

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_rank == 0 and trainer.global_step == 1:
            with open(os.environ["PROBE_FILE"], "w") as out:
                out.write(repr(time.time()))
'''
TIMEOUT_S = 600


def first_step(probe: Path, started: float) -> float:
    return float(probe.read_text()) - started


def direct(project: Path, slug: str, env: dict[str, str], probe: Path) -> dict[str, float]:
    started = time.time()
    done = subprocess.run(
        [str(project / ".venv" / "bin" / f"{slug}-train"), *TRAINING, "--trainer.devices=2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    ended = time.time()
    if done.returncode != 0:
        raise SystemExit(f"direct run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {"first_step_s": first_step(probe, started), "done_s": ended - started}


def through_slurm(project: Path, cluster: SlurmCluster, env: dict[str, str], probe: Path) -> dict[str, float]:
    env = {**env, **cluster.env, "TASKS_PER_NODE": "2", "CPUS_PER_TASK": "1", "MEM": "2G"}
    started = time.time()
    submitted = subprocess.run(
        ["launch/slurm/submit.sh", *TRAINING], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if submitted.returncode != 0:
        raise SystemExit(f"submission failed: {submitted.stderr.strip()}")
    job = submitted.stdout.split()[2].rstrip(":")
    deadline = started + TIMEOUT_S
    while (state := cluster.job(job).get("JobState")) not in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"):
        if time.time() > deadline:
            raise SystemExit(f"job {job} did not end within {TIMEOUT_S} s")
        time.sleep(0.1)
    ended = time.time()
    if state != "COMPLETED":
        raise SystemExit(f"job {job} ended {state}; see its log under {project / 'outputs' / 'slurm'}")
    record = cluster.job(job)
    queued = datetime.fromisoformat(record["StartTime"]) - datetime.fromisoformat(record["SubmitTime"])
    return {
        "first_step_s": first_step(probe, started),
        "done_s": ended - started,
        "queued_s": queued.total_seconds(),  # SLURM's own record, to the second
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    if missing := missing_programs():
        print(f"slurm benchmark: SLURM is not installed: {', '.join(missing)}", file=sys.stderr)
        return 2
    results: dict[str, list[dict[str, float]]] = {"direct": [], "slurm": []}
    with tempfile.TemporaryDirectory(prefix="slurm-bench-") as tmp:
        root = Path(tmp)
        project = root / "project"
        slug = str(render(project)["project_slug"])
        (root / "probe").mkdir()
        (root / "probe" / "slurm_probe.py").write_text(PROBE)
        cluster = start_cluster(root / "cluster")
        try:
            for run in range(args.runs):
                for case in ("direct", "slurm"):
                    probe = root / f"{case}-{run}.time"
                    env = {**os.environ, "PYTHONPATH": str(root / "probe"), "PROBE_FILE": str(probe)}
                    env["PYTHONWARNINGS"] = "ignore"
                    measured = (
                        direct(project, slug, env, probe)
                        if case == "direct"
                        else through_slurm(project, cluster, env, probe)
                    )
                    results[case].append(measured)
                    print(
                        f"run {run + 1} {case:6}  first step {measured['first_step_s']:5.1f} s  "
                        f"done {measured['done_s']:5.1f} s",
                        flush=True,
                    )
        finally:
            cluster.stop()

    summary: dict[str, Any] = {"runs": args.runs, "cases": results}
    print(f"\nmedian of {args.runs} runs     direct    SLURM   SLURM/direct")
    for figure, label in (("first_step_s", "to the first step"), ("done_s", "to the end")):
        d = statistics.median(r[figure] for r in results["direct"])
        s = statistics.median(r[figure] for r in results["slurm"])
        summary[figure] = {"direct": d, "slurm": s, "ratio": s / d}
        print(f"{label:20} {d:7.1f} s {s:7.1f} s   {s / d:5.2f}")
    queued = statistics.median(r["queued_s"] for r in results["slurm"])
    print(f"submission to the job's start (SLURM's record, whole seconds): {queued:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
