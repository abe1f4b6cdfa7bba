"""Training data: the handwritten digits bundled with scikit-learn, or your own CSV file or image folder.

Every source becomes one table of float features and integer labels. It is split once into train,
validation and test sets with its own seed, so the split stays fixed while you change the training seed,
and every run of an experiment is scored on the same held-out examples.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from lightning.pytorch import LightningDataModule
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import distributed
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
DIGITS_MAX_INK = 16.0  # scikit-learn's digits count inked pixels in 4x4 blocks: values run 0..16

Features = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]


class DataError(ValueError):
    """Input data that cannot be used as it is; the message says which file and what to change."""


@dataclass(frozen=True)
class LabelledData:
    """Features of shape (examples, features), integer labels, and the name of each label."""

    features: Features
    labels: Labels
    class_names: tuple[str, ...]


def load_bundled_digits() -> LabelledData:
    """The 1,797 8x8 handwritten digits that ship inside scikit-learn, so training works offline."""
    digits = load_digits()
    return LabelledData(
        features=(digits.data / DIGITS_MAX_INK).astype(np.float32),
        labels=digits.target.astype(np.int64),
        class_names=tuple(str(name) for name in digits.target_names),
    )


def load_csv(path: Path, label_column: str) -> LabelledData:
    """A CSV file with a header row: one label column, every other column a numeric feature."""
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        columns = list(reader.fieldnames or [])
        if label_column not in columns:
            raise DataError(f"{path}: no column {label_column!r}; the columns are {columns}")
        feature_columns = [column for column in columns if column != label_column]
        rows: list[list[float]] = []
        label_texts: list[str] = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append([float(row[column]) for column in feature_columns])
            except (TypeError, ValueError):
                raise DataError(f"{path}:{line}: every feature column must hold a number") from None
            label_texts.append(row[label_column])
    if not rows:
        raise DataError(f"{path}: the file has a header but no rows")
    return _encode_labels(np.asarray(rows, dtype=np.float32), label_texts)


def load_image_folder(root: Path, image_size: int) -> LabelledData:
    """Images stored as ``root/<class name>/<image file>``, resized to ``image_size`` pixels square."""
    class_dirs = sorted(entry for entry in root.iterdir() if entry.is_dir())
    images: list[Features] = []
    label_texts: list[str] = []
    for class_dir in class_dirs:
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                with Image.open(file) as image:
                    images.append(image_to_features(image, image_size))
                label_texts.append(class_dir.name)
    if not images:
        raise DataError(f"{root}: no images found; expected {root}/<class name>/<image file>")
    return _encode_labels(np.stack(images), label_texts)


def load_inputs(path: Path, image_size: int, label_column: str) -> tuple[Features, list[str]]:
    """Unlabelled inputs to predict, and where each came from (a CSV line or an image file).

    ``path`` is a CSV file (its label column, if present, is ignored) or a folder of images at any depth.
    """
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"{path}: no images to predict ({', '.join(sorted(IMAGE_SUFFIXES))})")
        images = []
        for file in files:
            with Image.open(file) as image:
                images.append(image_to_features(image, image_size))
        return np.stack(images), [str(file.relative_to(path)) for file in files]
    with path.open(newline="") as table:
        reader = csv.DictReader(table)
        columns = [column for column in reader.fieldnames or [] if column != label_column]
        rows: list[list[float]] = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append([float(row[column]) for column in columns])
            except (TypeError, ValueError):
                raise DataError(f"{path}:{line}: every feature column must hold a number") from None
    if not rows:
        raise DataError(f"{path}: no rows to predict")
    return np.asarray(rows, dtype=np.float32), [f"{path.name}:{line}" for line in range(2, len(rows) + 2)]


def image_to_features(image: Image.Image, image_size: int, invert: bool = False) -> Features:
    """Grey levels in [0, 1], row by row; the same function prepares training data and new inputs.

    A fixed scale, rather than statistics of the training set, lets a single new image be classified
    with nothing but the model. ``invert`` turns dark ink on light paper into the light-on-dark
    convention of the bundled digits.
    """
    grey = image.convert("L").resize((image_size, image_size), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float32).reshape(-1) / 255.0
    return 1.0 - pixels if invert else pixels


def _encode_labels(features: Features, label_texts: list[str]) -> LabelledData:
    class_names = tuple(sorted(set(label_texts)))
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.asarray([index[text] for text in label_texts], dtype=np.int64)
    return LabelledData(features=features, labels=labels, class_names=class_names)


def split_indices(
    labels: Labels, val_fraction: float, test_fraction: float, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Train, validation and test indices, stratified by label and fixed by ``seed``."""
    indices = np.arange(len(labels))
    rest, test = train_test_split(indices, test_size=test_fraction, stratify=labels, random_state=seed)
    train, val = train_test_split(
        rest,
        test_size=val_fraction / (1.0 - test_fraction),
        stratify=labels[rest],
        random_state=seed,
    )
    return train, val, test


