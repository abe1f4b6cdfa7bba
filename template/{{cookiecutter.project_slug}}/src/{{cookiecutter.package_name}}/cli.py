"""Command line: ``{{ cookiecutter.project_slug }}-train SUBCOMMAND --config configs/default.yaml``.

LightningCLI builds the trainer, model and data from YAML files and command-line overrides, every
option typed from the classes' signatures; ``--help`` lists them all and ``--print_config`` shows
the resolved config. The subcommands:

- ``fit`` trains, then scores the best checkpoint on the test split. ``--ckpt_path PATH`` resumes a
  run from a checkpoint, ``--ckpt_path last`` from the newest ``last.ckpt`` on disk.
- ``validate`` and ``test`` score a checkpoint on the validation or test split.
- ``predict`` writes class probabilities for new inputs (``--data.predict_path``, a CSV file or an
  image folder) to a CSV file; ``configs/predict.yaml`` sets that up.

For ``validate``, ``test`` and ``predict``, ``--ckpt_path best`` is the model the tracker names as
the one to use (see ``tracking.best_checkpoint``).

The same command trains on one process or many: ``--config configs/strategy/ddp.yaml`` (data-parallel) or
``configs/strategy/fsdp.yaml`` (sharded); torchrun, SLURM and Kubernetes jobs are recognised from their
environment variables. A run stopped by SIGTERM or SIGUSR1 saves a checkpoint and exits with status 75;
the same command started again resumes it (see ``preemption``).
"""

from __future__ import annotations

import inspect
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.fabric.plugins.environments.slurm import SLURMEnvironment
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.fsdp import FSDPModule

from {{ cookiecutter.package_name }} import tracking
from {{ cookiecutter.package_name }}.checkpoints import consolidate, default_output, is_sharded
from {{ cookiecutter.package_name }}.data import ClassificationData, DataError
from {{ cookiecutter.package_name }}.model import Classifier
from {{ cookiecutter.package_name }}.preemption import (
    RECORD_DIR,
    PreemptionCheckpoint,
    ResumeError,
    ResumePoint,
    config_key,
)
from {{ cookiecutter.package_name }}.runs import newest_checkpoint


def read_batch_limits_as_written() -> None:
    """Keep `limit_train_batches: 1` the int 1 (one batch) rather than the float 1.0 (every batch).

    Trainer annotates these settings `Optional[Union[int, float]]`, and jsonargparse tries the types in order.
    But Python caches `Optional[...]` by arguments that compare equal in any order, so the annotation is
    whichever of it and Lightning Fabric's `Optional[Union[float, int]]` the process made first, which
    depends on what else is installed. `int | float | None` keeps its order.
    """
    init = inspect.unwrap(Trainer.__init__)
    for name, hint in init.__annotations__.items():
        if hint == int | float | None:
            init.__annotations__[name] = int | float | None


read_batch_limits_as_written()


class ConfigError(ValueError):
    """An option that cannot work as given; the message names it."""


def resolve_checkpoint(ckpt_path: str | Path | None) -> str | Path | None:
    """``last`` and ``best`` as this project means them; any other value as Lightning reads it."""
    if ckpt_path == "last":
        last = newest_checkpoint(tracking.CHECKPOINT_ROOT, last=True)
        if last is None:
            raise SystemExit(f"error: --ckpt_path last: no last.ckpt under {tracking.CHECKPOINT_ROOT}/ yet")
        return last
    if ckpt_path == "best":
        best = tracking.best_checkpoint()
        if best is None:
            raise SystemExit("error: --ckpt_path best: no trained model yet (run `make train` first)")
        return best
    if ckpt_path is not None:
        check_checkpoint(Path(ckpt_path))
    return ckpt_path


def check_checkpoint(path: Path) -> None:
    """Fail early, in one line, on a checkpoint that is missing or damaged, before any process starts."""
    if is_sharded(path):
        return
    if path.is_dir():
        raise SystemExit(f"error: --ckpt_path {path}: a folder, but not a sharded checkpoint (no .metadata)")
    if not path.is_file():
        raise SystemExit(f"error: --ckpt_path {path}: no such checkpoint")
    if not zipfile.is_zipfile(path):  # torch.save writes zip archives; a cut-off file has no directory
        raise SystemExit(f"error: --ckpt_path {path}: not a readable checkpoint (truncated or corrupt?)")


