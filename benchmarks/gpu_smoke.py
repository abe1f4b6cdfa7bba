"""GPU smoke test of a generated project: DDP and FSDP2 on every GPU, bf16-mixed, throughput, memory and MFU.

Run it from the root of a rendered project whose environment is installed (`pip install -e .`); it needs nothing
but that environment and this one file:

    python gpu_smoke.py [--hidden-dims 2048,2048,2048] [--batch-size 1024] [--steps 60] [--peak-tflops 989]

For each strategy file (configs/strategy/ddp.yaml, then fsdp.yaml) it runs the project's own command line,
`fit --config configs/default.yaml --config configs/model/wide.yaml --config configs/strategy/<s>.yaml`, on all
GPUs present (`--devices` to use fewer) with `--trainer.precision bf16-mixed`, validation, tracker, checkpoints
and progress bar off, on a synthetic CSV data set written to a temporary folder (64 features, 10 classes, enough
rows for about 20 steps an epoch, up to 200,000): the bundled digits are too few for large batches. One callback
added to the trainer records, in every process:

- throughput: examples trained by all processes between the end of the warm-up steps and the end of the last
  step, divided by that interval (the GPU synchronised at both ends); start-up and the first steps are outside it;
- peak memory: torch.cuda.max_memory_allocated() over the training steps, per process;
- MFU: model FLOPs per second over the GPUs' peak dense bf16 FLOPS. An MLP's training step costs 6 x parameters
  x examples FLOPs (2 forward, 4 backward, per parameter and example); the peak comes from a small table by device
  name (NVIDIA's data sheets, dense, no sparsity), or `--peak-tflops`.

With no CUDA GPU it says so in one line and exits with status 2 (other failures: 1). `--cpu` runs the same path on
two CPU processes (gloo) with a small model, to test the script itself where there is no GPU; its figures mean
nothing there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

NO_GPU_STATUS = 2


def fail(message: str, status: int = 1) -> NoReturn:
    """One line on standard error, no traceback."""
    print(f"gpu_smoke: {message}", file=sys.stderr)
    raise SystemExit(status)


try:
    import numpy as np
    import torch
    from lightning.pytorch import Callback, LightningModule, Trainer
except ImportError as missing:
    fail(f"{missing.name} is not installed; run this in the generated project's environment (pip install -e .)")

WORKER_FLAG = "--worker"  # internal: this file, run as the project's training command
RUN_TIMEOUT_S = 900
GIB = 2**30
FEATURES = 64
CLASSES = 10
TRAIN_FRACTION = 0.7  # the default config keeps 15 % for validation and 15 % for testing
MAX_ROWS = 200_000

# Peak dense bf16 tensor-core TFLOPS per GPU (NVIDIA data sheets, without sparsity), by a part of the device name
# as torch reports it. The first match wins, so the more specific names come first.
PEAK_BF16_TFLOPS = (
    ("GB200", 2500.0),
    ("B200", 2250.0),
    ("H200", 989.0),  # the SXM part; the H200 NVL is 835
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # SXM ("NVIDIA H100 80GB HBM3")
    ("GH200", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L4", 121.0),
    ("A10", 125.0),
)


class Probe(Callback):
    """In every process: when each training step ends, and the device memory at its peak. ``rank<N>.json``."""

    def __init__(self, out_dir: str, warmup: int) -> None:
        self.out_dir = Path(out_dir)
        self.warmup = warmup
        self.stamps: list[float] = []
        self.examples: list[int] = []
        self.parameters = 0

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.parameters = sum(p.numel() for p in pl_module.parameters())  # a DTensor counts its global size
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # Only the two steps that bound the timed interval wait for the GPU: syncing every step would stall it.
        if torch.cuda.is_available() and trainer.global_step in (self.warmup, trainer.max_steps):
            torch.cuda.synchronize()
        self.stamps.append(time.perf_counter())
        self.examples.append(len(batch[0]))

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        cuda = torch.cuda.is_available()
        record = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "device": torch.cuda.get_device_name() if cuda else "cpu",
            "parameters": self.parameters,
            "stamps": self.stamps,
            "examples": self.examples,
            "peak_allocated": torch.cuda.max_memory_allocated() if cuda else None,
            "peak_reserved": torch.cuda.max_memory_reserved() if cuda else None,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "precision": str(trainer.precision),
        }
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))


def worker(argv: list[str]) -> None:
    """``--worker OUT_DIR PACKAGE WARMUP CLI_ARGS...``: the project's command line with the probe added."""
    out_dir, package, warmup, *cli_args = argv
    module = __import__(f"{package}.cli", fromlist=["run_cli"])
    # Lightning starts the other processes by running this command line again; they add the same probe.
    probe = {"class_path": "__main__.Probe", "init_args": {"out_dir": out_dir, "warmup": int(warmup)}}
    module.run_cli([*cli_args, f"--trainer.callbacks=[{json.dumps(probe)}]"])


