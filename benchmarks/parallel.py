"""Data-parallel training of the generated project on the CPU: DDP throughput, and what FSDP2 saves per process.

    python benchmarks/parallel.py [--runs 3] [--json benchmarks/results/parallel.json]

The default answers (examples/default.yml) are rendered with Copier into a temporary directory. Every run is the
project's own command line, `fit --config configs/default.yaml [--config configs/model/wide.yaml]
[--config configs/strategy/ddp.yaml | fsdp.yaml] --trainer.accelerator cpu`, in a fresh process tree (DDP and FSDP
runs start their second process as the project does), with the tracker, checkpoints, validation and progress bar
off and one callback added (`Probe`, below) that records, in every process, what the figures are made of.

(a) Throughput: one process with batch 128 against two processes (DDP, gloo) with batch 64 each, the same global
batch and so the same optimisation, on the default model (17k parameters) and on the wide one (8.5M). FSDP2 on the
wide model is measured beside them. Examples per second are steady-state: the callback stamps the end of every
training step, and the figure is the examples trained (all processes) between the end of the warm-up steps and
the end of the last step, divided by that interval on the slowest process. Process start-up, imports, the process
group's set-up, the first steps (lazy initialisation, allocator warm-up) and the final test are all outside it;
epoch boundaries (a new data-loader pass, the training accuracy's synchronisation) are inside it, as in any run.
The median over R runs, alternating the cases, is reported with its ratio to the single process, and the fastest
run with its ratio. Beside them, examples per CPU second: the same examples over the CPU time that all processes
used in the same interval (`time.process_time`, every thread). On a machine shared with other work the wall-clock
figures depend on that work; CPU time counts this run's own (threads spinning while they wait included).

(b) Memory per process, DDP against FSDP2, two processes, wide model. After the third optimiser step's backward
pass (in `on_before_optimizer_step`, when the gradients and the optimiser state from earlier steps all exist) each
process adds up the bytes of the tensor storage it holds: its parameters (the local shard of a DTensor), their
gradients, and the AdamW state. The process's peak resident memory (getrusage) is recorded when training ends; the
same run with the default (17k-parameter) model under the same strategy gives the process's fixed cost (Python,
torch, Lightning, gloo, the data), and the difference is the memory that the wide model itself costs a process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor
from torch.distributed.tensor import DTensor

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_FLAG = "--worker"  # internal: this file, run by the benchmark as the project's training command
RUN_TIMEOUT_S = 600  # one training run; a hung process group would otherwise wait forever
MIB = 2**20

# (steps trained in all, of which warm-up steps): a default-model step takes a few milliseconds, a wide one ~0.1 s.
STEPS = {"default": (220, 20), "wide": (40, 8)}
MEMORY_STEP = 2  # global_step (0-based) at which the state is summed: the third optimiser step
MEMORY_RUN_STEPS = 10  # the peak resident memory is read after this many
# glibc's malloc raises its mmap threshold each time a large block is freed, so later blocks of up to that size come
# from the heap and stay resident when freed. A fixed threshold keeps large blocks mapped: freed, they leave.
MALLOC_THRESHOLD = "MALLOC_MMAP_THRESHOLD_"
ALLOCATORS = {"glibc default": (), "fixed mmap threshold": ((MALLOC_THRESHOLD, "131072"),)}


class Probe(Callback):
    """In every process: the time at the end of each training step, and the tensor memory held at one step.

    Writes ``rank<N>.json`` into ``out_dir`` when training ends.
    """

    def __init__(self, out_dir: str, memory_step: int = MEMORY_STEP) -> None:
        self.out_dir = Path(out_dir)
        self.memory_step = memory_step
        self.stamps: list[float] = []
        self.cpu: list[float] = []  # CPU seconds this process has used (all its threads)
        self.examples: list[int] = []
        self.memory: dict[str, int] = {}

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.stamps.append(time.perf_counter())
        self.cpu.append(time.process_time())
        self.examples.append(len(batch[0]))

    def on_before_optimizer_step(
        self, trainer: Trainer, pl_module: LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        if trainer.global_step != self.memory_step:
            return
        params = list(pl_module.parameters())
        state = [value for values in optimizer.state.values() for value in values.values()]
        self.memory = {
            "params": storage_bytes(params),
            "grads": storage_bytes([p.grad for p in params if p.grad is not None]),
            "optimizer": storage_bytes([value for value in state if isinstance(value, Tensor)]),
            "parameter_count": sum(p.numel() for p in params),  # a DTensor counts its whole (global) size
            "rss": current_rss(),
        }

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        record = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "threads": torch.get_num_threads(),
            "stamps": self.stamps,
            "cpu": self.cpu,
            "examples": self.examples,
            "memory": self.memory,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
        }
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))


def storage_bytes(tensors: Iterable[Tensor]) -> int:
    """Bytes of the distinct storages behind ``tensors``; a DTensor counts only this process's shard."""
    storages: dict[int, int] = {}
    for tensor in tensors:
        local = tensor.to_local() if isinstance(tensor, DTensor) else tensor
        storage = local.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def current_rss() -> int:
    """Resident memory of this process now (Linux); 0 where /proc is not there."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def worker(argv: list[str]) -> None:
    """``--worker OUT_DIR PACKAGE CLI_ARGS...``: the project's command line with the probe added."""
    out_dir, package, *cli_args = argv
    module = __import__(f"{package}.cli", fromlist=["run_cli"])
    # Lightning starts the other processes by running this same command line again; they add the same probe.
    probe = {"class_path": "__main__.Probe", "init_args": {"out_dir": out_dir}}
    module.run_cli([*cli_args, f"--trainer.callbacks=[{json.dumps(probe)}]"])