def check_parallel_layout(config: Namespace) -> None:
    """Data-parallel x tensor-parallel sizes must cover every process exactly (ModelParallelStrategy)."""
    strategy = config.get("trainer.strategy")
    class_path = str(strategy.get("class_path")) if isinstance(strategy, Namespace) else ""
    if not class_path.endswith("ModelParallelStrategy"):
        return
    devices, nodes = config.get("trainer.devices"), config.get("trainer.num_nodes") or 1
    if isinstance(devices, str) and devices.isdigit():  # the command line gives "3", a config file 3
        devices = int(devices)
    data = strategy.get("init_args.data_parallel_size")
    tensor = strategy.get("init_args.tensor_parallel_size")
    sizes = (data, tensor, devices, nodes)
    if all(isinstance(size, int) for size in sizes) and data * tensor != devices * nodes:
        raise ConfigError(
            f"--trainer.strategy.init_args.data_parallel_size ({data}) x tensor_parallel_size ({tensor}) "
            f"must equal --trainer.devices ({devices}) x --trainer.num_nodes ({nodes})"
        )


class TrainCLI(LightningCLI):
    """LightningCLI for :class:`Classifier` on :class:`ClassificationData`."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """The data decides the model's input and output sizes, so no config has to repeat them."""
        parser.link_arguments("data.num_features", "model.input_dim", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.class_names", "model.class_names", apply_on="instantiate")

    @property
    def preemption(self) -> PreemptionCheckpoint:
        """The callback that checkpoints on SIGTERM or SIGUSR1 (always on: it is not in the configs)."""
        callbacks = self.trainer_defaults["callbacks"]
        return next(callback for callback in callbacks if isinstance(callback, PreemptionCheckpoint))

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        """Parse the command line; a checkpoint file given is checked before Lightning reads its settings."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path is not None and ckpt_path not in ("last", "best"):
            check_checkpoint(Path(ckpt_path))

    def before_instantiate_classes(self) -> None:
        """Check the parallel layout; for ``fit``, pick up where a preempted run of this config stopped."""
        if self.subcommand is None:
            return
        config = self.config[self.subcommand]
        check_parallel_layout(config)
        if self.subcommand != "fit":
            return
        root = Path(config.get("trainer.default_root_dir") or ".")
        record = root / RECORD_DIR / f"{config_key(config.as_dict())}.json"
        self.preemption.record = record
        if config.get("ckpt_path") is not None:
            return  # an explicit checkpoint wins
        point = ResumePoint.read(record)
        if point is None:
            return
        config["ckpt_path"] = point.checkpoint
        logger = config.get("trainer.logger")
        if isinstance(logger, Namespace) and isinstance(logger.get("init_args"), Namespace):
            for name, value in point.logger_arguments.items():
                logger["init_args"][name] = value
        print(f"resuming the preempted run of this config from {point.checkpoint}", file=sys.stderr)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The trainer; a setting Lightning rejects (an unknown strategy, say) is a one-line error."""
        configured = self._get(self.config_init, "trainer", default={})
        if SLURMEnvironment.detect() and not configured.get("plugins"):
            # The job script requeues (launch/slurm/) once every process has saved. Lightning's own requeue
            # would save on rank zero only, into a checkpoint of its own. (Given here, not as a default, so
            # that it stays out of the config, whose digest names the run to resume.)
            kwargs["plugins"] = [SLURMEnvironment(auto_requeue=False)]
        try:
            return super().instantiate_trainer(**kwargs)
        except (MisconfigurationException, ValueError) as error:
            raise ConfigError(f"--trainer: {str(error).splitlines()[0]}") from None

    def fit(self, model: LightningModule, ckpt_path: str | Path | None = None, **kwargs: Any) -> None:
        """``Trainer.fit``, with ``--ckpt_path last`` resolved; a finished run drops its preemption record."""
        self.trainer.fit(model, ckpt_path=resolve_checkpoint(ckpt_path), **kwargs)
        self.preemption.finished(self.trainer)

    def after_fit(self) -> None:
        """Score the best checkpoint (or the final weights when checkpointing is off) on the test split."""
        checkpoint = self.trainer.checkpoint_callback
        best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
        self.preemption.hold_after_training()
        try:
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best or None)
            whole = self.whole_model(best)
            if whole is not None:
                tracking.after_training(self.trainer, whole, self.datamodule)
        finally:
            self.preemption.release()

    def whole_model(self, best: str) -> LightningModule | None:
        """The trained model in one piece, on the processes that need it.

        That is the model itself; or, after sharded training, its best checkpoint gathered into one file
        (``*-full.ckpt``), or its final weights when there is no checkpoint, loaded on rank zero; None on
        the other processes.
        """
        model: LightningModule = self.model
        if not isinstance(model, Classifier) or not isinstance(model.net, FSDPModule):
            return model
        whole: LightningModule | None = None
        if best and is_sharded(best):
            self.trainer.strategy.barrier("sharded checkpoint written")
            if self.trainer.is_global_zero:
                full = default_output(Path(best))
                if not full.exists():
                    consolidate(best, full)
                whole = Classifier.load_from_checkpoint(full, map_location="cpu")
        else:  # no checkpoint to gather from (checkpointing off): gather the weights, on every process
            options = StateDictOptions(full_state_dict=True, cpu_offload=True)
            weights = get_model_state_dict(model, options=options)
            if self.trainer.is_global_zero:
                # The constructor's own arguments (LightningCLI adds a private key of its own).
                arguments = {key: value for key, value in model.hparams.items() if not key.startswith("_")}
                whole = Classifier(**arguments)
                whole.load_state_dict(weights)
        self.trainer.strategy.barrier("gathered")
        return whole

    def validate(self, model: LightningModule, ckpt_path: str | Path | None = None, **kwargs: Any) -> None:
        """``Trainer.validate``, with ``--ckpt_path last|best`` resolved."""
        self.trainer.validate(model, ckpt_path=resolve_checkpoint(ckpt_path), **kwargs)

    def test(self, model: LightningModule, ckpt_path: str | Path | None = None, **kwargs: Any) -> None:
        """``Trainer.test``, with ``--ckpt_path last|best`` resolved."""
        self.trainer.test(model, ckpt_path=resolve_checkpoint(ckpt_path), **kwargs)

    def predict(self, model: LightningModule, ckpt_path: str | Path | None = None, **kwargs: Any) -> None:
        """``Trainer.predict``, with ``--ckpt_path last|best`` resolved; a writer callback saves it."""
        self.trainer.predict(model, ckpt_path=resolve_checkpoint(ckpt_path), **kwargs)


def run_cli(args: ArgsType = None) -> TrainCLI:
    """Parse ``args`` (the command line when None), build everything and run the subcommand."""
    # The training sampler resumes mid-epoch from the data module's saved position (data.py); Lightning's
    # check for resumable data loaders does not look there, and would warn for nothing.
    warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch")
    return TrainCLI(
        Classifier,
        ClassificationData,
        # Seeds Python, NumPy and torch in every process; the seed is part of the logged config.
        seed_everything_default=42,
        save_config_callback=tracking.RunConfigLogger,
        save_config_kwargs=tracking.SAVE_CONFIG_KWARGS,
        trainer_defaults={"callbacks": [PreemptionCheckpoint(tracking.resume_arguments)]},
        # The model's own options choose the optimizer and schedule; Lightning's generic --optimizer
        # would silently replace them (and ignore --model.lr).
        auto_configure_optimizers=False,
        args=args,
    )


def main() -> None:
    """Console entry point: unusable input data is a one-line error, not a traceback."""
    try:
        run_cli()
    except (DataError, ConfigError, ResumeError) as error:
        raise SystemExit(f"error: {error}") from None
