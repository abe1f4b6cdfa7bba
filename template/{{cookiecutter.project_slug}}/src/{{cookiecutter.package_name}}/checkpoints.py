"""Sharded checkpoints: telling them from whole ones, and consolidating one into a single file.

Under FSDP (``configs/strategy/fsdp.yaml``) every process saves its own slice of the weights and the
optimizer state: a checkpoint is a folder (PyTorch's distributed-checkpoint format) that resumes training
on the same number of processes or any other. Serving, ``--ckpt_path`` on one process and the tracker's
model artifact want one file instead: :func:`consolidate` makes it, and ``{{ cookiecutter.project_slug }}-consolidate``
runs it from the command line.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

SHARD_INDEX = ".metadata"  # written by torch.distributed.checkpoint beside the shards
TRAINER_STATE = "meta.pt"  # Lightning's ModelParallelStrategy keeps everything but the tensors here


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked; the message names the path."""


def is_sharded(path: str | Path) -> bool:
    """Whether ``path`` is a sharded (distributed) checkpoint folder rather than a single file."""
    return (Path(path) / SHARD_INDEX).is_file()


def default_output(sharded: Path) -> Path:
    """Where a consolidated copy goes unless told: ``last.ckpt/`` becomes ``last-full.ckpt``."""
    return sharded.with_name(f"{sharded.stem}-full.ckpt")


def consolidate(sharded: str | Path, output: str | Path | None = None) -> Path:
    """Gather a sharded checkpoint into one file that ``Classifier.load_from_checkpoint`` reads.

    The file keeps the weights, the hyperparameters and the training progress; it leaves out the optimizer
    state, which is keyed by sharded parameter: to resume training, keep using the folder. An existing
    file is never overwritten.
    """
    source = Path(sharded)
    if not is_sharded(source):
        raise CheckpointError(f"{source}: not a sharded checkpoint (a folder holding {SHARD_INDEX})")
    target = Path(output) if output is not None else default_output(source)
    if target.exists():
        raise CheckpointError(f"{target} exists already: remove it or choose another --output")
    trainer_state = source / TRAINER_STATE
    checkpoint: dict[str, object] = {}
    if trainer_state.is_file():
        # Written by this project's own training: hyperparameters and loop state, plain Python objects.
        checkpoint = torch.load(trainer_state, weights_only=False)
    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.is_dir() else None) as staging:
        gathered = Path(staging) / "gathered.pt"
        dcp_to_torch_save(source, gathered)
        tensors = torch.load(gathered, weights_only=True)
        checkpoint["state_dict"] = tensors["state_dict"]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(staging) / target.name
        torch.save(checkpoint, partial)
        partial.replace(target)  # whole or not at all
    return target


def consolidate_main(argv: list[str] | None = None) -> None:
    """Console entry point: ``{{ cookiecutter.project_slug }}-consolidate CHECKPOINT [--output FILE]``."""
    parser = argparse.ArgumentParser(description="Gather a sharded (FSDP) checkpoint into a single file.")
    parser.add_argument("checkpoint", type=Path, help="the sharded checkpoint folder (e.g. .../last.ckpt)")
    parser.add_argument("--output", type=Path, help="the file to write (default: <name>-full.ckpt beside it)")
    arguments = parser.parse_args(argv)
    try:
        written = consolidate(arguments.checkpoint, arguments.output)
    except CheckpointError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"wrote {written}")