@dataclass(frozen=True)
class Case:
    model: str  # "default" or "wide"
    strategy: str  # "single", "ddp" or "fsdp"
    env: tuple[tuple[str, str], ...] = ()  # environment variables for every process

    @property
    def processes(self) -> int:
        return 1 if self.strategy == "single" else 2

    @property
    def label(self) -> str:
        label = {"single": "1 process", "ddp": "DDP, 2 processes", "fsdp": "FSDP2, 2 processes"}[self.strategy]
        return ", ".join([label, *(f"{name}={value}" for name, value in self.env)])


def command_line(case: Case, global_batch: int, max_steps: int) -> list[str]:
    args = ["fit", "--config", "configs/default.yaml"]
    if case.model == "wide":
        args += ["--config", "configs/model/wide.yaml"]
    if case.strategy != "single":
        args += ["--config", f"configs/strategy/{case.strategy}.yaml"]
    return [
        *args,
        "--trainer.accelerator=cpu",
        f"--data.batch_size={global_batch // case.processes}",  # per process: the global batch stays the same
        f"--trainer.max_steps={max_steps}",
        "--trainer.max_epochs=100000",  # max_steps decides
        "--trainer.logger=false",
        "--trainer.enable_checkpointing=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.limit_val_batches=0",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.limit_test_batches=1",  # the command line tests the model after fit: one batch
    ]


