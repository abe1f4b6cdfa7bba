"""Training speed of the generated project: time to 95 % validation accuracy, and the training loop's throughput.

    python benchmarks/training.py [--epochs 10] [--runs 5] [--batch-sizes 64,512] [--hidden-dims 128,64] [--floor]

The default answers (examples/default.yml) are rendered with Copier into a temporary directory.

(a) Time to accuracy. The default config trains through the project's own command line in a fresh process, as
`make train` runs it, logging to the project's local MLflow store. The run's record gives the figure: the
timestamp of the first validation epoch at or above 95 % accuracy, minus the run's start. The process's wall time
(imports, store, fit, test) is reported beside it. Target: at most 60 s on 2 CPU cores.

(b) Throughput of the default config as the user runs it: `fit --config configs/default.yaml` through the
project's train entry point (read from its pyproject), in this process, with only `--trainer.max_epochs`,
`--data.batch_size` and `--model.hidden_dims` overridden. Everything else is the project's: tracker, checkpoints,
early stopping, progress bar (written to the null device), validation every epoch, logging cadence, deterministic
mode. `Trainer.fit` is timed; the command stops when fit returns (the test of the best checkpoint and the
model export that follow are not part of the loop). Two hand-written PyTorch loops run beside it, on a copy of the
same model and data module taken as fit starts, for the number of epochs Lightning ran:

- "hand": the same computation, no outputs. Per batch: forward, cross-entropy, the training accuracy update,
  backward, the optimizer step and the learning-rate schedule that the model's `configure_optimizers` returns;
  per epoch: the training accuracy and mean loss, and validation (forward, loss and accuracy on every validation
  batch, in eval mode without gradients). This is the loop the 0.9 target is measured against.
- "hand + outputs": the same, plus what the user sees from the Lightning run, written the way a careful
  hand-written loop would: a tqdm bar showing the loss every step, the step loss every `log_every_n_steps` steps
  and the epoch metrics to MLflow (a scratch SQLite store, one write per epoch), and the last and best checkpoint
  saved and logged as artifacts every epoch. The gap to this loop is the trainer's own cost; the gap between the
  two hand loops is what the outputs themselves cost.

One warm-up run of each, then R rounds of the three in turn; each ratio is the median over rounds of that
round's ratio (the machine may be shared: neighbouring runs see the same load). "ratio fit" times the whole
`Trainer.fit` (set-up, sanity check, teardown included) against the whole hand loop; the other ratios and the
ms/step leave out the set-up and the first epoch, and are what longer runs converge to. Every figure is given on
two clocks: this thread's CPU time (steady on a shared machine, where waiting for a core is not counted; the
target is judged on it) and wall time (which also counts waits for the disk). `--threads` (default 1) sets
torch's threads for (b), both loops alike. The phase table splits an epoch (medians over epochs after the first):
training batches, from the last batch's hooks to validation (the logger's write of that step), validation, and
what follows it (checkpoints, early stopping, epoch-end logging). `--floor` adds the trainer with every output
and validation off against the hand loop without validation: Lightning's own per-step cost. `--hidden-dims` and
`--batch-sizes` show how the ratio moves as a step does more work. `--project DIR` measures an already rendered
project (for example one with an edit to try) instead of a fresh render.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import importlib
import inspect
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import copier
import torch
import torch.nn.functional as F
import yaml
from lightning.pytorch import Callback, LightningModule, Trainer, seed_everything
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.95
TARGET_TIME_S = 60.0
TARGET_RATIO = 0.9
DEFAULT_CONFIG = "configs/default.yaml"
# The trainer with nothing but training batches: no tracker, checkpoints, callbacks, progress bar or validation.
FLOOR_OVERRIDES = (
    "--trainer.logger=false",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_checkpointing=false",
    "--trainer.callbacks=[]",
    "--trainer.limit_val_batches=0",
    "--trainer.enable_model_summary=false",
)


@dataclass(frozen=True)
class TimeToAccuracy:
    epoch: int | None  # first validation epoch (1-based) at or above the target; None if never reached
    seconds: float | None  # from the run's start to that epoch's validation result
    best_val_acc: float
    epochs_run: int
    process_s: float


# A moment on both clocks: wall time, and the CPU time of this thread (which the loops run on: one torch thread
# by default, data in memory without loader workers). CPU time does not count the time the thread waits while
# other processes have the cores, so it gives steady figures on a shared machine; it leaves out waits for the
# disk, which wall time keeps. Every figure is reported on both.
Moment = tuple[float, float]
CLOCKS = ("cpu", "wall")


def now() -> Moment:
    return time.thread_time(), time.perf_counter()


@dataclass
class Timeline:
    """One fit: its span, and when each epoch, its last training batch and its validation started and ended."""

    start: Moment = (0.0, 0.0)
    epoch_starts: list[Moment] = field(default_factory=list)
    train_ends: list[Moment] = field(default_factory=list)  # end of each epoch's last training batch
    val_starts: list[Moment] = field(default_factory=list)
    val_ends: list[Moment] = field(default_factory=list)
    end: Moment = (0.0, 0.0)  # end of the last epoch (Lightning: on_train_end, before teardown)
    finish: Moment = (0.0, 0.0)  # when fit returned

    def fit_s(self, clock: int) -> float:
        """The whole fit: set-up, sanity check and teardown included."""
        return self.finish[clock] - self.start[clock]

    def steady_s(self, clock: int) -> float:
        """From the second epoch's start to the end of the last: set-up and first-epoch costs left out."""
        return self.end[clock] - self.epoch_starts[1][clock]

    def phases(self, steps_per_epoch: int, clock: int) -> tuple[float, float, float, float]:
        """Medians over epochs after the first, in ms: per training step (up to the end of the last batch's
        hooks), from there to validation, validation, and from validation's end to the next epoch."""
        starts = [*self.epoch_starts, self.end]
        train, before, val, after = [], [], [], []
        for k in range(1, len(self.epoch_starts)):
            train.append((self.train_ends[k][clock] - starts[k][clock]) / steps_per_epoch)
            if len(self.val_starts) == len(self.epoch_starts):
                before.append(self.val_starts[k][clock] - self.train_ends[k][clock])
                val.append(self.val_ends[k][clock] - self.val_starts[k][clock])
                after.append(starts[k + 1][clock] - self.val_ends[k][clock])
            else:
                after.append(starts[k + 1][clock] - self.train_ends[k][clock])

        def ms(values: list[float]) -> float:
            return 1000 * statistics.median(values) if values else 0.0

        return ms(train), ms(before), ms(val), ms(after)


