"""Command line: ``{{ cookiecutter.project_slug }}-train --config configs/default.yaml``.

LightningCLI builds the trainer, model and data from YAML files and command-line overrides, every
option typed from the classes' signatures; ``--help`` lists them all and ``--print_config`` shows
the resolved config. The run fits the model, then scores its best checkpoint on the test split.
"""

from __future__ import annotations

{% if cookiecutter.tracker == "wandb" -%}
import wandb
{% endif -%}
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI

from {{ cookiecutter.package_name }}.data import ClassificationData
from {{ cookiecutter.package_name }}.model import Classifier
from {{ cookiecutter.package_name }}.tracking import RunConfigLogger


class TrainCLI(LightningCLI):
    """LightningCLI for :class:`Classifier` on :class:`ClassificationData`."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """The data decides the model's input and output sizes, so no config has to repeat them."""
        parser.link_arguments("data.num_features", "model.input_dim", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.class_names", "model.class_names", apply_on="instantiate")


def train(args: ArgsType = None) -> TrainCLI:
    """Fit, then test the best checkpoint (or the final weights when checkpointing is off)."""
    cli = TrainCLI(
        Classifier,
        ClassificationData,
        # Seeds Python, NumPy and torch in every process; the seed is part of the logged config.
        seed_everything_default=42,
        save_config_callback=RunConfigLogger,
{%- if cookiecutter.tracker == "tensorboard" %}
        save_config_kwargs={"overwrite": True},
{%- else %}
        # The config is stored with the run by the tracker, not in a shared folder.
        save_config_kwargs={"save_to_log_dir": False},
{%- endif %}
        run=False,
        args=args,
    )
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    checkpoint = cli.trainer.checkpoint_callback
    best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=best or None)
{%- if cookiecutter.tracker == "wandb" %}
    # Lightning leaves the W&B run open; close it so that the next train() in this process starts a new one.
    wandb.finish()
{%- endif %}
    return cli


def main() -> None:
    """Console entry point."""
    train()
