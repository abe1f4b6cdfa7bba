"""RP rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

User paths in this file are assembled at run time so that the file itself holds none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

ALICE = "/" + "home/alice"
BOB_MAC = "/" + "Users/bob"
CAROL_WIN = "C:" + "\\\\Users\\\\carol"  # as written inside a Python string literal

UNSEEDED = """\
import lightning as L

from pkg.model import Model


def main() -> None:
    trainer = L.Trainer(max_epochs=3)
    trainer.fit(Model())
"""
CLI = """\
from lightning.pytorch.cli import LightningCLI


def main() -> None:
    LightningCLI(save_config_kwargs={"overwrite": True})
"""
CLI_SUBCLASS = """\
from lightning.pytorch.cli import LightningCLI


class TrainCLI(LightningCLI):
    pass


def train() -> None:
    cli = TrainCLI({default}run=False)
    cli.trainer.fit(cli.model)
"""
RAW_LOOP = """\
import torch

{seed}
model = torch.nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    loss = model(torch.randn(4, 1)).pow(2).mean()
    loss.backward()
    optimizer.step()
"""


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


# -- RP001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"src/pkg/train.py": UNSEEDED}, [("src/pkg/train.py", 7)]),
        ({"train.py": RAW_LOOP.format(seed="")}, [("train.py", 6)]),
        ({"src/pkg/cli.py": CLI}, [("src/pkg/cli.py", 5)]),
        (
            {"src/pkg/cli.py": CLI, "configs/default.yaml": "seed_everything: true\ntrainer: {}\n"},
            [("src/pkg/cli.py", 5)],
        ),
        ({"configs/fit.yaml": "trainer:\n  max_epochs: 1\nmodel: {}\n"}, [("configs/fit.yaml", 1)]),
        ({"src/pkg/cli.py": CLI_SUBCLASS.format(default="")}, [("src/pkg/cli.py", 9)]),
        ({"loop.py": "from mylib import Trainer\n\ntrainer = Trainer()\ntrainer.train()\n"}, [("loop.py", 4)]),
    ],
)
def test_unseeded_entry_points(make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int]]) -> None:
    assert where(run("RP001", make_repo(files))) == expected


@pytest.mark.parametrize(
    "files",
    [
        {
            "src/pkg/train.py": UNSEEDED.replace(
                "    trainer =", "    L.seed_everything(42, workers=True)\n    trainer ="
            )
        },
        {"train.py": RAW_LOOP.format(seed="torch.manual_seed(0)")},
        {"train.py": RAW_LOOP.format(seed="import numpy as np\nnp.random.seed(0)")},
        {"train.py": RAW_LOOP.format(seed="from transformers import set_seed\nset_seed(1)")},
        {"train.py": RAW_LOOP.format(seed="rng = __import__('numpy').random.default_rng(7)")},
        # seeded in a module of the project that the entry point imports (absolute, src layout, and relative)
        {"src/pkg/train.py": UNSEEDED, "src/pkg/model.py": "import torch\n\ntorch.manual_seed(3)\n"},
        {
            "src/pkg/train.py": UNSEEDED.replace("from pkg.model", "from .utils import seed\nfrom pkg.model"),
            "src/pkg/utils.py": "import random\n\n\ndef seed() -> None:\n    random.seed(0)\n",
        },
        {"src/pkg/cli.py": CLI, "configs/default.yaml": "seed_everything: 1234\ntrainer: {}\nmodel: {}\n"},
        {"src/pkg/cli.py": CLI.replace("save_config_kwargs", "seed_everything_default=7, save_config_kwargs")},
        {"src/pkg/cli.py": CLI_SUBCLASS.format(default="seed_everything_default=42, ")},
        {"src/pkg/cli.py": CLI_SUBCLASS.format(default=""), "configs/default.yaml": "seed_everything: 3\n"},
        {"configs/fit.yaml": "seed_everything: 0\ntrainer:\n  max_epochs: 1\nmodel: {}\n"},
        {"finetune.py": "from transformers import Trainer\n\ntrainer = Trainer(model=m, args=a)\ntrainer.train()\n"},
        {"src/pkg/library.py": "def f() -> int:\n    return 1\n"},  # no entry point: nothing to seed
    ],
)
def test_seeded_entry_points(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("RP001", make_repo(files)) == []


@pytest.mark.parametrize("call", ["default_rng()", "default_rng(seed=None)", "Generator(PCG64())"])
def test_rp001_an_unseeded_generator_is_not_a_seed(make_repo: MakeRepo, call: str) -> None:
    files = {"train.py": RAW_LOOP.format(seed=f"import numpy as np\nrng = np.random.{call}")}
    assert where(run("RP001", make_repo(files))) == [("train.py", 7)]


def test_rp001_a_helper_module_that_notebooks_import_is_not_an_entry_point(make_repo: MakeRepo) -> None:
    loop = RAW_LOOP.format(seed="").replace("for step", "def fit():\n  for step").replace("\n    ", "\n      ")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    nb = json.dumps({"cells": [{**cell, "source": "import torch\ntorch.manual_seed(0)\nfrom utils import fit\nfit()"}]})
    files = {"course/utils.py": loop, "course/lesson1.ipynb": nb}
    assert run("RP001", make_repo(files)) == []
    assert where(run("RP001", make_repo({"course/utils.py": loop}))) == [("course/utils.py", 7)]


def test_lightning_cli_message_says_what_to_set(make_repo: MakeRepo) -> None:
    (finding,) = run("RP001", make_repo({"src/pkg/cli.py": CLI}))
    assert "seed_everything" in finding.message and "LightningCLI" in finding.message


# -- RP002 --------------------------------------------------------------------------------------------------------
HARD_CODED = """\
import torch

