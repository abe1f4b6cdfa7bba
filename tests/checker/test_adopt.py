"""`fsdl-check adopt` on repositories shaped like real ones, then `copier update` across a later release.

Fixtures: a single-script research repo; a Hydra-based Lightning repo in the style of lightning-hydra-template
(`src/` is itself a package, Hydra config groups, a Makefile, CI); a notebook-heavy course repo (lesson folders of
notebooks, a small helper package, no CI). Each is built here with a real git history. The template repository
with releases comes from tests/template/test_update.py: every earlier release (tags, or the commits CHANGELOG.md
names), the working tree, and a synthetic release after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path
from textwrap import dedent
from typing import Any

import copier
import pytest
import yaml

from fsdl_check import adopt
from fsdl_check.cli import main as cli_main
from fsdl_check.repo import Repo

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "template"))
import test_update  # noqa: E402  (the template repository with releases, and its version names)

SCRIPTS = Path(sysconfig.get_path("scripts"))
AUTHOR = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org"}
OLDEST, WORKING, LATER = test_update.RELEASES[0][0], test_update.WORKING_VERSION, test_update.MOVED_VERSION
template_repo = test_update.template_repo  # the module-scoped fixture, built once for this module

SCRIPT_REPO = {
    "train.py": (
        "import argparse\n\nimport torch\nfrom torch import nn\n\n\ndef main() -> None:\n"
        "    parser = argparse.ArgumentParser()\n    parser.add_argument('--lr', type=float, default=0.01)\n"
        "    args = parser.parse_args()\n    torch.manual_seed(0)\n    model = nn.Linear(784, 10)\n"
        "    torch.optim.SGD(model.parameters(), lr=args.lr)\n\n\nif __name__ == '__main__':\n    main()\n"
    ),
    "requirements.txt": "torch==2.3.1\nnumpy==1.26.4\n",
    "README.md": "# MNIST baseline\n\nA linear model.\n",
}


def notebook(*cells: str) -> str:
    return (
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "metadata": {},
                        "outputs": [],
                        "source": cell.splitlines(keepends=True),
                    }
                    for cell in cells
                ],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4,
                "nbformat_minor": 5,
            },
            indent=1,
        )
        + "\n"
    )


HYDRA_REPO = {
    "README.md": dedent(
        """\
        <div align="center">

        # Lightning-Hydra MNIST

        </div>

        Train with `python src/train.py experiment=example`.
        """
    ),
    "pyproject.toml": dedent(
        """\
        [tool.pytest.ini_options]
        addopts = ["--color=yes", "--durations=0", "--strict-markers"]
        markers = ["slow: slow tests"]

        [tool.coverage.report]
        exclude_lines = ["pragma: nocover"]
        """
    ),
    "setup.py": dedent(
        """\
        from setuptools import find_packages, setup

        setup(
            name="lightning-hydra-mnist",
            version="0.0.1",
            description="MNIST with Lightning and Hydra",
            packages=find_packages(),
        )
        """
    ),
    "requirements.txt": dedent(
        """\
        torch>=2.0.0
        torchvision>=0.15.0
        lightning>=2.0.0
        torchmetrics>=0.11.4
        hydra-core==1.3.2
        hydra-colorlog==1.2.0
        hydra-optuna-sweeper==1.2.0
        wandb
        rootutils
        pre-commit
        rich
        pytest
        """
    ),
    ".project-root": "",
    ".gitignore": dedent(
        """\
        __pycache__/
        *.py[cod]
        .venv/
        /data/
        /logs/
        .env
        """
    ),
    ".pre-commit-config.yaml": dedent(
        """\
        repos:
          - repo: https://github.com/pre-commit/pre-commit-hooks
            rev: v4.4.0
            hooks:
              - id: trailing-whitespace
              - id: end-of-file-fixer
          - repo: https://github.com/psf/black
            rev: 23.1.0
            hooks:
              - id: black
        """
    ),
    "Makefile": dedent(
        """\
        help:  ## Show help
        \t@grep -E '^[.a-zA-Z_-]+:.*?## .*$$' $(MAKEFILE_LIST)

        test: ## Run not slow tests
        \tpytest -k "not slow"

        train: ## Train the model
        \tpython src/train.py
        """
    ),
    ".github/workflows/test.yml": dedent(
        """\
        name: Tests

        on:
          push:
            branches: [main]
          pull_request:

        jobs:
          run_tests:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python-version: ["3.9", "3.10"]
            steps:
              - uses: actions/checkout@v3
              - uses: actions/setup-python@v3
                with:
                  python-version: ${{ matrix.python-version }}
              - run: pip install -r requirements.txt
              - run: pytest -v
        """
    ),
    "configs/__init__.py": dedent(
        """\
        # this file is needed here to include configs when building project as a package
        """
    ),
    "configs/train.yaml": dedent(
        """\
        # @package _global_

        defaults:
          - _self_
          - data: mnist
          - model: mnist
          - callbacks: default
          - logger: null
          - trainer: default
          - paths: default
          - hydra: default
          - experiment: null
          - hparams_search: null

        task_name: "train"
        tags: ["dev"]
        train: True
        test: True
        seed: null
        """
    ),
    "configs/eval.yaml": dedent(
        """\
        # @package _global_

        defaults:
          - _self_
          - data: mnist
          - model: mnist

        task_name: "eval"
        ckpt_path: ???
        """
    ),
    "configs/data/mnist.yaml": dedent(
        """\
        _target_: src.data.mnist_datamodule.MNISTDataModule
        data_dir: ${paths.data_dir}
        batch_size: 128
        """
    ),
    "configs/model/mnist.yaml": dedent(
        """\
        _target_: src.models.mnist_module.MNISTLitModule

        optimizer:
          _target_: torch.optim.Adam
          _partial_: true
          lr: 0.001

        net:
          _target_: src.models.components.simple_dense_net.SimpleDenseNet
          input_size: 784
        """
    ),
    "configs/trainer/default.yaml": dedent(
        """\
        _target_: lightning.pytorch.trainer.Trainer
        default_root_dir: ${paths.output_dir}
        min_epochs: 1
        max_epochs: 10
        accelerator: cpu
        devices: 1
        """
    ),
    "configs/trainer/ddp.yaml": dedent(
        """\
        defaults:
          - default

        strategy: ddp
        accelerator: gpu
        devices: 4
        """
    ),
    "configs/callbacks/default.yaml": dedent(
        """\
        model_checkpoint:
          _target_: lightning.pytorch.callbacks.ModelCheckpoint
          dirpath: ${paths.output_dir}/checkpoints
          monitor: "val/acc"
        """
    ),
    "configs/logger/wandb.yaml": dedent(
        """\
        wandb:
          _target_: lightning.pytorch.loggers.wandb.WandbLogger
          project: "lightning-hydra-mnist"
        """
    ),
    "configs/logger/csv.yaml": dedent(
        """\
        csv:
          _target_: lightning.pytorch.loggers.csv_logs.CSVLogger
          save_dir: "${paths.output_dir}"
        """
    ),
    "configs/paths/default.yaml": dedent(
        """\
        root_dir: ${oc.env:PROJECT_ROOT}
        data_dir: ${paths.root_dir}/data/
        log_dir: ${paths.root_dir}/logs/
        output_dir: ${hydra:runtime.output_dir}
        """
    ),
    "configs/hydra/default.yaml": dedent(
        """\
        run:
          dir: ${paths.log_dir}/${task_name}/runs/${now:%Y-%m-%d}_${now:%H-%M-%S}
        """
    ),
    "configs/experiment/example.yaml": dedent(
        """\
        # @package _global_

        defaults:
          - override /data: mnist

        seed: 12345
        trainer:
          max_epochs: 10
        """
    ),
    "configs/hparams_search/mnist_optuna.yaml": dedent(
        """\
        # @package _global_

        defaults:
          - override /hydra/sweeper: optuna

        optimized_metric: "val/acc_best"
        hydra:
          mode: "MULTIRUN"
          sweeper:
            _target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper
            n_trials: 20
            params:
              model.optimizer.lr: interval(0.0001, 0.1)
        """
    ),
    "scripts/schedule.sh": dedent(
        """\
        #!/bin/bash
        # Schedule execution of many runs
        python src/train.py trainer.max_epochs=5 logger=csv
        """
    ),
    "src/__init__.py": "",
    "src/train.py": dedent(
        """\
        from typing import Any, Dict, List, Optional, Tuple

        import hydra
        import lightning as L
        import rootutils
        from lightning import Callback, LightningDataModule, LightningModule, Trainer
        from omegaconf import DictConfig

        rootutils.setup_root(__file__, indicator=".project-root", pythonpath=True)

        from src.utils import instantiate_callbacks


        def train(cfg: DictConfig) -> Tuple[Dict[str, Any], Dict[str, Any]]:
            if cfg.get("seed"):
                L.seed_everything(cfg.seed, workers=True)
            datamodule: LightningDataModule = hydra.utils.instantiate(cfg.data)
            model: LightningModule = hydra.utils.instantiate(cfg.model)
            callbacks: List[Callback] = instantiate_callbacks(cfg.get("callbacks"))
            trainer: Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks)
            if cfg.get("train"):
                trainer.fit(model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
            return trainer.callback_metrics, {}


        @hydra.main(version_base="1.3", config_path="../configs", config_name="train.yaml")
        def main(cfg: DictConfig) -> Optional[float]:
            metric_dict, _ = train(cfg)
            return None


        if __name__ == "__main__":
            main()
        """
    ),
    "src/eval.py": dedent(
        """\
        import hydra
        from omegaconf import DictConfig


        @hydra.main(version_base="1.3", config_path="../configs", config_name="eval.yaml")
        def main(cfg: DictConfig) -> None:
            hydra.utils.instantiate(cfg.model)


        if __name__ == "__main__":
            main()
        """
    ),
    "src/data/__init__.py": "",
    "src/data/mnist_datamodule.py": dedent(
        """\
        from typing import Optional

        import torch
        from lightning import LightningDataModule
        from torch.utils.data import DataLoader, Dataset, random_split
        from torchvision.datasets import MNIST


        class MNISTDataModule(LightningDataModule):
            def __init__(self, data_dir: str = "data/", batch_size: int = 64) -> None:
                super().__init__()
                self.save_hyperparameters(logger=False)

            def prepare_data(self) -> None:
                MNIST(self.hparams.data_dir, train=True, download=True)

            def train_dataloader(self) -> DataLoader:
                return DataLoader(MNIST(self.hparams.data_dir), batch_size=self.hparams.batch_size)
        """
    ),
    "src/models/__init__.py": "",
    "src/models/mnist_module.py": dedent(
        """\
        import torch
        from lightning import LightningModule


        class MNISTLitModule(LightningModule):
            def __init__(self, net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
                super().__init__()
                self.net = net

            def training_step(self, batch, batch_idx):
                x, y = batch
                return torch.nn.functional.cross_entropy(self.net(x), y)

            def configure_optimizers(self):
                return self.hparams.optimizer(params=self.parameters())
        """
    ),
    "src/models/components/__init__.py": "",
    "src/models/components/simple_dense_net.py": dedent(
        """\
        from torch import nn


        class SimpleDenseNet(nn.Module):
            def __init__(self, input_size: int = 784) -> None:
                super().__init__()
                self.model = nn.Sequential(nn.Linear(input_size, 10))

            def forward(self, x):
                return self.model(x.view(x.size(0), -1))
        """
    ),
    "src/utils/__init__.py": "from src.utils.instantiators import instantiate_callbacks\n",
    "src/utils/instantiators.py": dedent(
        """\
        from typing import List

        import hydra
        from lightning import Callback
        from omegaconf import DictConfig


        def instantiate_callbacks(callbacks_cfg: DictConfig) -> List[Callback]:
            return [hydra.utils.instantiate(cb) for cb in (callbacks_cfg or {}).values() if "_target_" in cb]
        """
    ),
    "tests/__init__.py": "",
    "tests/conftest.py": dedent(
        """\
        import pytest
        from hydra import compose, initialize


        @pytest.fixture(scope="package")
        def cfg_train_global():
            with initialize(version_base="1.3", config_path="../configs"):
                return compose(config_name="train.yaml", return_hydra_config=True)
        """
    ),
    "tests/test_train.py": dedent(
        """\
        import pytest

        from src.train import train


        @pytest.mark.slow
        def test_train_fast_dev_run(cfg_train_global) -> None:
            cfg_train_global.trainer.fast_dev_run = True
            train(cfg_train_global)
        """
    ),
    "tests/test_datamodules.py": dedent(
        """\
        from src.data.mnist_datamodule import MNISTDataModule


        def test_mnist_datamodule() -> None:
            assert MNISTDataModule(batch_size=32).hparams.batch_size == 32
        """
    ),
    "configs/debug/default.yaml": dedent(
        """\
        # @package _global_

        task_name: "debug"
        trainer:
          max_epochs: 1
          detect_anomaly: true
        """
    ),
}
# Downloaded data the .gitignore keeps out of git: on disk, not tracked.
HYDRA_IGNORED = {"data/MNIST/raw/t10k-labels-idx1-ubyte": "\x00\x00\x08\x01"}

COURSE_FILES = {
    "README.md": dedent(
        """\
        # Deep Learning from Scratch: the course

        Open the lessons in order; each folder is one week.
        """
    ),
    "LICENSE": dedent(
        """\
        MIT License

        Copyright (c) 2023 Ada Lovelace

        Permission is hereby granted, free of charge, to any person obtaining a copy
        of this software.
        """
    ),
    "requirements.txt": dedent(
        """\
        torch==2.3.1
        torchvision==0.18.1
        matplotlib==3.9.0
        jupyterlab==4.2.2
        tensorboard==2.17.0
        """
    ),
    ".gitignore": dedent(
        """\
        .ipynb_checkpoints/
        __pycache__/
        data/
        """
    ),
    "course_utils/__init__.py": '"""Helpers the lessons share."""\n',
    "course_utils/plotting.py": dedent(
        """\
        import matplotlib.pyplot as plt


        def show_images(images, labels):
            fig, axes = plt.subplots(1, len(images))
            for ax, im, lab in zip(axes, images, labels):
                ax.imshow(im)
                ax.set_title(lab)
            return fig
        """
    ),
    "course_utils/data.py": dedent(
        """\
        from torchvision import datasets, transforms


        def mnist(root='data'):
            return datasets.MNIST(root, download=True, transform=transforms.ToTensor())
        """
    ),
}
COURSE_NOTEBOOKS = {
    f"lesson{number:02d}_{topic}/{name}.ipynb": notebook(
        "import sys\nsys.path.append('..')\nimport torch\nfrom course_utils.data import mnist",
        f"# {topic}: {name}\nds = mnist('../data')\nlen(ds)",
    )
    for number, topic in enumerate(("tensors", "autograd", "mlp", "cnn", "training"), start=1)
    for name in ("lecture", "exercises")
}
COURSE_NOTEBOOKS["lesson05_training/tensorboard.ipynb"] = notebook(
    "from torch.utils.tensorboard import SummaryWriter\nwriter = SummaryWriter('runs/lesson05')"
)
COURSE_NOTEBOOKS["notebooks/appendix_gpu.ipynb"] = notebook("import torch\ntorch.cuda.is_available()")
COURSE_REPO = {**COURSE_FILES, **COURSE_NOTEBOOKS}


CLASH_REPO = {
    "pyproject.toml": dedent(
        """\
        [project]
        name = "speechnet"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = ["torch==2.3.1", "lightning==2.3.3"]
        """
    ),
    "README.md": "# speechnet\n\nKeyword spotting.\n",
    "src/speechnet/__init__.py": "",
    "src/speechnet/data/__init__.py": "from speechnet.data.loaders import loader\n",
    "src/speechnet/data/loaders.py": "def loader(batch_size: int = 32) -> list[int]:\n    return [batch_size]\n",
    "src/speechnet/model.py": "import torch\n\n\nclass Net(torch.nn.Module):\n    pass\n",
    "tools.py": "def plot_waveform() -> None:\n    pass\n",
}


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **AUTHOR, "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env).stdout


def make(tmp_path: Path, name: str, files: dict[str, str], ignored: dict[str, str] | None = None) -> Path:
    root = tmp_path / name
    for rel, text in {**files, **(ignored or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    assert tracked(root) == set(files)  # what .gitignore keeps out is on disk only
    return root


def tracked(root: Path) -> set[str]:
    return set(git(root, "ls-files", "-z").split("\0")) - {""}


def sums(root: Path) -> dict[str, str]:
    """sha256 of every file on disk (tracked or not), .git left out."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def findings(root: Path, tmp_path: Path) -> int:
    out = tmp_path / f"{root.name}-{len(list(tmp_path.glob('*.json')))}.json"
    cli_main(["--format", "json", "--no-cache", "--exit-zero", "-o", str(out), str(root)])
    return int(json.loads(out.read_text())["summary"]["findings"])


def recorded(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


def commit_adoption(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Adopt fsdl-stack")


def copier_update(root: Path, ref: str) -> subprocess.CompletedProcess[str]:
    """`copier update` as a user runs it in the project (--trust: the later release carries a migration)."""
    command = [str(SCRIPTS / "copier"), "update", "--defaults", "--trust", "--vcs-ref", ref]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, timeout=300)


def assert_untouched(root: Path, before: dict[str, str]) -> None:
    now = sums(root)
    changed = sorted(rel for rel, digest in before.items() if now.get(rel) != digest)
    assert not changed, f"adopt or the update changed the user's {changed}"


def test_single_script_repo_is_adopted_and_updates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make(tmp_path, "mnist-baseline", SCRIPT_REPO)
    inferred = {k: a.value for k, a in adopt.infer(Repo(root)).items()}
    assert inferred["project_slug"] == "mnist-baseline" and inferred["package_name"] == "mnist_baseline"
    assert inferred["project_name"] == "MNIST baseline" and inferred["author_email"] == "ada@example.org"
    assert (inferred["tracker"], inferred["ci"], inferred["container"]) == ("mlflow", "none", "none")
    assert (inferred["slurm"], inferred["kubernetes"], inferred["sweeps"]) == (False, False, False)
    assert (inferred["python_version"], inferred["license"]) == ("3.11", "proprietary")

    before, found_before = sums(root), findings(root, tmp_path)
    assert adopt.main([str(root), "--template", str(REPO_ROOT), "--vcs-ref", "HEAD", "--dry-run"]) == 0
    assert sums(root) == before  # a dry run writes nothing
    assert adopt.main([str(root), "--template", str(REPO_ROOT), "--vcs-ref", "HEAD"]) == 0
    after = sums(root)
    assert {k: after[k] for k in before} == before  # no existing file changed
    assert (root / "Makefile").is_file() and (root / "src/mnist_baseline/cli.py").is_file()
    answers = (root / ".copier-answers.yml").read_text()
    assert "adopted_files:\n- README.md" in answers
    assert findings(root, tmp_path) < found_before
    capsys.readouterr()

    git(root, "add", "-A")
    git(root, "commit", "-qm", "adopt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            str(root),
            defaults=True,
            overwrite=True,
            unsafe=False,
            quiet=True,
            vcs_ref=git(REPO_ROOT, "rev-parse", "HEAD").strip(),
        )
    assert not list(root.rglob("*.rej"))
    assert {k: sums(root)[k] for k in before} == before
    assert not any("<<<<<<<" in (root / k).read_text() for k in before)


def test_refusals_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert adopt.main([str(plain), "--template", str(REPO_ROOT)]) == 2
    assert "not a git work tree" in capsys.readouterr().err
    root = make(tmp_path, "made", {**SCRIPT_REPO, ".copier-answers.yml": "_commit: v0.1.0\n"})
    assert adopt.main([str(root), "--template", str(REPO_ROOT)]) == 2
    assert "already records a template" in capsys.readouterr().err
    assert adopt.main([str(root), "-d", "colour=blue"]) == 2
    assert "not a question" in capsys.readouterr().err
    assert adopt.main(["--help"]) == 0


FIXTURES: dict[str, tuple[dict[str, str], dict[str, str], dict[str, Any]]] = {
    "lightning-hydra-mnist": (
        HYDRA_REPO,
        HYDRA_IGNORED,
        # src/ is itself a package (`from src.data import ...`): its subpackages are not the template's package.
        {"package_name": "lightning_hydra_mnist", "tracker": "wandb", "ci": "github", "python_version": "3.11"},
    ),
    "dl-course": (
        COURSE_REPO,
        {},
        # The top-level helper package stays the lessons' own: the template's package gets another name.
        {"package_name": "dl_course", "tracker": "tensorboard", "ci": "none", "license": "MIT"},
    ),
}


@pytest.mark.parametrize("name", FIXTURES)
def test_adopt_then_update_across_a_later_release(
    name: str, template_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, ignored, expected = FIXTURES[name]
    root = make(tmp_path, name, files, ignored)
    inferred = {k: a.value for k, a in adopt.infer(Repo(root)).items()}
    assert {k: inferred[k] for k in expected} == expected
    before, found_before = sums(root), findings(root, tmp_path)

    assert adopt.main([str(root), "--template", str(template_repo), "--vcs-ref", WORKING]) == 0
    out = capsys.readouterr().out
    assert_untouched(root, before)
    package = expected["package_name"]
    created = set(sums(root)) - set(before)
    assert {".copier-answers.yml", f"src/{package}/cli.py", "configs/default.yaml", "tools/environment.py"} <= created
    if name == "lightning-hydra-mnist":  # the template's configs/model/wide.yaml would join the Hydra group `model`
        assert "configs/model/wide.yaml" not in created and "configs/model/wide.yaml" in recorded(root)["adopted_files"]
        assert "  skip    configs/model/wide.yaml  (not created: configs/model/ is a config group of your Hydra " in out
        assert "it would offer model=wide; listed under adopted_files)" in out
        assert "\nNote: configs/ holds your Hydra configuration; the template's LightningCLI configs are created" in out
        assert out.count("not created") == 2 and "import name" not in out  # the count and the skip line
    else:
        assert "not created" not in out and "Hydra" not in out  # no clash in the other repositories
    adopted = recorded(root)["adopted_files"]
    assert "README.md" in adopted and set(adopted) <= set(before) | {"configs/model/wide.yaml"}  # yours, or a clash
    found_after = findings(root, tmp_path)
    assert found_after < found_before, (found_before, found_after)

    commit_adoption(root)
    done = copier_update(root, LATER)

    assert done.returncode == 0, done.stdout + done.stderr
    test_update.assert_clean(root)
    assert_untouched(root, before)
    assert not any("<<<<<<<" in (root / rel).read_text(errors="replace") for rel in before)
    answers = recorded(root)
    assert answers["_commit"] == LATER and answers["adopted_files"] == adopted
    assert "  max_epochs: 30\n" in (root / "configs" / "default.yaml").read_text()  # the later release arrived
    assert (root / test_update.MOVED_TO).is_file() and not (root / test_update.MOVED_FROM).exists()


def test_the_oldest_release_cannot_be_adopted_and_the_working_tree_updates_cleanly(
    template_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """v0.1.0 predates adopted_files (neither its _exclude nor its answers file knows the list): adopting it would
    render the template's README.md over the user's at every update. Adopt says so; the working tree adopts, and
    the project then updates across the next release."""
    root = make(tmp_path, "mnist-baseline", SCRIPT_REPO)
    before = sums(root)
    assert adopt.main([str(root), "--template", str(template_repo), "--vcs-ref", OLDEST]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "predates fsdl-check adopt" in err and "README.md" in err, err
    assert sums(root) == before  # nothing written

    assert adopt.main([str(root), "--template", str(template_repo), "--vcs-ref", WORKING]) == 0
    assert recorded(root)["_commit"] == WORKING
    commit_adoption(root)
    test_update.update(root, LATER, unsafe=True)
    test_update.assert_clean(root)
    assert_untouched(root, before)
    assert recorded(root)["_commit"] == LATER


def test_a_module_beside_a_package_of_its_name_is_not_created(
    template_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """src/speechnet/data/ is the user's package: the template's src/speechnet/data.py would be the same
    `import speechnet.data`. tools.py is the user's module: the template's tools/ would be the same `import tools`.
    Neither is created, both are listed under adopted_files (so no update creates them), and adopt says so."""
    root = make(tmp_path, "speechnet", CLASH_REPO)
    before = sums(root)

    assert adopt.main([str(root), "--template", str(template_repo), "--vcs-ref", WORKING]) == 0
    out = capsys.readouterr().out
    assert_untouched(root, before)
    assert "skip    src/speechnet/data.py  (not created: src/speechnet/data/ is your package" in out
    assert "skip    tools/environment.py  (not created: tools.py is your module" in out
    assert "2 not created (a name clash)" in out
    assert "Warning: the template's Makefile runs tools/environment.py, which is not created here" in out
    assert not (root / "src" / "speechnet" / "data.py").exists() and not (root / "tools").exists()
    assert (root / "src" / "speechnet" / "cli.py").is_file()  # the rest of the package joins the user's
    adopted = recorded(root)["adopted_files"]
    assert {"src/speechnet/data.py", "tools/environment.py", "src/speechnet/model.py"} <= set(adopted)

    commit_adoption(root)
    done = copier_update(root, LATER)
    assert done.returncode == 0, done.stdout + done.stderr
    test_update.assert_clean(root)
    assert_untouched(root, before)
    assert not (root / "src" / "speechnet" / "data.py").exists() and not (root / "tools").exists()


def test_a_kept_script_the_makefile_runs_is_named(
    template_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user's own tools/environment.py is kept; the template's Makefile runs that path in `make setup`."""
    root = make(tmp_path, "mnist-baseline", {**SCRIPT_REPO, "tools/environment.py": "print('conda env')\n"})
    assert adopt.main([str(root), "--template", str(template_repo), "--vcs-ref", WORKING, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "keep    tools/environment.py  (yours" in out
    assert "Warning: the template's Makefile runs tools/environment.py, which stays yours here" in out


def test_clash_rules(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for rel in ("pkg/__init__.py", "lib/data/loaders.py", "lib/blobs/raw.csv", "helpers.py", "src/__init__.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    creating = {"lib/data.py", "lib/blobs.py", "helpers/a.py", "helpers/notes.md", "src/pkg/cli.py", "new/a.py"}
    assert adopt.clash(root, "lib/data.py", creating) == "lib/data/ is your package of that name"
    assert adopt.clash(root, "lib/blobs.py", creating) is None  # a folder of data files is not a package
    assert "helpers.py is your module" in (adopt.clash(root, "helpers/a.py", creating) or "")
    assert "helpers.py is your module" in (adopt.clash(root, "helpers/notes.md", creating) or "")
    assert adopt.clash(root, "new/a.py", creating) is None
    assert adopt.clash(root, "src/pkg/cli.py", creating) is None  # src/ is a package: src.pkg is not pkg
    (root / "src" / "__init__.py").unlink()  # a src layout: src/pkg/ and the top-level pkg/ are one import name
    assert "your top-level pkg/" in (adopt.clash(root, "src/pkg/cli.py", creating) or "")


def test_a_closed_stdout_ends_the_output_quietly(template_repo: Path, tmp_path: Path) -> None:
    """`fsdl-check adopt | head -1`: the reader goes away; adopt finishes what it started, exits with its own status
    and prints no error. Here the pipe's read end is closed before adopt writes its first line."""
    root = make(tmp_path, "mnist-baseline", SCRIPT_REPO)
    before = sums(root)
    command = [sys.executable, "-m", "fsdl_check", "adopt", str(root), "--template", str(template_repo)]
    process = subprocess.Popen(
        [*command, "--vcs-ref", WORKING], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=300) == 0, err
    assert err == ""
    assert (root / ".copier-answers.yml").is_file()
    assert_untouched(root, before)


def test_only_a_group_of_a_hydra_configuration_keeps_the_templates_yaml_out(tmp_path: Path) -> None:
    """configs/model/ is a Hydra config group only where configs/ holds a primary config with a defaults list; a
    plain folder of YAML files (LightningCLI's, say) takes the template's files beside its own."""
    from pathlib import PurePosixPath

    (tmp_path / "configs" / "model").mkdir(parents=True)
    (tmp_path / "configs" / "model" / "small.yaml").write_text("hidden: 32\n")
    (tmp_path / "configs" / "train.yaml").write_text("trainer:\n  max_epochs: 3\n")
    wide = PurePosixPath("configs/model/wide.yaml")
    assert adopt.hydra_group(tmp_path, wide) is None
    (tmp_path / "configs" / "train.yaml").write_text("defaults:  # Hydra's\n  - model: small\n  - _self_\n")
    assert adopt.hydra_group(tmp_path, wide) == "model"
    assert adopt.hydra_group(tmp_path, PurePosixPath("configs/strategy/ddp.yaml")) is None  # not a group of theirs
    assert adopt.hydra_group(tmp_path, PurePosixPath("configs/default.yaml")) is None  # beside, not inside a group