@dataclass(frozen=True)
class Throughput:
    label: str
    hidden_dims: tuple[int, ...]
    batch_size: int
    epochs: int
    steps_per_epoch: int
    lightning: list[Timeline]
    hand: list[Timeline]
    hand_outputs: list[Timeline]  # empty for the floor row
    threads: int

    @property
    def steady_steps(self) -> int:
        return (self.epochs - 1) * self.steps_per_epoch

    def ms_per_step(self, runs: list[Timeline], clock: int) -> float:
        return 1000 * statistics.median(run.steady_s(clock) for run in runs) / self.steady_steps

    @staticmethod
    def ratio(baseline: list[Timeline], measured: list[Timeline], seconds: Callable[[Timeline], float]) -> float:
        """Throughput of `measured` relative to `baseline`: the median over rounds of baseline s / measured s."""
        return statistics.median(seconds(b) / seconds(m) for b, m in zip(baseline, measured, strict=True))


class _FitDone(Exception):
    """Raised once Trainer.fit returns, to end the command before its test and model export."""


@dataclass
class _Captured:
    timeline: Timeline
    model: LightningModule
    datamodule: Any
    steps: int
    epochs: int
    log_every_n_steps: int
    deterministic: bool
    threads: int


def render_default_project(destination: Path) -> dict[str, Any]:
    answers = yaml.safe_load((REPO_ROOT / "examples" / "default.yml").read_text())
    assert isinstance(answers, dict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns that a working copy with local changes is rendered
        copier.run_copy(str(REPO_ROOT), str(destination), data=answers, defaults=True, unsafe=False, quiet=True)
    return answers


def train_entry_point(project: Path) -> str:
    """`module:function` of the project's `*-train` console script."""
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    (target,) = [target for name, target in scripts.items() if name.endswith("-train")]
    assert isinstance(target, str)
    return target


def time_to_accuracy(project: Path, answers: dict[str, Any]) -> TimeToAccuracy:
    """Train the default config in a fresh process and read the run back from the local MLflow store."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    env["PYTHONPATH"] = str(project / "src")
    module, function = train_entry_point(project).split(":")
    command = [
        sys.executable,
        "-c",
        f"from {module} import {function}; {function}()",
        *("fit", "--config", DEFAULT_CONFIG, "--trainer.enable_progress_bar=false"),
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


class _Clock(Callback):
    """Marks epoch, last-training-batch and validation boundaries (the sanity check's validation is skipped)."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.timeline.epoch_starts.append(now())

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        moment = now()
        if len(self.timeline.train_ends) < len(self.timeline.epoch_starts):
            self.timeline.train_ends.append(moment)
        else:
            self.timeline.train_ends[-1] = moment

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self.timeline.val_starts.append(now())

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self.timeline.val_ends.append(now())

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.timeline.end = now()


@contextlib.contextmanager
def _timed_fit(captured: list[_Captured]) -> Iterator[None]:
    """Within: every Trainer.fit is timed, starts from a copy kept for the hand loops, and ends the command."""
    original = Trainer.fit
    signature = inspect.signature(original)

    def fit(self: Trainer, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        model, datamodule = bound.arguments["model"], bound.arguments.get("datamodule")
        initial = (copy.deepcopy(model), copy.deepcopy(datamodule))
        timeline = Timeline()
        self.callbacks.append(_Clock(timeline))
        timeline.start = now()
        original(self, *args, **kwargs)
        timeline.finish = now()
        captured.append(
            _Captured(
                timeline=timeline,
                model=initial[0],
                datamodule=initial[1],
                steps=self.global_step,
                epochs=self.current_epoch,
                log_every_n_steps=self.log_every_n_steps,
                deterministic=torch.are_deterministic_algorithms_enabled(),
                threads=torch.get_num_threads(),
            )
        )
        raise _FitDone

    Trainer.fit = fit  # type: ignore[method-assign]
    try:
        yield
    finally:
        Trainer.fit = original  # type: ignore[method-assign]


def lightning_fit(project: Path, overrides: Sequence[str]) -> _Captured:
    """`fit --config configs/default.yaml OVERRIDES` through the project's entry point, in this process."""
    module, function = train_entry_point(project).split(":")
    entry = getattr(importlib.import_module(module), function)
    captured: list[_Captured] = []
    argv = sys.argv
    sys.argv = [f"{module}-train", "fit", "--config", DEFAULT_CONFIG, *overrides]
    try:
        with (
            _timed_fit(captured),
            open(os.devnull, "w") as null,
            contextlib.redirect_stdout(null),
            contextlib.redirect_stderr(null),
            contextlib.suppress(_FitDone),
        ):
            entry()
    finally:
        sys.argv = argv
    assert captured, "the train command did not call Trainer.fit"
    return captured[0]


def _optimizer_and_schedule(model: LightningModule, total_steps: int) -> tuple[Any, Any, str]:
    """What the model's configure_optimizers returns, without a trainer (only the step count is read from it)."""
    model.trainer = SimpleNamespace(  # type: ignore[assignment]
        estimated_stepping_batches=total_steps, max_epochs=None, max_steps=total_steps
    )
    try:
        configured = model.configure_optimizers()
    finally:
        model.trainer = None
    if isinstance(configured, torch.optim.Optimizer):
        return configured, None, "step"
    if isinstance(configured, dict):
        schedule = configured.get("lr_scheduler")
        if isinstance(schedule, dict):
            return configured["optimizer"], schedule["scheduler"], schedule.get("interval", "epoch")
        return configured["optimizer"], schedule, "epoch"
    raise TypeError(f"configure_optimizers returned a shape this benchmark does not handle: {type(configured)}")


@dataclass
class _Outputs:
    """What "hand + outputs" writes: a progress bar, MLflow metrics and checkpoints (to scratch places)."""

    workdir: Path
    log_every_n_steps: int
    client: MlflowClient = field(init=False)
    run_id: str = field(init=False)
    queued: list[Metric] = field(default_factory=list)
    best: float = -1.0

    def __post_init__(self) -> None:
        self.client = MlflowClient(f"sqlite:///{self.workdir / 'hand.db'}")
        name = f"hand-{time.time_ns()}"
        experiment = self.client.create_experiment(name, artifact_location=(self.workdir / "artifacts").as_uri())
        self.run_id = self.client.create_run(experiment).info.run_id

    def step(self, step: int, loss: float) -> None:
        if (step + 1) % self.log_every_n_steps == 0:
            self.queued.append(Metric("train/loss_step", loss, int(time.time() * 1000), step))

    def epoch(self, step: int, metrics: dict[str, float], model: LightningModule, optimizer: Any) -> None:
        now = int(time.time() * 1000)
        self.queued += [Metric(key, value, now, step) for key, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=self.queued)
        self.queued = []
        last = self.workdir / "last.ckpt"
        torch.save({"state_dict": model.state_dict(), "optimizer": optimizer.state_dict()}, last)
        self.client.log_artifact(self.run_id, str(last), "checkpoints")
        if metrics["val/acc"] > self.best:
            self.best = metrics["val/acc"]
            best = self.workdir / "best.ckpt"
            shutil.copyfile(last, best)
            self.client.log_artifact(self.run_id, str(best), "checkpoints")

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


def hand_fit(captured: _Captured, epochs: int, validate: bool, outputs_dir: Path | None) -> Timeline:
    """The hand-written loop over a copy of the model and data module that Lightning's fit started from."""
    torch.use_deterministic_algorithms(captured.deterministic)
    seed_everything(0, verbose=False)
    model = copy.deepcopy(captured.model)
    data = copy.deepcopy(captured.datamodule)
    train_acc, val_acc = getattr(model, "train_acc", None), getattr(model, "val_acc", None)
    timeline = Timeline(start=now())
    data.setup("fit")
    train_loader = data.train_dataloader()
    val_loader = data.val_dataloader() if validate else []
    optimizer, schedule, interval = _optimizer_and_schedule(model, epochs * len(train_loader))
    outputs = _Outputs(outputs_dir, captured.log_every_n_steps) if outputs_dir is not None else None
    null = open(os.devnull, "w") if outputs is not None else None  # noqa: SIM115 - closed below
    step = 0
    for epoch in range(epochs):
        timeline.epoch_starts.append(now())
        model.train()
        loss_sum, batches = torch.zeros(()), 0
        bar = tqdm(train_loader, desc=f"Epoch {epoch}", file=null, leave=True) if null is not None else train_loader
        for features, labels in bar:
            logits = model(features)
            loss = F.cross_entropy(logits, labels)
            if train_acc is not None:
                train_acc.update(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None and interval == "step":
                schedule.step()
            loss_sum += loss.detach()
            batches += 1
            if outputs is not None:
                value = loss.item()
                bar.set_postfix(loss=value)
                outputs.step(step, value)
            step += 1
        timeline.train_ends.append(now())
        metrics = {"train/loss_epoch": float(loss_sum / batches)}
        if train_acc is not None:
            metrics["train/acc"] = float(train_acc.compute())
            train_acc.reset()
        if schedule is not None and interval == "epoch":
            schedule.step()
        if validate:
            timeline.val_starts.append(now())
            model.eval()
            val_loss, examples = torch.zeros(()), 0
            with torch.no_grad():
                for features, labels in val_loader:
                    logits = model(features)
                    val_loss += F.cross_entropy(logits, labels, reduction="sum")
                    examples += len(labels)
                    if val_acc is not None:
                        val_acc.update(logits, labels)
            metrics["val/loss"] = float(val_loss / examples)
            if val_acc is not None:
                metrics["val/acc"] = float(val_acc.compute())
                val_acc.reset()
            timeline.val_ends.append(now())
        if outputs is not None:
            metrics.setdefault("val/acc", 0.0)
            outputs.epoch(step, metrics, model, optimizer)
    timeline.end = now()
    if outputs is not None and null is not None:
        outputs.close()
        null.close()
    timeline.finish = now()
    return timeline


def throughput(
    project: Path, label: str, hidden_dims: tuple[int, ...], batch_size: int, epochs: int, runs: int, floor: bool
) -> Throughput:
    """Rounds of Lightning, hand and hand + outputs over the same model and data, alternating."""
    overrides = [
        f"--trainer.max_epochs={epochs}",
        f"--data.batch_size={batch_size}",
        f"--model.hidden_dims=[{','.join(map(str, hidden_dims))}]",
        *(FLOOR_OVERRIDES if floor else ()),
    ]
    lightning: list[Timeline] = []
    hand: list[Timeline] = []
    hand_outputs: list[Timeline] = []
    captured = lightning_fit(project, overrides)  # warm-up
    epochs_run = captured.epochs
    with tempfile.TemporaryDirectory(prefix="hand-outputs-") as scratch:
        hand_fit(captured, epochs_run, validate=not floor, outputs_dir=None)
        if not floor:
            hand_fit(captured, epochs_run, validate=True, outputs_dir=Path(scratch))
        for _ in range(runs):
            run = lightning_fit(project, overrides)
            assert run.epochs == epochs_run, "the Lightning runs stopped after different numbers of epochs"
            lightning.append(run.timeline)
            hand.append(hand_fit(run, epochs_run, validate=not floor, outputs_dir=None))
            if not floor:
                hand_outputs.append(hand_fit(run, epochs_run, validate=True, outputs_dir=Path(scratch)))
    return Throughput(
        label=label,
        hidden_dims=hidden_dims,
        batch_size=batch_size,
        epochs=epochs_run,
        steps_per_epoch=captured.steps // epochs_run,
        lightning=lightning,
        hand=hand,
        hand_outputs=hand_outputs,
        threads=captured.threads,
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, each as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]
    )


def report(accuracy: TimeToAccuracy | None, rows: list[Throughput], default_threads: int) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"torch {torch.__version__}, {cores} CPU cores available, torch's default {default_threads} threads\n")
    if accuracy is not None:
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

    print("(b) throughput: the default config through the project's CLI against hand-written loops doing the same work")
    print(f"    torch threads inside fit: {rows[0].threads}; ms/step and ratios after the first epoch unless 'fit'\n")
    for clock, clock_name in enumerate(CLOCKS):
        print(f"{clock_name} time" + (" (this thread's; the target is judged on it)" if clock == 0 else ""))
        clock_header = (
            "config",
            "hidden",
            "batch",
            "epochs x steps",
            "lightning ms/step",
            "hand ms/step",
            "overhead ms/step",
            "ratio fit",
            "ratio",
            "hand+outputs ms/step",
            "ratio to it",
            f">= {TARGET_RATIO}",
        )
        steady = functools.partial(Timeline.steady_s, clock=clock)
        whole = functools.partial(Timeline.fit_s, clock=clock)
        lines = []
        for row in rows:
            ratio = Throughput.ratio(row.hand, row.lightning, steady)
            outputs = bool(row.hand_outputs)
            lightning_ms, hand_ms = row.ms_per_step(row.lightning, clock), row.ms_per_step(row.hand, clock)
            lines.append(
                (
                    row.label,
                    ",".join(map(str, row.hidden_dims)),
                    str(row.batch_size),
                    f"{row.epochs} x {row.steps_per_epoch}",
                    f"{lightning_ms:.3f}",
                    f"{hand_ms:.3f}",
                    f"{lightning_ms - hand_ms:.2f}",
                    f"{Throughput.ratio(row.hand, row.lightning, whole):.2f}",
                    f"{ratio:.2f}",
                    f"{row.ms_per_step(row.hand_outputs, clock):.3f}" if outputs else "-",
                    f"{Throughput.ratio(row.hand_outputs, row.lightning, steady):.2f}" if outputs else "-",
                    "met" if ratio >= TARGET_RATIO else "NOT met",
                )
            )
        print(table(clock_header, lines) + "\n")

    print("Where an epoch's time goes (CPU time, medians over epochs after the first)")
    phase_header = (
        "config",
        "hidden",
        "batch",
        "loop",
        "train ms/step",
        "to validation ms",
        "validation ms",
        "after validation ms",
    )
    phase_lines = []
    for row in rows:
        loops = [("lightning", row.lightning), ("hand", row.hand)]
        if row.hand_outputs:
            loops.append(("hand+outputs", row.hand_outputs))
        for name, runs in loops:
            phases = [run.phases(row.steps_per_epoch, 0) for run in runs]
            train, before, val, after = (statistics.median(values) for values in zip(*phases, strict=True))
            phase_lines.append(
                (
                    row.label,
                    ",".join(map(str, row.hidden_dims)),
                    str(row.batch_size),
                    name,
                    f"{train:.3f}",
                    f"{before:.2f}",
                    f"{val:.2f}",
                    f"{after:.2f}",
                )
            )
    print(table(phase_header, phase_lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per throughput run (at least 2)")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds per size (medians reported)")
    parser.add_argument("--batch-sizes", default="64,512", help="comma-separated; 64 is the default config's")
    parser.add_argument("--hidden-dims", default="128,64", help="the model's hidden layers; 128,64 is the default")
    parser.add_argument("--floor", action="store_true", help="also the trainer with outputs and validation off")
    parser.add_argument("--no-accuracy", action="store_true", help="skip (a), the time-to-accuracy run")
    parser.add_argument("--project", type=Path, help="an already rendered project instead of a fresh render")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads for (b), both loops alike; 0: torch's default"
    )
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the steady state leaves out the first epoch)")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # no per-fit banners between the timings

    default_threads = torch.get_num_threads()  # what (a), a fresh process as the user runs it, trains with
    if args.threads > 0:
        # One thread by default: the default model's operations are too small to gain from a second, and on a
        # shared machine a second thread that is descheduled stalls every operation (tens of times slower).
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    hidden_dims = tuple(int(width) for width in args.hidden_dims.split(","))
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="fsdl-training-bench-") as workdir:
        project = Path(workdir) / "project"
        if args.project is not None:
            shutil.copytree(args.project, project, ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts", "outputs"))
            answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        else:
            answers = render_default_project(project)
        accuracy = None if args.no_accuracy else time_to_accuracy(project, answers)
        for name in list(os.environ):
            if name.startswith("MLFLOW_"):
                del os.environ[name]  # the project's own local store, as in (a)
        cwd = Path.cwd()
        os.chdir(project)  # the project's relative paths: its configs, store and checkpoints
        sys.path.insert(0, str(project / "src"))
        try:
            rows = [
                throughput(project, "default", hidden_dims, size, args.epochs, args.runs, floor=False) for size in sizes
            ]
            if args.floor:
                rows.append(throughput(project, "floor", hidden_dims, sizes[0], args.epochs, args.runs, floor=True))
        finally:
            os.chdir(cwd)
    report(accuracy, rows, default_threads)


if __name__ == "__main__":
    main()