LEARNING_RATE = 1e-3
BATCH_SIZE: int = 32
NUM_EPOCHS = 2 * 5
BASE_LR = -0.5
SEED = 42
DATA_DIR = "data"
lr = 0.1
"""


def test_hyperparameter_constants_are_reported(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": HARD_CODED + RAW_LOOP.format(seed=""), "helpers.py": "DROPOUT = 0.1\n"})
    findings = run("RP002", root)
    assert where(findings) == [("helpers.py", 1), ("train.py", 3), ("train.py", 4), ("train.py", 5), ("train.py", 6)]
    assert findings[1].message == "LEARNING_RATE = 0.001 is hard-coded; read it from a config file"


@pytest.mark.parametrize(
    "extra",
    [
        {"configs/default.yaml": "lr: 0.1\n", "helpers.py": "import yaml\n"},
        {"conf/model/resnet.yaml": "lr: 0.1\n", "helpers.py": "from omegaconf import OmegaConf\n"},
        {"helpers.py": "import argparse\n"},
        {"helpers.py": "import typer\n"},
        {"helpers.py": "from lightning.pytorch.cli import LightningCLI\n"},
        {"other/config.yaml": "trainer: {}\nmodel: {}\n"},
    ],
)
def test_constants_are_fine_with_a_config_mechanism(make_repo: MakeRepo, extra: dict[str, str]) -> None:
    files = {"train.py": HARD_CODED + RAW_LOOP.format(seed=""), **extra}
    assert run("RP002", make_repo(files)) == []


@pytest.mark.parametrize("folder", ["configs/default.yaml", "config/train.json", "conf/model/resnet.yaml"])
def test_rp002_a_config_folder_that_nothing_reads_does_not_excuse_constants(make_repo: MakeRepo, folder: str) -> None:
    constants = "".join(f"BATCH_SIZE_{i} = {i}\n" for i in range(40))
    root = make_repo({"train.py": constants + RAW_LOOP.format(seed=""), folder: "lr: 0.1\n"})
    assert len(run("RP002", root)) == 40


def test_constants_away_from_the_entry_point_are_not_reported(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": RAW_LOOP.format(seed=""), "src/pkg/defaults.py": "LEARNING_RATE = 0.1\n"})
    assert run("RP002", root) == []


# -- RP003 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "content", "line", "shown"),
    [
        ("src/pkg/data.py", f'"""Data."""\n\nROOT = "{ALICE}/datasets"\n', 3, ALICE),
        ("configs/default.yaml", f"data:\n  root: {BOB_MAC}/data\n", 2, BOB_MAC),
        ("src/pkg/win.py", f'ROOT = "{CAROL_WIN}\\\\data"\n', 1, "C:\\\\Users\\\\carol"),
        ("scripts/run.sh", f"#!/bin/sh\ncd {ALICE}/proj && python train.py\n", 2, ALICE),
        ("Dockerfile", f"FROM python:3.11\nCOPY {ALICE}/x /app\n", 2, ALICE),
        ("Makefile", f"data:\n\tcp -r {ALICE}/data .\n", 2, ALICE),
        ("pyproject.toml", f'[tool.x]\npath = "{ALICE}"\n', 2, ALICE),
    ],
)
def test_user_paths_are_reported(make_repo: MakeRepo, path: str, content: str, line: int, shown: str) -> None:
    findings = run("RP003", make_repo({path: content}))
    assert where(findings) == [(path, line)]
    assert findings[0].message == f"user path {shown} is machine-specific"


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("README.md", f"Clone into {ALICE}/proj\n"),
        ("docs/setup.rst", f"Use {ALICE}\n"),
        ("uv.lock", f'path = "{ALICE}/wheel"\n'),
        ("Dockerfile", "FROM python:3.11\nRUN pip install x --cache-dir /root/.cache\n"),
        (".github/workflows/ci.yml", "on: push\njobs:\n  a:\n    steps:\n      - run: ls /" + "home/runner/work\n"),
        ("Dockerfile", "FROM python:3.11\nRUN useradd --create-home app\nUSER app\nWORKDIR /" + "home/app/src\n"),
        ("src/pkg/urls.py", 'URL = "https://example.org' + ALICE + '/index.html"\n'),
        ("src/pkg/home.py", 'ROOT = "~' + ALICE + '"\nOTHER = "$PREFIX' + ALICE + '"\n'),
        ("src/pkg/doc.py", '"""Set data_dir, e.g. /' + 'home/user/data or /home/<you>/data."""\n'),
    ],
)
def test_paths_that_are_not_a_developers_home(make_repo: MakeRepo, path: str, content: str) -> None:
    assert run("RP003", make_repo({path: content})) == []


DOCKERFILE = "FROM python:3.11\nRUN useradd -m -u 1000 -s /bin/bash appuser \\\n    && pip install x\nUSER appuser\n"


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("docker-compose.yml", "services:\n  t:\n    working_dir: /" + "home/appuser/app\n"),
        ("scripts/in_container.sh", "#!/bin/sh\ncd /" + "home/appuser/app && python train.py\n"),
        ("configs/train.yaml", "data_dir: /" + "home/builder/data\n"),
    ],
)
def test_rp003_the_home_of_a_user_the_repositorys_own_image_creates_is_not_machine_specific(
    make_repo: MakeRepo, path: str, content: str
) -> None:
    files = {"docker/Dockerfile": DOCKERFILE, "Dockerfile.build": "FROM x\nRUN adduser --disabled-password builder\n"}
    assert run("RP003", make_repo({**files, path: content})) == []
    assert len(run("RP003", make_repo({path: content}))) == 1


def test_rp003_words_after_useradd_other_than_the_user_are_not_users(make_repo: MakeRepo) -> None:
    files = {"Dockerfile": DOCKERFILE, "run.sh": "cp /" + "home/pip/x /" + "home/install/y\n"}
    assert len(run("RP003", make_repo(files))) == 2


def test_rp003_the_gke_node_driver_path_is_not_a_users_home(make_repo: MakeRepo) -> None:
    manifest = "spec:\n  volumes:\n    - hostPath:\n        path: /" + "home/kubernetes/bin/nvidia\n"
    assert run("RP003", make_repo({"k8s/daemonset.yaml": manifest})) == []


def test_rp003_a_dev_container_user_is_not_machine_specific(make_repo: MakeRepo) -> None:
    files = {".devcontainer/devcontainer.json": '{"remoteUser": "dev"}', "run.sh": "ls /" + "home/dev/src\n"}
    assert run("RP003", make_repo(files)) == []


def test_user_paths_in_notebook_cells(make_repo: MakeRepo) -> None:
    notebook = (
        '{\n "cells": [\n  {"cell_type": "markdown", "source": ["# Title"]},\n'
        f'  {{"cell_type": "code", "source": ["df = load(\\"{ALICE}/x.csv\\")"], "outputs": []}}\n'
        ' ],\n "metadata": {}, "nbformat": 4, "nbformat_minor": 5\n}\n'
    )
    findings = run("RP003", make_repo({"notebooks/explore.ipynb": notebook}))
    assert where(findings) == [("notebooks/explore.ipynb", 4)]
    assert findings[0].message == f"cell 2: user path {ALICE} is machine-specific"


def test_odd_notebooks_and_configs_do_not_break_the_rules(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "nb.ipynb": '{"cells": [{"cell_type": "code", "source": 5}, {"source": [1, "x = \\"' + ALICE + '\\""]}]}',
            "nb2.ipynb": "[]",
            "configs/a.yaml": "seed_everything: [1]\nseed: 1.5\n",
            "configs/b.yaml": "- 1\n",
            "src/pkg/cli.py": CLI.replace("save_config_kwargs=", "seed_everything_default=True, save_config_kwargs="),
            "bad.py": "def (:\n",
        }
    )
    assert where(run("RP001", root)) == [("src/pkg/cli.py", 5)]  # True picks a random seed: not reproducible
    assert run("RP002", root) == []
    assert where(run("RP003", root)) == [("nb.ipynb", 1)]


def test_rp003_the_user_of_a_useradd_continued_on_the_next_line_is_found(make_repo: MakeRepo) -> None:
    useradd = "useradd --uid 10001 --gid app --home-dir /h --create-home app"
    dockerfile = f"FROM x\nRUN groupadd app \\\n  && {useradd} \\\n  && true\n"
    files = {"docker/Dockerfile": dockerfile, "run.sh": "cd /" + "home/app/src\n"}
    assert run("RP003", make_repo(files)) == []


def test_rp001_a_project_helper_given_the_seed_seeds(make_repo: MakeRepo) -> None:
    seeded = RAW_LOOP.format(seed="from timm import utils\nutils.random_seed(args.seed, 0)")
    assert run("RP001", make_repo({"train.py": seeded})) == []
    determinism = RAW_LOOP.format(seed="from dist import utils\nutils.set_determinism(mesh, device, cfg.seed)")
    assert run("RP001", make_repo({"train.py": determinism})) == []
    unseeded = RAW_LOOP.format(seed="from timm import utils\nutils.random_seed()")
    assert len(run("RP001", make_repo({"train.py": unseeded}))) == 1


# -- boundaries the mutation run found untested -------------------------------------------------------------------
@pytest.mark.parametrize(
    "seed",
    [
        "import random\nrandom.seed()",  # seeds from the clock
        "import numpy as np\nnp.random.seed()",
        "import lightning as L\nL.seed_everything()",  # picks a fresh seed every run
    ],
)
def test_rp001_a_seed_call_without_a_value_fixes_nothing(make_repo: MakeRepo, seed: str) -> None:
    assert len(run("RP001", make_repo({"train.py": RAW_LOOP.format(seed=seed)}))) == 1


def test_rp001_a_jax_key_seeds(make_repo: MakeRepo) -> None:
    files = {"train.py": RAW_LOOP.format(seed="import jax\nkey = jax.random.key(0)")}
    assert run("RP001", make_repo(files)) == []


def test_rp001_a_seed_two_packages_up_is_followed(make_repo: MakeRepo) -> None:
    files = {
        "src/pkg/sub/train.py": UNSEEDED.replace("from pkg.model", "from ..common import seeding\nfrom pkg.model"),
        "src/pkg/common/seeding.py": "import torch\n\ntorch.manual_seed(0)\n",
    }
    assert run("RP001", make_repo(files)) == []


def test_rp001_every_entry_point_is_judged(make_repo: MakeRepo) -> None:
    seeded = RAW_LOOP.format(seed="torch.manual_seed(0)")
    hf = "from transformers import Trainer\n\ntrainer = Trainer(model=m, args=a)\ntrainer.train()\n"
    files = {"a_finetune.py": hf, "b_train.py": seeded, "c_train.py": RAW_LOOP.format(seed="")}
    assert where(run("RP001", make_repo(files))) == [("c_train.py", 6)]


@pytest.mark.parametrize("test_config", ["tests/configs/fit.yaml", ".github/fit.yaml"])
def test_rp001_a_seed_in_a_test_or_hidden_config_does_not_seed_training(make_repo: MakeRepo, test_config: str) -> None:
    files = {"src/pkg/cli.py": CLI, test_config: "seed_everything: 1\n"}
    assert where(run("RP001", make_repo(files))) == [("src/pkg/cli.py", 5)]


def test_rp001_a_hidden_config_does_not_end_the_search_for_a_seed(make_repo: MakeRepo) -> None:
    files = {"src/pkg/cli.py": CLI, ".github/x.yaml": "a: 1\n", "configs/default.yaml": "seed_everything: 1\n"}
    assert run("RP001", make_repo(files)) == []


def test_rp001_is_skipped_outside_training_projects(make_repo: MakeRepo) -> None:
    from fsdl_check.config import Config
    from fsdl_check.engine import audit
    from fsdl_check.model import Status

    files = {"pyproject.toml": '[project]\nname = "t"\n', "src/t/__init__.py": "def f() -> int:\n    return 1\n"}
    result = next(r for r in audit(make_repo(files), Config(select=("RP001",))).results if r.code == "RP001")
    assert result.status is Status.SKIP


def test_rp003_a_clean_file_does_not_end_the_scan_and_mac_homes_count(make_repo: MakeRepo) -> None:
    files = {"README.md": "# x\n", "a.py": "x = 1\n", "b.py": "DATA = '/" + "Users/bob/data'\n"}
    found = run("RP003", make_repo(files))
    assert [(f.path, f.line) for f in found] == [("b.py", 1)]
    assert found[0].message == "user path /" + "Users/bob is machine-specific"


def test_rp003_a_notebook_finding_names_its_cell(make_repo: MakeRepo) -> None:
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    cells = [{**code, "source": "x = 1"}, {**code, "source": "path = '/" + "home/alice/data'"}]
    nb = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    found = run("RP003", make_repo({"explore.ipynb": nb}))
    assert len(found) == 1 and found[0].message.startswith("cell 2: user path")
    assert found[0].line == 1  # the minified notebook is one line


def test_rp002_is_skipped_outside_training_projects(make_repo: MakeRepo) -> None:
    from fsdl_check.config import Config
    from fsdl_check.engine import audit
    from fsdl_check.model import Status

    files = {"pyproject.toml": '[project]\nname = "t"\n', "src/t/__init__.py": "LEARNING_RATE = 0.1\nBATCH_SIZE = 8\n"}
    result = next(r for r in audit(make_repo(files), Config(select=("RP002",))).results if r.code == "RP002")
    assert result.status is Status.SKIP


def test_rp001_a_call_without_arguments_before_the_seed_ends_no_search(make_repo: MakeRepo) -> None:
    files = {"train.py": RAW_LOOP.format(seed="torch.cuda.empty_cache()\ntorch.manual_seed(0)")}
    assert run("RP001", make_repo(files)) == []


def test_rp001_a_seed_in_the_package_of_a_top_level_package_is_followed(make_repo: MakeRepo) -> None:
    files = {
        "pkg/train.py": UNSEEDED.replace("from pkg.model", "from . import seeding\nfrom pkg.model"),
        "pkg/seeding.py": "import torch\n\ntorch.manual_seed(0)\n",
    }
    assert run("RP001", make_repo(files)) == []


def test_rp001_a_seed_default_counts_whichever_cli_call_or_keyword_it_comes_in(make_repo: MakeRepo) -> None:
    two_calls = (
        "from lightning.pytorch.cli import LightningCLI\n\n\ndef validate() -> None:\n    LightningCLI(run=True)\n\n\n"
        "def fit() -> None:\n    LightningCLI(seed_everything_default=7)\n"
    )
    assert run("RP001", make_repo({"src/pkg/cli.py": two_calls})) == []
    later_keyword = CLI_SUBCLASS.format(default="").replace("run=False", "run=False, seed_everything_default=42")
    assert run("RP001", make_repo({"src/pkg/cli.py": later_keyword})) == []


def test_rp002_flags_strings_and_computed_values_are_not_numeric_hyperparameters(make_repo: MakeRepo) -> None:
    constants = "USE_DROPOUT = True\nLR_SCHEDULE = 'cosine'\nMAX_STEPS = len(DATA) * 10\nWARMUP_STEPS = compute()\n"
    assert run("RP002", make_repo({"train.py": constants + RAW_LOOP.format(seed="")})) == []


def test_rp002_constants_beside_an_entry_point_in_a_package_are_reported(make_repo: MakeRepo) -> None:
    files = {"src/pkg/train.py": "LEARNING_RATE = 0.1\n" + UNSEEDED, "src/pkg/defaults.py": "BATCH_SIZE = 8\n"}
    assert where(run("RP002", make_repo(files))) == [("src/pkg/defaults.py", 1), ("src/pkg/train.py", 1)]


def test_rp003_a_lock_file_is_not_scanned_and_an_empty_file_ends_no_scan(make_repo: MakeRepo) -> None:
    files = {"a.py": "", "b.py": f"DATA = '{ALICE}/data'\n", "package-lock.json": '{"path": "' + ALICE + '/pkg"}\n'}
    assert where(run("RP003", make_repo(files))) == [("b.py", 1)]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM x\nUSER root\nRUN useradd -m app\n",  # a `USER` line before the `useradd`
        "FROM x\nRUN useradd app\n",  # the user the only word
    ],
)
def test_rp003_every_user_a_dockerfile_creates_is_found(make_repo: MakeRepo, dockerfile: str) -> None:
    files = {"Dockerfile": dockerfile, "run.sh": "cd /" + "home/app/src\n"}
    assert run("RP003", make_repo(files)) == []


def test_rp003_a_dockerfile_installing_the_adduser_package_creates_no_user(make_repo: MakeRepo) -> None:
    files = {"Dockerfile": "FROM x\nRUN apt-get install -y adduser\n", "run.sh": f"cd {ALICE}/src\n"}
    assert where(run("RP003", make_repo(files))) == [("run.sh", 1)]


def test_rp003_a_linked_dockerfile_does_not_end_the_search_for_image_users(make_repo: MakeRepo) -> None:
    root = make_repo({"docker/Dockerfile": DOCKERFILE, "run.sh": "cd /" + "home/appuser/app\n"})
    (root / "Dockerfile").symlink_to("docker/Dockerfile")
    assert run("RP003", root) == []