def project_package(project: Path) -> str:
    """The package behind the project's ``*-train`` command, read from its pyproject.toml."""
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        fail(f"no pyproject.toml in {project}: run it from a generated project (or --project)")
    scripts = tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {})
    for name, target in scripts.items():
        if name.endswith("-train") and target.endswith(".cli:main"):
            return str(target.removesuffix(".cli:main"))
    fail(f"{pyproject} declares no <name>-train = '<package>.cli:main' command")


def write_synthetic_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Random features (two decimals), a label column: loads through the project's own CSV reader."""
    generator = np.random.default_rng(seed)
    features = generator.standard_normal((rows, FEATURES)).astype(np.float32)
    labels = generator.integers(0, CLASSES, rows)
    header = ",".join([*(f"x{i}" for i in range(FEATURES)), "label"])
    table = np.column_stack([features, labels])
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt=["%.2f"] * FEATURES + ["%d"])


@dataclass(frozen=True)
class Settings:
    project: Path
    package: str
    devices: int
    accelerator: str
    precision: str
    hidden_dims: list[int]
    batch_size: int  # per device
    steps: int
    warmup: int
    csv: Path


def command_line(strategy: str, settings: Settings) -> list[str]:
    args = [
        "fit",
        *("--config", "configs/default.yaml", "--config", "configs/model/wide.yaml"),
        *("--config", f"configs/strategy/{strategy}.yaml"),
        f"--trainer.accelerator={settings.accelerator}",
        f"--trainer.devices={settings.devices}",
        f"--trainer.precision={settings.precision}",
        f"--model.hidden_dims={json.dumps(settings.hidden_dims)}",
        f"--data.csv_path={settings.csv}",
        f"--data.batch_size={settings.batch_size}",
        f"--data.pin_memory={'true' if settings.accelerator == 'gpu' else 'false'}",
        f"--trainer.max_steps={settings.steps}",
        "--trainer.max_epochs=100000",  # max_steps decides
        "--trainer.deterministic=false",  # the default config's reproducibility costs speed on a GPU
        "--trainer.logger=false",
        "--trainer.enable_checkpointing=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.limit_val_batches=0",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.limit_test_batches=1",  # the command line tests the model after fit: one batch
    ]
    if strategy == "fsdp":  # the config names 2; data_parallel_size x tensor_parallel_size must cover every device
        args.append(f"--trainer.strategy.init_args.data_parallel_size={settings.devices}")
    return args


@dataclass(frozen=True)
class Result:
    strategy: str
    device: str
    devices: int
    parameters: int
    examples_per_s: float
    step_ms: float
    peak_allocated_gib: float | None  # the largest over the processes
    peak_reserved_gib: float | None
    peak_rss_gib: float

    def achieved_tflops_per_device(self) -> float:
        return 6 * self.parameters * self.examples_per_s / self.devices / 1e12