class EvenlySplitSampler(DistributedSampler[int]):
    """Each process takes every n-th example, so that every example is scored exactly once.

    PyTorch's ``DistributedSampler``, which Lightning puts in by default, pads the last round with repeats so
    that all processes get equally many: right for training, wrong for a test score, which then counts some
    examples twice. Evaluation steps here log epoch-level values only, so unequal shares are safe.
    """

    def __init__(self, dataset: Dataset[tuple[torch.Tensor, ...]]) -> None:
        super().__init__(dataset, shuffle=False, drop_last=False)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, len(self.dataset), self.num_replicas))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(range(self.rank, len(self.dataset), self.num_replicas))  # type: ignore[arg-type]


class ResumableSampler(DistributedSampler[int]):
    """The training order: a fresh permutation each epoch, drawn from the seed and the epoch number.

    Each process takes its own share (one share when training on one process). Because the order is a
    function of seed and epoch alone, a run resumed in the middle of an epoch can skip exactly the batches
    it had trained on before it stopped (:meth:`resume_at`) and go on as if it had never stopped.
    :class:`ClassificationData` saves that position with every checkpoint and hands it back on resume.
    """

    def __init__(
        self,
        dataset: Dataset[tuple[torch.Tensor, ...]],
        batch_size: int,
        shuffle: bool,
        seed: int,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        self.batch_size = batch_size
        self._resume: tuple[int, int] | None = None  # (epoch, batches already trained in it)

    def resume_at(self, epoch: int, batches: int) -> None:
        """Leave out the first ``batches`` batches of ``epoch``, once, when that epoch is drawn."""
        self._resume = (epoch, batches)

    def __iter__(self) -> Iterator[int]:
        # A generator, so that the order is drawn when the first batch is asked for: after Lightning has
        # called set_epoch for the epoch about to run.
        indices = list(super().__iter__())
        if self._resume is not None and self._resume[0] == self.epoch:
            indices = indices[self._resume[1] * self.batch_size :]
        self._resume = None
        yield from indices


class ClassificationData(LightningDataModule):
    """Labelled examples for classification, from the bundled digits, a CSV file or an image folder.

    Args:
        csv_path: A CSV file of numeric feature columns and a label column.
        image_dir: A folder with one sub-folder of images per class.
        label_column: The CSV column that holds the labels.
        image_size: Side in pixels that images from ``image_dir`` are resized to.
        val_fraction: Share of the examples held out for validation.
        test_fraction: Share of the examples held out for the final test.
        split_seed: Seed of the split; independent of the training seed on purpose.
        batch_size: Examples per batch.
        num_workers: Loader processes; the data sits in memory, so 0 is usually fastest.
        pin_memory: Page-locked batches, for faster copies to a GPU.
        shuffle: Shuffle the training examples each epoch (off to overfit one fixed batch).
        predict_path: Inputs for ``predict``: a CSV file of feature columns, or a folder of images.
    """

    def __init__(
        self,
        csv_path: Path | None = None,
        image_dir: Path | None = None,
        label_column: str = "label",
        image_size: int = 8,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 42,
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool = False,
        shuffle: bool = True,
        predict_path: Path | None = None,
    ) -> None:
        super().__init__()
        if csv_path is not None and image_dir is not None:
            raise DataError("set csv_path or image_dir, not both")
        self.save_hyperparameters()
        self.csv_path = csv_path
        self.image_dir = image_dir
        self.label_column = label_column
        self.image_size = image_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.shuffle = shuffle
        self.predict_path = predict_path
        self.splits: dict[str, TensorDataset] = {}
        self.predict_sources: list[str] = []  # where each prediction's input came from, in order
        self._resume: tuple[int, int] | None = None  # from a checkpoint: (epoch, batches trained in it)
        self._train_sampler: ResumableSampler | None = None

    @cached_property
    def source(self) -> LabelledData:
        """All examples, read once; the model's input and output sizes come from here."""
        if self.csv_path is not None:
            return load_csv(Path(self.csv_path), self.label_column)
        if self.image_dir is not None:
            return load_image_folder(Path(self.image_dir), self.image_size)
        return load_bundled_digits()

    @property
    def num_features(self) -> int:
        """Length of one example's feature vector."""
        return int(self.source.features.shape[1])

    @property
    def num_classes(self) -> int:
        """Number of distinct labels."""
        return len(self.source.class_names)

    @property
    def class_names(self) -> list[str]:
        """Label names in index order."""
        return list(self.source.class_names)

    def setup(self, stage: str) -> None:
        """Split the examples; CSV features are standardised with training-set statistics only."""
        if stage == "predict":
            self._setup_predict()
        if "train" in self.splits:
            return
        data = self.source
        train, val, test = split_indices(data.labels, self.val_fraction, self.test_fraction, self.split_seed)
        features = self._standardise(data.features, data.features[train])
        for name, rows in (("train", train), ("val", val), ("test", test)):
            self.splits[name] = TensorDataset(
                torch.from_numpy(features[rows]), torch.from_numpy(data.labels[rows])
            )

    def train_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Training batches, shuffled unless ``shuffle`` is off; the order follows ``seed_everything``."""
        return self._loader("train", shuffle=self.shuffle)

    def val_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Validation batches in a fixed order."""
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Test batches in a fixed order."""
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Batches of ``predict_path``'s inputs, in file order."""
        return self._loader("predict", shuffle=False)

    def _setup_predict(self) -> None:
        if self.predict_path is None:
            raise DataError("predict needs inputs: set --data.predict_path to a CSV file or an image folder")
        path = Path(self.predict_path)
        features, self.predict_sources = load_inputs(path, self.image_size, self.label_column)
        if features.shape[1] != self.num_features:
            raise DataError(
                f"{path}: {features.shape[1]} features an input; the model takes {self.num_features}"
            )
        data = self.source
        train, _, _ = split_indices(data.labels, self.val_fraction, self.test_fraction, self.split_seed)
        inputs = self._standardise(features, data.features[train])
        self.splits["predict"] = TensorDataset(torch.from_numpy(inputs))

    def _standardise(self, features: Features, train_rows: Features) -> Features:
        """CSV columns standardised with the training rows' statistics; images and digits as they are.

        A table's columns can have any scale; statistics of the training rows alone keep validation, test
        and new rows unseen. Images and digits keep their fixed [0, 1] scale.
        """
        if self.csv_path is None:
            return features
        mean = train_rows.mean(axis=0)
        std = train_rows.std(axis=0)
        standardised: Features = ((features - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
        return standardised

    def _loader(self, split: str, shuffle: bool) -> DataLoader[tuple[torch.Tensor, ...]]:
        dataset = self.splits[split]
        # seed_everything has seeded torch alike in every process: each draws the same training order and
        # takes its own share of it. The loaders' own generator keeps them from drawing on the global random
        # state, so that dropout draws the same numbers whether or not a run was stopped and resumed.
        seed = torch.initial_seed()
        options: dict[str, Any] = {
            "num_workers": self.num_workers,
            "persistent_workers": self.num_workers > 0,
            "pin_memory": self.pin_memory,
            "generator": torch.Generator().manual_seed(seed),
        }
        if split == "train":
            sampler = ResumableSampler(dataset, self.batch_size, shuffle, seed, **self._replicas())
            if self._resume is not None:
                sampler.resume_at(*self._resume)
            self._train_sampler = sampler
            return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, **options)
        several = distributed.is_initialized() and distributed.get_world_size() > 1
        # Scores must count each example once; Lightning keeps a sampler that is already distributed.
        evenly = EvenlySplitSampler(dataset) if several and split in ("test", "predict") else None
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, sampler=evenly, **options)

    def _replicas(self) -> dict[str, int]:
        """This process's share of the training data: how many shares there are, and which one is its."""
        strategy = self.trainer.strategy if self.trainer is not None else None
        shares = getattr(strategy, "distributed_sampler_kwargs", None)  # only parallel strategies have it
        if not shares:
            return {"num_replicas": 1, "rank": 0}
        return {"num_replicas": int(shares["num_replicas"]), "rank": int(shares["rank"])}

    def state_dict(self) -> dict[str, int]:
        """Saved with every checkpoint: the epoch under way and the batches of it already trained on."""
        if self.trainer is None:
            return {}
        progress = self.trainer.fit_loop.epoch_loop.batch_progress.current
        # "processed": batches whose optimizer step is done (the attribute is declared on a subclass).
        return {"epoch": self.trainer.current_epoch, "batches": int(progress.processed)}  # type: ignore[attr-defined]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """On resume, before training starts: continue the epoch with the first batch not yet trained on."""
        if "epoch" not in state_dict:
            return
        self._resume = (int(state_dict["epoch"]), int(state_dict["batches"]))
        if self._train_sampler is not None:
            self._train_sampler.resume_at(*self._resume)