def train(project: Path, package: str, case: Case, global_batch: int, max_steps: int) -> list[dict[str, Any]]:
    """One run in a fresh process tree; every process's probe record, by rank."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project / "src"), os.getenv("PYTHONPATH")]))}
    env["PYTHONWARNINGS"] = "ignore"
    for name in ("OMP_NUM_THREADS", MALLOC_THRESHOLD):  # unless a case sets them: Lightning's and glibc's defaults
        env.pop(name, None)
    env.update(case.env)
    with tempfile.TemporaryDirectory(prefix="probe-") as out_dir:
        command = [sys.executable, str(Path(__file__).resolve()), WORKER_FLAG, out_dir, package]
        command += command_line(case, global_batch, max_steps)
        result = subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        records = sorted(
            (json.loads(path.read_text()) for path in Path(out_dir).glob("rank*.json")), key=lambda r: r["rank"]
        )
    if result.returncode != 0 or len(records) != case.processes:
        raise SystemExit(f"{case}: training failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return records


def steady_throughput(records: list[dict[str, Any]], warmup: int) -> tuple[float, float]:
    """Examples per second and per CPU second, all processes, from the end of step ``warmup`` to the last step."""
    seconds = max(r["stamps"][-1] - r["stamps"][warmup - 1] for r in records)
    cpu_seconds = sum(r["cpu"][-1] - r["cpu"][warmup - 1] for r in records)
    examples = sum(sum(r["examples"][warmup:]) for r in records)
    return examples / seconds, examples / cpu_seconds


@dataclass(frozen=True)
class ThroughputRow:
    model: str
    setup: str
    processes: int
    batch_per_process: int
    threads: list[int]  # torch's intra-op threads in each process, by rank
    steps_timed: int
    examples_per_s: list[float]  # one per run
    examples_per_cpu_s: list[float]  # one per run: examples per CPU second of all processes together
    ratio_to_single: float  # of the medians
    best_ratio_to_single: float  # of the best runs
    cpu_ratio_to_single: float  # of the medians of examples per CPU second

    @property
    def median(self) -> float:
        return statistics.median(self.examples_per_s)

    @property
    def best(self) -> float:
        return max(self.examples_per_s)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.examples_per_cpu_s)


@dataclass(frozen=True)
class MemoryRow:
    strategy: str
    allocator: str  # "glibc default", or a fixed mmap threshold: see ALLOCATORS
    parameter_count: int
    params_mib: float  # per process, the largest of the processes
    grads_mib: float
    optimizer_mib: float
    peak_rss_mib: float
    fixed_rss_mib: float  # the same strategy with the default model: what a process costs without the wide model

    @property
    def state_mib(self) -> float:
        return self.params_mib + self.grads_mib + self.optimizer_mib

    @property
    def model_rss_mib(self) -> float:
        return self.peak_rss_mib - self.fixed_rss_mib


def measure_throughput(project: Path, package: str, global_batch: int, runs: int) -> list[ThroughputRow]:
    cases = [Case(m, s) for m in ("default", "wide") for s in ("single", "ddp")]
    cases += [Case("wide", "fsdp"), Case("wide", "fsdp", env=(("OMP_NUM_THREADS", "1"),))]
    figures: dict[Case, list[float]] = {case: [] for case in cases}
    per_cpu: dict[Case, list[float]] = {case: [] for case in cases}
    threads: dict[Case, list[int]] = {}
    for run in range(runs):
        for case in cases if run % 2 == 0 else reversed(cases):  # alternate: drifts in load hit both sides
            steps, warmup = STEPS[case.model]
            records = train(project, package, case, global_batch, steps)
            per_s, per_cpu_s = steady_throughput(records, warmup)
            figures[case].append(per_s)
            per_cpu[case].append(per_cpu_s)
            threads[case] = [record["threads"] for record in records]
            speeds = f"{per_s:8,.0f} examples/s, {per_cpu_s:8,.0f} per CPU second"
            print(f"  run {run + 1}/{runs}: {case.model:7} {case.label:40} {speeds}")
    rows = []
    for case in cases:
        single, single_cpu = figures[Case(case.model, "single")], per_cpu[Case(case.model, "single")]
        rows.append(
            ThroughputRow(
                model=case.model,
                setup=case.label,
                processes=case.processes,
                batch_per_process=global_batch // case.processes,
                threads=threads[case],
                steps_timed=STEPS[case.model][0] - STEPS[case.model][1],
                examples_per_s=figures[case],
                examples_per_cpu_s=per_cpu[case],
                ratio_to_single=statistics.median(figures[case]) / statistics.median(single),
                best_ratio_to_single=max(figures[case]) / max(single),
                cpu_ratio_to_single=statistics.median(per_cpu[case]) / statistics.median(single_cpu),
            )
        )
    return rows


def measure_memory(project: Path, package: str, global_batch: int) -> list[MemoryRow]:
    rows = []
    for allocator, env in ALLOCATORS.items():
        for strategy in ("ddp", "fsdp"):
            wide = train(project, package, Case("wide", strategy, env), global_batch, MEMORY_RUN_STEPS)
            fixed = train(project, package, Case("default", strategy, env), global_batch, MEMORY_RUN_STEPS)
            rows.append(
                MemoryRow(
                    strategy=strategy,
                    allocator=allocator,
                    parameter_count=wide[0]["memory"]["parameter_count"],
                    params_mib=max(r["memory"]["params"] for r in wide) / MIB,
                    grads_mib=max(r["memory"]["grads"] for r in wide) / MIB,
                    optimizer_mib=max(r["memory"]["optimizer"] for r in wide) / MIB,
                    peak_rss_mib=max(r["peak_rss"] for r in wide) / MIB,
                    fixed_rss_mib=max(r["peak_rss"] for r in fixed) / MIB,
                )
            )
            print(f"  memory: {strategy:4} {allocator:20} peak RSS {rows[-1].peak_rss_mib:6.0f} MiB")
    return rows


def render_default_project(destination: Path) -> dict[str, Any]:
    import copier  # only the benchmark's own process renders; the training processes do not need it
    import yaml

    answers = yaml.safe_load((REPO_ROOT / "examples" / "default.yml").read_text())
    assert isinstance(answers, dict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns that a working copy with local changes is rendered
        copier.run_copy(
            str(REPO_ROOT), str(destination), data=answers, defaults=True, unsafe=False, quiet=True, vcs_ref="HEAD"
        )
    return answers


def table(header: list[str], rows: list[list[str]]) -> str:
    """Right-aligned columns, each as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]
    )


