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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI

from {{ cookiecutter.package_name }} import tracking
from {{ cookiecutter.package_name }}.data import ClassificationData, DataError
from {{ cookiecutter.package_name }}.model import Classifier
from {{ cookiecutter.package_name }}.runs import newest_checkpoint


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
    return ckpt_path


class TrainCLI(LightningCLI):
    """LightningCLI for :class:`Classifier` on :class:`ClassificationData`."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """The data decides the model's input and output sizes, so no config has to repeat them."""
        parser.link_arguments("data.num_features", "model.input_dim", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.class_names", "model.class_names", apply_on="instantiate")

    def fit(self, model: LightningModule, ckpt_path: str | Path | None = None, **kwargs: Any) -> None:
        """``Trainer.fit``, with ``--ckpt_path last`` resolved."""
        self.trainer.fit(model, ckpt_path=resolve_checkpoint(ckpt_path), **kwargs)

    def after_fit(self) -> None:
        """Score the best checkpoint (or the final weights when checkpointing is off) on the test split."""
        checkpoint = self.trainer.checkpoint_callback
        best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
        self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best or None)
        tracking.after_training(self.trainer, self.model, self.datamodule)

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
    return TrainCLI(
        Classifier,
        ClassificationData,
        # Seeds Python, NumPy and torch in every process; the seed is part of the logged config.
        seed_everything_default=42,
        save_config_callback=tracking.RunConfigLogger,
        save_config_kwargs=tracking.SAVE_CONFIG_KWARGS,
        # The model's own options choose the optimizer and schedule; Lightning's generic --optimizer
        # would silently replace them (and ignore --model.lr).
        auto_configure_optimizers=False,
        args=args,
    )


def main() -> None:
    """Console entry point: unusable input data is a one-line error, not a traceback."""
    try:
        run_cli()
    except DataError as error:
        raise SystemExit(f"error: {error}") from None
