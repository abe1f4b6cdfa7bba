"""Training speed of the generated project: time to 95 % validation accuracy, and the training loop's throughput.

    python benchmarks/training.py [--epochs 10] [--runs 3] [--batch-sizes 64,512] [--hidden-dims 128,64]

The default answers (examples/default.yml) are rendered with Copier into a temporary directory.

(a) Time to accuracy. The default config trains through the project's own command line in a fresh process, as
`make train` runs it, logging to the project's local MLflow store. The run's record gives the figure: the
timestamp of the first validation epoch at or above 95 % accuracy, minus the run's start. The process's wall time
(imports, store, fit, test) is reported beside it. Target: at most 60 s on 2 CPU cores.

(b) Throughput. The project's model, from the same seed, trains for N epochs on the same batches (one DataLoader,
reshuffled from the same seed) twice: by a Lightning Trainer as the project configures it, and by a hand-written
PyTorch loop doing the same work (forward, cross-entropy, accuracy update, backward, AdamW step, the accuracy
computed once per epoch). Validation, checkpoints, tracker and progress bar are off in both, so the ratio is the
training loop alone. One warm-up run each, then the median of R alternating runs. Target ratio: 0.9 or more.
The trainer's cost per step is roughly fixed, so the ratio grows with the work per step: `--hidden-dims` widens
the model (the default config's is 128,64) to show where the target is met.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import torch
import torch.nn.functional as F
import yaml
from lightning.pytorch import Trainer, seed_everything
from mlflow.tracking import MlflowClient

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.95
TARGET_TIME_S = 60.0
TARGET_RATIO = 0.9


@dataclass(frozen=True)
class TimeToAccuracy:
    epoch: int | None  # first validation epoch (1-based) at or above the target; None if never reached
    seconds: float | None  # from the run's start to that epoch's validation result
    best_val_acc: float
    epochs_run: int
    process_s: float


@dataclass(frozen=True)
class Throughput:
    hidden_dims: tuple[int, ...]
    batch_size: int
    steps: int
    lightning_samples_per_s: float
    plain_samples_per_s: float

    @property
    def ratio(self) -> float:
        return self.lightning_samples_per_s / self.plain_samples_per_s

    @property
    def overhead_ms_per_step(self) -> float:
        samples = self.steps * self.batch_size
        return 1000 * (samples / self.lightning_samples_per_s - samples / self.plain_samples_per_s) / self.steps


def render_default_project(destination: Path) -> dict[str, Any]:
    answers = yaml.safe_load((REPO_ROOT / "examples" / "default.yml").read_text())
    assert isinstance(answers, dict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns that a working copy with local changes is rendered
        copier.run_copy(str(REPO_ROOT), str(destination), data=answers, defaults=True, unsafe=False, quiet=True)
    return answers


def time_to_accuracy(project: Path, answers: dict[str, Any]) -> TimeToAccuracy:
    """Train the default config in a fresh process and read the run back from the local MLflow store."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    env["PYTHONPATH"] = str(project / "src")
    command = [
        sys.executable,
        "-c",
        f"from {answers['package_name']}.cli import main; main()",
        *("--config", "configs/default.yaml", "--trainer.enable_progress_bar=false"),
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
    process_s = time.perf_counter() - started

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(answers["project_slug"])
    assert experiment is not None, "the training run left no MLflow experiment"
    (run,) = client.search_runs([experiment.experiment_id])
    history = sorted(client.get_metric_history(run.info.run_id, "val/acc"), key=lambda metric: metric.step)
    reached = next(((i, m) for i, m in enumerate(history, start=1) if m.value >= TARGET_ACCURACY), None)
    return TimeToAccuracy(
        epoch=reached[0] if reached else None,
        seconds=(reached[1].timestamp - run.info.start_time) / 1000 if reached else None,
        best_val_acc=max(metric.value for metric in history),
        epochs_run=len(history),
        process_s=process_s,
    )


def throughput(
    project: Path, package: str, hidden_dims: tuple[int, ...], batch_size: int, epochs: int, runs: int
) -> Throughput:
    """Median samples per second of a Lightning fit and of a plain loop over the same model and batches."""
    sys.path.insert(0, str(project / "src"))
    data_module = importlib.import_module(f"{package}.data")
    model_module = importlib.import_module(f"{package}.model")
    data = data_module.ClassificationData(batch_size=batch_size)
    data.setup("fit")
    steps = epochs * len(data.train_dataloader())
    samples = epochs * len(data.splits["train"])

    def fresh_model() -> Any:
        seed_everything(0, verbose=False)  # same initial weights and the same shuffled batches for both loops
        return model_module.Classifier(
            input_dim=data.num_features, num_classes=data.num_classes, hidden_dims=hidden_dims
        )

    def lightning_fit() -> float:
        model = fresh_model()
        trainer = Trainer(
            max_epochs=epochs,
            accelerator="cpu",
            devices=1,
            deterministic=True,
            limit_val_batches=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        started = time.perf_counter()
        trainer.fit(model, datamodule=data)
        return time.perf_counter() - started

    def plain_fit() -> float:
        model = fresh_model()
        optimizer = model.configure_optimizers()
        model.train()
        started = time.perf_counter()
        for _ in range(epochs):
            for features, labels in data.train_dataloader():
                optimizer.zero_grad()
                logits = model(features)
                loss = F.cross_entropy(logits, labels)
                model.train_acc.update(logits, labels)
                torch.autograd.backward(loss)
                optimizer.step()
            model.train_acc.compute()
            model.train_acc.reset()
        return time.perf_counter() - started

    timings: dict[Callable[[], float], list[float]] = {lightning_fit: [], plain_fit: []}
    for fit in timings:  # warm-up: first-call allocations and lazy initialisation
        fit()
    for _ in range(runs):
        for fit, seconds in timings.items():
            seconds.append(fit())
    return Throughput(
        hidden_dims=hidden_dims,
        batch_size=batch_size,
        steps=steps,
        lightning_samples_per_s=samples / statistics.median(timings[lightning_fit]),
        plain_samples_per_s=samples / statistics.median(timings[plain_fit]),
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, each as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]
    )


def report(accuracy: TimeToAccuracy, rows: list[Throughput]) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cores} CPU cores available\n")
    print(f"(a) default config: time to validation accuracy >= {TARGET_ACCURACY:.0%}")
    reached = accuracy.seconds is not None and accuracy.seconds <= TARGET_TIME_S
    header = (
        "reached at epoch",
        "s from run start",
        "best val acc",
        "epochs run",
        "process s",
        f"<= {TARGET_TIME_S:.0f} s",
    )
    cells = (
        str(accuracy.epoch or "never"),
        "-" if accuracy.seconds is None else f"{accuracy.seconds:.1f}",
        f"{accuracy.best_val_acc:.3f}",
        str(accuracy.epochs_run),
        f"{accuracy.process_s:.1f}",
        "met" if reached else "NOT met",
    )
    print(table(header, [cells]) + "\n")
    print("(b) training-loop throughput: Lightning against a plain PyTorch loop, same model, data and batches")
    throughput_header = (
        "hidden",
        "batch",
        "steps",
        "lightning samples/s",
        "plain samples/s",
        "ratio",
        "overhead ms/step",
        f">= {TARGET_RATIO}",
    )
    lines = [
        (
            ",".join(map(str, row.hidden_dims)),
            str(row.batch_size),
            str(row.steps),
            f"{row.lightning_samples_per_s:,.0f}",
            f"{row.plain_samples_per_s:,.0f}",
            f"{row.ratio:.2f}",
            f"{row.overhead_ms_per_step:.2f}",
            "met" if row.ratio >= TARGET_RATIO else "NOT met",
        )
        for row in rows
    ]
    print(table(throughput_header, lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per throughput run")
    parser.add_argument("--runs", type=int, default=3, help="timed throughput runs per loop (median reported)")
    parser.add_argument("--batch-sizes", default="64,512", help="comma-separated; 64 is the default config's")
    parser.add_argument("--hidden-dims", default="128,64", help="the model's hidden layers; 128,64 is the default")
    args = parser.parse_args()
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # no per-fit banners between the timings
    warnings.filterwarnings("ignore")

    hidden_dims = tuple(int(width) for width in args.hidden_dims.split(","))
    with tempfile.TemporaryDirectory(prefix="fsdl-training-bench-") as workdir:
        project = Path(workdir) / "project"
        answers = render_default_project(project)
        accuracy = time_to_accuracy(project, answers)
        rows = [
            throughput(project, answers["package_name"], hidden_dims, int(size), args.epochs, args.runs)
            for size in args.batch_sizes.split(",")
        ]
    report(accuracy, rows)


if __name__ == "__main__":
    main()