def report(throughput: list[ThroughputRow], memory: list[MemoryRow], global_batch: int) -> None:
    print(f"\n(a) steady-state training throughput on the CPU, global batch {global_batch}")
    print("    batch: per process; threads: by rank; examples/s: median of the runs; best: the fastest run;")
    print("    per CPU s: examples per CPU second of all processes (median); each ratio: to 1 process")
    print(
        table(
            [
                "model",
                "setup",
                "batch",
                "threads",
                "steps",
                "examples/s",
                "ratio",
                "best",
                "ratio",
                "per CPU s",
                "ratio",
            ],
            [
                [
                    row.model,
                    row.setup,
                    str(row.batch_per_process),
                    ",".join(map(str, row.threads)),
                    str(row.steps_timed),
                    f"{row.median:,.0f}",
                    f"{row.ratio_to_single:.2f}",
                    f"{row.best:,.0f}",
                    f"{row.best_ratio_to_single:.2f}",
                    f"{row.cpu_median:,.0f}",
                    f"{row.cpu_ratio_to_single:.2f}",
                ]
                for row in throughput
            ],
        )
    )
    count = memory[0].parameter_count
    print(f"\n(b) memory per process, 2 processes, wide model ({count:,} parameters), MiB, the larger of the two")
    print(
        table(
            ["allocator", "strategy", "params", "grads", "AdamW", "sum", "peak RSS", "fixed RSS", "RSS for model"],
            [
                [
                    row.allocator,
                    row.strategy.upper(),
                    f"{row.params_mib:.1f}",
                    f"{row.grads_mib:.1f}",
                    f"{row.optimizer_mib:.1f}",
                    f"{row.state_mib:.1f}",
                    f"{row.peak_rss_mib:.0f}",
                    f"{row.fixed_rss_mib:.0f}",
                    f"{row.model_rss_mib:.0f}",
                ]
                for row in memory
            ],
        )
    )
    for allocator in ALLOCATORS:
        ddp, fsdp = (next(r for r in memory if (r.allocator, r.strategy) == (allocator, s)) for s in ("ddp", "fsdp"))
        print(
            f"FSDP2 / DDP, {allocator}: params+grads+AdamW {fsdp.state_mib / ddp.state_mib:.2f}, "
            f"peak RSS {fsdp.peak_rss_mib / ddp.peak_rss_mib:.2f}, "
            f"RSS for the model {fsdp.model_rss_mib / ddp.model_rss_mib:.2f}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == WORKER_FLAG:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each throughput case (median reported)")
    parser.add_argument("--global-batch", type=int, default=128, help="examples per step, all processes together")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if args.runs < 1 or args.global_batch < 2 or args.global_batch % 2:
        parser.error("--runs must be at least 1 and --global-batch an even number")

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_before = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {cores} CPU cores available, load average {load_before:.2f}")
    with tempfile.TemporaryDirectory(prefix="fsdl-parallel-bench-") as workdir:
        project = Path(workdir) / "project"
        package = render_default_project(project)["package_name"]
        throughput = measure_throughput(project, package, args.global_batch, args.runs)
        memory = measure_memory(project, package, args.global_batch)
    report(throughput, memory, args.global_batch)
    load_after = os.getloadavg()[0]
    print(f"\nload average (1 min) {load_before:.2f} before, {load_after:.2f} after (the runs' own load included)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "torch": torch.__version__,
            "cores": cores,
            "global_batch": args.global_batch,
            "load_average": [load_before, load_after],
            "throughput": [
                asdict(row) | {"median": row.median, "best": row.best, "cpu_median": row.cpu_median}
                for row in throughput
            ],
            "memory": [
                asdict(row) | {"state_mib": row.state_mib, "model_rss_mib": row.model_rss_mib} for row in memory
            ],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