def train(strategy: str, settings: Settings) -> Result:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory(prefix="gpu-smoke-probe-") as out_dir:
        command = [sys.executable, str(Path(__file__).resolve()), WORKER_FLAG, out_dir, settings.package]
        command += [str(settings.warmup), *command_line(strategy, settings)]
        try:
            result = subprocess.run(
                command, cwd=settings.project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            fail(f"the {strategy} run did not finish in {RUN_TIMEOUT_S} s")
        records = [json.loads(path.read_text()) for path in sorted(Path(out_dir).glob("rank*.json"))]
    if result.returncode != 0 or len(records) != settings.devices:
        tail = "\n".join(result.stderr.strip().splitlines()[-25:])
        fail(f"the {strategy} run failed (exit {result.returncode}):\n{tail}")
    warmup = settings.warmup
    seconds = max(r["stamps"][-1] - r["stamps"][warmup - 1] for r in records)
    examples = sum(sum(r["examples"][warmup:]) for r in records)
    allocated = [r["peak_allocated"] for r in records if r["peak_allocated"] is not None]
    reserved = [r["peak_reserved"] for r in records if r["peak_reserved"] is not None]
    return Result(
        strategy=strategy,
        device=records[0]["device"],
        devices=settings.devices,
        parameters=records[0]["parameters"],
        examples_per_s=examples / seconds,
        step_ms=1000 * seconds / (len(records[0]["stamps"]) - warmup),
        peak_allocated_gib=max(allocated) / GIB if allocated else None,
        peak_reserved_gib=max(reserved) / GIB if reserved else None,
        peak_rss_gib=max(r["peak_rss"] for r in records) / GIB,
    )


def peak_tflops(device: str, override: float | None) -> float | None:
    if override is not None:
        return override
    return next((peak for part, peak in PEAK_BF16_TFLOPS if part in device), None)


def report(results: list[Result], settings: Settings, peak: float | None) -> None:
    first = results[0]
    print(
        f"{first.devices} x {first.device}, {settings.precision}, {first.parameters:,} parameters "
        f"(hidden {','.join(map(str, settings.hidden_dims))}), batch {settings.batch_size} per device, "
        f"{settings.steps - settings.warmup} steps timed after {settings.warmup}"
    )
    header = ["strategy", "examples/s", "ms/step", "peak alloc GiB", "peak reserved GiB", "peak RSS GiB", "TFLOPS/GPU"]
    header.append("MFU")
    rows = []
    for r in results:
        tflops = r.achieved_tflops_per_device()
        rows.append(
            [
                r.strategy.upper(),
                f"{r.examples_per_s:,.0f}",
                f"{r.step_ms:.2f}",
                "-" if r.peak_allocated_gib is None else f"{r.peak_allocated_gib:.3f}",
                "-" if r.peak_reserved_gib is None else f"{r.peak_reserved_gib:.3f}",
                f"{r.peak_rss_gib:.2f}",
                f"{tflops:.3g}",
                "-" if peak is None else f"{tflops / peak:.1%}",
            ]
        )
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    if peak is None:
        print(f"MFU: no peak known for {first.device!r}; pass --peak-tflops (dense bf16 TFLOPS of one device)")
    else:
        print(f"MFU against {peak:g} TFLOPS dense bf16 per device")
    by_strategy = {r.strategy: r for r in results}
    if {"ddp", "fsdp"} <= by_strategy.keys():
        ddp, fsdp = by_strategy["ddp"], by_strategy["fsdp"]
        ratios = f"FSDP2 / DDP: throughput {fsdp.examples_per_s / ddp.examples_per_s:.2f}"
        if ddp.peak_allocated_gib and fsdp.peak_allocated_gib:
            ratios += f", peak allocated memory per rank {fsdp.peak_allocated_gib / ddp.peak_allocated_gib:.2f}"
        print(ratios)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == WORKER_FLAG:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the generated project (default: here)")
    parser.add_argument("--devices", type=int, default=None, help="GPUs to use (default: all that torch sees)")
    parser.add_argument("--hidden-dims", default=None, help="hidden layer widths (default: configs/model/wide.yaml)")
    parser.add_argument("--batch-size", type=int, default=None, help="examples per device and step (default 1024)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per run (default 60)")
    parser.add_argument("--warmup", type=int, default=None, help="steps before the timed ones (default 10)")
    parser.add_argument("--precision", default="bf16-mixed", help="trainer precision (default bf16-mixed)")
    parser.add_argument("--strategies", default="ddp,fsdp", help="files in configs/strategy/ (default ddp,fsdp)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak dense TFLOPS of one device")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument(
        "--cpu", action="store_true", help="check the script without a GPU: 2 CPU processes, a small model"
    )
    args = parser.parse_args()

    if args.cpu:
        accelerator, devices = "cpu", args.devices or 2
        hidden, batch, steps, warmup = "256,256", 64, 12, 4
    else:
        if not torch.cuda.is_available():
            fail("no CUDA GPU found (torch.cuda.is_available() is False); --cpu tests this script", NO_GPU_STATUS)
        accelerator, devices = "gpu", args.devices or torch.cuda.device_count()
        if devices > torch.cuda.device_count():
            fail(f"--devices {devices}, but torch sees {torch.cuda.device_count()} GPUs")
        if "bf16" in args.precision and not torch.cuda.is_bf16_supported():
            fail(f"{torch.cuda.get_device_name()} has no bf16; try --precision 16-mixed")
        hidden, batch, steps, warmup = "2048,2048,2048", 1024, 60, 10
    hidden = args.hidden_dims or hidden
    batch = args.batch_size or batch
    steps = args.steps or steps
    warmup = args.warmup or warmup
    if not 1 <= warmup < steps:
        parser.error("--warmup must be at least 1 and less than --steps")
    project = args.project.resolve()
    package = project_package(project)
    strategies = args.strategies.split(",")
    for strategy in strategies:
        if not (project / "configs" / "strategy" / f"{strategy}.yaml").is_file():
            fail(f"{project}/configs/strategy/{strategy}.yaml does not exist")

    with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as workdir:
        rows = min(MAX_ROWS, max(2_000, math.ceil(20 * batch * devices / TRAIN_FRACTION)))
        settings = Settings(
            project=project,
            package=package,
            devices=devices,
            accelerator=accelerator,
            precision=args.precision,
            hidden_dims=[int(width) for width in hidden.split(",")],
            batch_size=batch,
            steps=steps,
            warmup=warmup,
            csv=Path(workdir) / "synthetic.csv",
        )
        write_synthetic_csv(settings.csv, rows)
        results = []
        for strategy in strategies:
            print(f"{strategy}: training {steps} steps on {devices} {accelerator} device(s) ...", flush=True)
            results.append(train(strategy, settings))
    peak = peak_tflops(results[0].device, args.peak_tflops)
    report(results, settings, peak)
    if args.json:
        figures = [vars(r) | {"tflops_per_device": r.achieved_tflops_per_device()} for r in results]
        args.json.write_text(json.dumps({"peak_tflops": peak, "results": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
