import csv
import multiprocessing
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import distributed

from {{ cookiecutter.package_name }}.data import ClassificationData, image_to_features, split_indices


def test_bundled_digits_batches_have_the_expected_shape_and_scale() -> None:
    data = ClassificationData(batch_size=32)
    data.setup("fit")

    features, labels = next(iter(data.train_dataloader()))

    assert features.shape == (32, 64)
    assert features.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert 0.0 <= float(features.min()) <= float(features.max()) <= 1.0
    assert (data.num_features, data.num_classes) == (64, 10)
    assert data.class_names == [str(digit) for digit in range(10)]
    assert sum(len(split) for split in data.splits.values()) == 1797


def test_split_is_fixed_by_its_seed_disjoint_and_complete() -> None:
    labels = np.repeat(np.arange(4), 25)

    first = split_indices(labels, val_fraction=0.2, test_fraction=0.2, seed=7)
    again = split_indices(labels, val_fraction=0.2, test_fraction=0.2, seed=7)
    other = split_indices(labels, val_fraction=0.2, test_fraction=0.2, seed=8)

    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[2], other[2])
    train, val, test = (set(part.tolist()) for part in first)
    assert len(train) + len(val) + len(test) == len(train | val | test) == 100
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    # Stratified: each class keeps its share in the held-out sets.
    assert np.bincount(labels[first[2]]).tolist() == [5, 5, 5, 5]


def test_data_module_splits_are_reproducible() -> None:
    first, second = ClassificationData(split_seed=3), ClassificationData(split_seed=3)
    first.setup("fit")
    second.setup("fit")

    for name in ("train", "val", "test"):
        assert torch.equal(first.splits[name].tensors[1], second.splits[name].tensors[1])
        assert torch.equal(first.splits[name].tensors[0], second.splits[name].tensors[0])


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def test_csv_loader_encodes_labels_and_standardises_with_training_statistics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows: list[list[object]] = [["weight_g", "label", "length_cm"]]
    for species, weight in (("emu", 40_000.0), ("cat", 4_000.0), ("dog", 20_000.0)):
        rows += [[weight + rng.normal(0, 500), species, rng.normal(50, 5)] for _ in range(20)]
    data = ClassificationData(csv_path=write_csv(tmp_path / "animals.csv", rows), batch_size=8)

    data.setup("fit")

    assert data.class_names == ["cat", "dog", "emu"]
    assert data.num_features == 2
    train_features = data.splits["train"].tensors[0]
    assert torch.allclose(train_features.mean(dim=0), torch.zeros(2), atol=1e-4)
    assert torch.allclose(train_features.std(dim=0, unbiased=False), torch.ones(2), atol=1e-3)
    features, labels = next(iter(data.val_dataloader()))
    assert features.shape == (8, 2)
    assert set(labels.tolist()) <= {0, 1, 2}


def test_csv_loader_names_a_missing_label_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "data.csv", [["a", "b"], [1, 2]])

    with pytest.raises(ValueError, match="no column 'label'"):
        _ = ClassificationData(csv_path=path).num_features


def test_csv_loader_points_at_a_non_numeric_feature(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "data.csv", [["a", "label"], [1, "x"], ["oops", "y"]])

    with pytest.raises(ValueError, match=r"data\.csv:3: every feature column must hold a number"):
        _ = ClassificationData(csv_path=path).num_features


def test_image_folder_loader_reads_one_class_per_subfolder(tmp_path: Path) -> None:
    for class_name, grey in (("dark", 20), ("light", 230)):
        (tmp_path / class_name).mkdir()
        for i in range(10):
            Image.new("RGB", (16, 16), (grey, grey, grey)).save(tmp_path / class_name / f"{i}.png")
    (tmp_path / "light" / "notes.txt").write_text("not an image")
    data = ClassificationData(image_dir=tmp_path, image_size=4, val_fraction=0.2, test_fraction=0.2)

    data.setup("fit")

    assert data.class_names == ["dark", "light"]
    assert data.num_features == 16
    features, labels = data.splits["train"].tensors
    assert len(labels) == 12
    assert torch.all(features[labels == 0] < 0.1)
    assert torch.all(features[labels == 1] > 0.9)


def test_image_folder_without_images_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty_class").mkdir()

    with pytest.raises(ValueError, match="no images found"):
        _ = ClassificationData(image_dir=tmp_path).num_classes


def test_image_to_features_scales_and_inverts() -> None:
    ink_on_paper = Image.new("L", (32, 32), 255)
    ink_on_paper.paste(0, (0, 0, 16, 32))  # left half black

    plain = image_to_features(ink_on_paper, image_size=2)
    inverted = image_to_features(ink_on_paper, image_size=2, invert=True)

    assert plain.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert inverted.tolist() == [1.0, 0.0, 1.0, 0.0]


def test_only_one_data_source_can_be_set(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        ClassificationData(csv_path=tmp_path / "a.csv", image_dir=tmp_path)


def _test_indices(rank: int, world_size: int, port: int, seen: "multiprocessing.Queue[list[int]]") -> None:
    """One process of a gloo group: the test indices its loader yields, batch by batch."""
    address = f"tcp://127.0.0.1:{port}"
    distributed.init_process_group("gloo", init_method=address, rank=rank, world_size=world_size)
    try:
        data = ClassificationData(batch_size=16)
        data.setup("test")
        loader = data.test_dataloader()
        indices = [int(i) for i in loader.sampler]
        assert sum(len(labels) for _, labels in loader) == len(indices)
        seen.put(indices)
    finally:
        distributed.destroy_process_group()


def test_test_split_is_shared_across_processes_without_repeats() -> None:
    """Under DDP every test example is scored once; PyTorch's default sampler repeats 2 of the 270 here."""
    context = multiprocessing.get_context("spawn")
    seen: multiprocessing.Queue[list[int]] = context.Queue()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    workers = [context.Process(target=_test_indices, args=(rank, 4, port, seen)) for rank in range(4)]
    for worker in workers:
        worker.start()
    shares = [seen.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    data = ClassificationData(batch_size=16)
    data.setup("test")
    assert sorted(i for share in shares for i in share) == list(range(len(data.splits["test"])))
