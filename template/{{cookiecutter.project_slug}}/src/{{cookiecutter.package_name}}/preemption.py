"""Preemption: a run that its cluster stops saves where it is, and the next start carries on from there.

Clusters stop jobs with a warning first. Kubernetes (on eviction), ``docker stop`` and most schedulers send
SIGTERM, then SIGKILL after a grace period; SLURM sends SIGUSR1 ahead of the time limit when the job asks for
it (``--signal=B:USR1@90``, which an sbatch script passes on to its job step). On either signal, training
finishes the optimizer step under way, every process saves the checkpoint (a safe point: weights, optimizer,
schedule, data position and random state agree), and the command exits with :data:`EXIT_PREEMPTED`.

The checkpoint and a small record beside it go to ``<trainer.default_root_dir>/preempted/<config key>``,
where the key is a digest of the resolved config. The next ``fit`` with the same config finds the record,
resumes from the checkpoint with no flag to remember, and continues the same tracker run; once that run
finishes, the record and its checkpoint are removed.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import Logger

#: The exit status of a preempted run: EX_TEMPFAIL in BSD's sysexits.h, "temporary failure, try again".
#: Launchers requeue the job on it (see launch/), and count it apart from real failures.
EXIT_PREEMPTED = 75
SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
RECORD_DIR = "preempted"
#: Config keys that name where a run comes from, not what it computes: left out of the key.
NOT_IN_KEY = ("config", "ckpt_path", "trainer.logger.init_args.run_id", "trainer.logger.init_args.version")


class Preempted(SystemExit):
    """Raised on every process once the checkpoint is saved; the command exits with ``EXIT_PREEMPTED``."""

    def __init__(self, checkpoint: Path) -> None:
        super().__init__(EXIT_PREEMPTED)
        self.checkpoint = checkpoint


class ResumeError(ValueError):
    """A preemption record that cannot be resumed from; the message says which file and what to do."""


def being_preempted() -> bool:
    """Whether the exception being handled right now is a preemption (for loggers' finalize)."""
    return isinstance(sys.exc_info()[1], Preempted)


def config_key(config: Mapping[str, Any]) -> str:
    """A digest of everything in the resolved config that decides what training computes."""
    flat = _flatten(config)
    kept = {key: value for key, value in flat.items() if not key.startswith(NOT_IN_KEY)}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


@dataclass(frozen=True)
class ResumePoint:
    """What a preempted run left behind: its checkpoint, and the logger arguments that continue its run."""

    checkpoint: str
    logger_arguments: dict[str, Any]

    @classmethod
    def read(cls, record: Path) -> ResumePoint | None:
        """The record at ``record``; None when there is none."""
        if not record.is_file():
            return None
        try:
            data = json.loads(record.read_text())
            point = cls(checkpoint=str(data["checkpoint"]), logger_arguments=dict(data["logger_arguments"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise ResumeError(f"{record}: unreadable preemption record; delete it to start afresh") from None
        if not Path(point.checkpoint).exists():
            raise ResumeError(
                f"{record}: the checkpoint it resumes from, {point.checkpoint}, is missing; "
                "delete the record to start afresh, or pass --ckpt_path"
            )
        return point

    def write(self, record: Path) -> None:
        """Write the record in one step, so that a half-written one is never read."""
        partial = record.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=2))
        partial.replace(record)


class PreemptionCheckpoint(Callback):
    """Saves a checkpoint and stops on SIGTERM or SIGUSR1; resumes the random state with the rest.

    Args:
        resume_arguments: For a logger, the constructor arguments that continue its run (the tracker's
            ``resume_arguments``).
    """

    def __init__(self, resume_arguments: Callable[[Logger], dict[str, Any]]) -> None:
        self.resume_arguments = resume_arguments
        self.record: Path | None = None  # set by the command line before fit: where the record goes
        self._signalled = False
        self._previous: dict[signal.Signals, Any] = {}
        self._held: dict[signal.Signals, Any] = {}  # the handlers before hold_after_training

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Catch the stop signals for the length of training (after Lightning has set up its own)."""
        self._signalled = False
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._note_signal)

    def _note_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only note it: the checkpoint is taken between steps, where every process stands at the same place.
        self._signalled = True

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """After each optimizer step: if any process was signalled, all save and stop together."""
        if not trainer.strategy.reduce_boolean_decision(self._signalled, all=False):
            return
        record = self.record or Path(trainer.default_root_dir) / RECORD_DIR / "unnamed.json"
        checkpoint = record.with_suffix(".ckpt")
        if trainer.is_global_zero:
            record.parent.mkdir(parents=True, exist_ok=True)
        trainer.strategy.barrier("preemption")
        trainer.save_checkpoint(checkpoint)  # every process: a sharded checkpoint needs each one's part
        if trainer.is_global_zero:
            arguments = self.resume_arguments(trainer.logger) if trainer.logger is not None else {}
            ResumePoint(checkpoint=str(checkpoint), logger_arguments=arguments).write(record)
            print(f"preempted: saved {checkpoint}; the same command resumes from it", file=sys.stderr)
        trainer.strategy.barrier("preempted")
        raise Preempted(checkpoint)

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Give the signals back to whoever had them before training."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    # -- after training --------------------------------------------------------------------------------------
    # Training is done and its record gone, so a stop signal now must not end the command: the job would be
    # requeued (SLURM) or restarted and train again from scratch. The final test and the uploads take seconds,
    # well inside the warning's lead (90 s for USR1) or the grace period before SIGKILL (SIGTERM).
    def hold_after_training(self) -> None:
        """Note, and otherwise ignore, stop signals until :meth:`release` (the final test and uploads)."""
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._held[signum] = signal.signal(signum, self._note_late_signal)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Take SIGTERM back from Lightning, whose handler would broadcast to the other processes unasked."""
        if self._held and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._note_late_signal)

    def _note_late_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        print(f"{name} after training: finishing the final test first", file=sys.stderr)

    def release(self) -> None:
        """Give the stop signals back after the final test and uploads."""
        for signum, handler in self._held.items():
            signal.signal(signum, handler)
        self._held.clear()

    def finished(self, trainer: Trainer) -> None:
        """The run completed: its preemption record and checkpoint have done their job."""
        if self.record is None or not trainer.is_global_zero:
            return
        checkpoint = self.record.with_suffix(".ckpt")
        self.record.unlink(missing_ok=True)
        if checkpoint.is_dir():
            shutil.rmtree(checkpoint)
        else:
            checkpoint.unlink(missing_ok=True)

    def state_dict(self) -> dict[str, Any]:
        """The random state, so that dropout and the like continue as if training had never stopped."""
        # The global generator, as seed_everything seeds it: (name, keys, position, has_gauss, gauss).
        _, keys, position, *_ = np.random.get_state(legacy=True)  # noqa: NPY002
        return {
            "torch": torch.get_rng_state(),
            "numpy_keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "numpy_position": int(position),
            "python": random.getstate(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the random state saved with the checkpoint."""
        torch.set_rng_state(state_dict["torch"])
        keys = state_dict["numpy_keys"].numpy().astype(np.uint32)
        np.random.set_state(("MT19937", keys, state_dict["numpy_position"], 0, 0.0))  # noqa: NPY002
        random.setstate(state_dict["python"])
