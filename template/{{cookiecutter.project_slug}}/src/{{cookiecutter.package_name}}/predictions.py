"""Writes what ``predict`` computes: one CSV row per input, with the predicted class and every probability."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter


def flatten(nested: Any) -> Iterator[int]:  # Lightning nests batch indices per dataloader
    """The integers in arbitrarily nested sequences, in order."""
    if isinstance(nested, int):
        yield nested
    else:
        for item in nested:
            yield from flatten(item)


class PredictionWriter(BasePredictionWriter):
    """Saves the class probabilities of a ``predict`` run as CSV once every batch is done.

    Columns: ``input`` (the CSV line or image file), ``prediction`` (the most likely class name) and one
    probability column per class. Under several processes each writes its own share, ``<name>.rank<N>.csv``.

    Args:
        output_file: Where the CSV file goes; its folder is created if needed.
    """

    def __init__(self, output_file: Path = Path("predictions.csv")) -> None:
        super().__init__(write_interval="epoch")
        self.output_file = Path(output_file)

    def write_on_epoch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        predictions: Sequence[Any],
        batch_indices: Sequence[Any],
    ) -> None:
        """Write the rows, in input order."""
        probabilities = torch.cat([torch.as_tensor(batch) for batch in predictions]).cpu()
        indices = list(flatten(batch_indices))
        datamodule = getattr(trainer, "datamodule", None)
        sources: list[str] = list(getattr(datamodule, "predict_sources", []))
        names: list[str] = list(getattr(pl_module, "class_names", [])) or [
            str(i) for i in range(probabilities.shape[1])
        ]
        order = indices if len(indices) == len(probabilities) else list(range(len(probabilities)))
        target = self.output_file
        if trainer.world_size > 1:
            target = target.with_name(f"{target.stem}.rank{trainer.global_rank}{target.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["input", "prediction", *names])
            for index, row in sorted(zip(order, probabilities.tolist(), strict=True)):
                source = sources[index] if index < len(sources) else str(index)
                best = max(range(len(row)), key=row.__getitem__)
                writer.writerow([source, names[best], *(f"{p:.6f}" for p in row)])
