"""DT rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

#: A raw training loop: `train.py` with it is a training entry point.
LOOP = "for x, y in loader:\n    loss = model(x).sum()\n    loss.backward()\n    optimizer.step()\n"
RAW_DDP = """\
import os
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

dist.init_process_group("gloo")
rank = dist.get_rank()
model = DDP(Net())
"""


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def train(body: str, imports: str = "import torch\n") -> str:
    return f"{imports}{body}\n{LOOP}"


# -- DT001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        ("model = Net().cuda()", 2, ".cuda()"),
        ("model = Net()\nmodel.to('cuda')", 3, '.to("cuda")'),
        ("model = Net().to(device='cuda:0')", 2, '.to("cuda")'),
        ("device = torch.device('cuda')", 2, 'device("cuda")'),
        ("x = torch.zeros(3, device='cuda')", 2, 'device="cuda"'),
        ("state = torch.load('ckpt.pt', map_location='cuda')", 2, 'map_location="cuda"'),
        ("DEVICE = 'cuda'", 2, 'DEVICE = "cuda"'),
        ("def fit(model, device='cuda'):\n    return model", 2, 'device="cuda" default'),
        ("if __name__ == '__main__':\n    model = Net().cuda()", 3, ".cuda()"),  # the main guard is no fallback
    ],
)
def test_hard_coded_cuda(make_repo: MakeRepo, body: str, line: int, what: str) -> None:
    findings = run("DT001", make_repo({"train.py": train(body)}))
    assert [(f.path, f.line, f.message) for f in findings] == [
        ("train.py", line, f"{what} hard-codes CUDA with no CPU fallback (nothing in this module checks for a GPU)")
    ]


def test_one_finding_per_module_naming_the_other_lines(make_repo: MakeRepo) -> None:
    body = "model = Net().cuda()\nx = x.cuda(); y = y.cuda()\nz = torch.ones(1, device='cuda')"
    findings = run("DT001", make_repo({"train.py": train(body)}))
    assert where(findings) == [("train.py", 2)]
    assert findings[0].message.endswith("; also on lines 3, 4")


def test_modules_the_entry_point_imports_are_on_the_training_path(make_repo: MakeRepo) -> None:
    files = {
        "src/pkg/train.py": train("from pkg.model import Net\nfrom . import data\n"),
        "src/pkg/model.py": "import torch\n\n\nclass Net(torch.nn.Module):\n    def fit(self):\n        self.cuda()\n",
        "src/pkg/data.py": "import torch\nBATCH = torch.ones(2).cuda()\n",
        "src/pkg/unused.py": "import torch\nx = torch.ones(1).cuda()\n",  # nothing imports it
        "scripts/profile.py": "import torch\nx = torch.ones(1).cuda()\n",
    }
    findings = run("DT001", make_repo(files))
    assert where(findings) == [("src/pkg/data.py", 2), ("src/pkg/model.py", 6)]


@pytest.mark.parametrize(
    "body",
    [
        "device = 'cuda' if torch.cuda.is_available() else 'cpu'\nmodel = Net().to(device)",
        "use_gpu = torch.cuda.device_count() > 0\nmodel = Net().cuda()",  # the module checks: trust it
        "device = torch.device('cuda' if args.gpu else 'cpu')",
        "if args.cuda:\n    model = Net().cuda()",
        "try:\n    model = Net().cuda()\nexcept RuntimeError:\n    model = Net()",
        "parser.add_argument('--device', default='cuda')\nmodel = Net().to(args.device)",
        "from dataclasses import dataclass\n@dataclass\nclass Config:\n    device: str = 'cuda'",
        "with torch.autocast('cuda'):\n    y = model(x)",
        "scaler = torch.amp.GradScaler('cuda')",
        "torch.cuda.manual_seed(0)",
    ],
)
def test_cuda_with_a_fallback(make_repo: MakeRepo, body: str) -> None:
    assert run("DT001", make_repo({"train.py": train(body)})) == []


@pytest.mark.parametrize(
    "files",
    [
        {"train_gpu.py": train("model = Net().cuda()")},  # named for the GPU
        {"train.py": train("import triton\nmodel = Net().cuda()")},  # GPU-only by its imports
        {"tests/test_train.py": train("model = Net().cuda()")},
        {"benchmarks/train.py": train("model = Net().cuda()")},
        {"examples/train.py": train("model = Net().cuda()")},
        {"docs/train.py": train("model = Net().cuda()")},
        {"src/lib/ops.py": "import torch\nx = torch.ones(1).cuda()\n"},  # no training entry point at all
    ],
)
def test_code_off_the_training_path_or_gpu_only(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("DT001", make_repo(files)) == []


# -- DT002 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('dist.init_process_group("nccl", rank=0, world_size=8)',
         "init_process_group(rank=0, world_size=8) hard-codes the process topology; read it from the launcher"),
        ('dist.init_process_group("gloo", None, None, 4, 1)',
         "init_process_group(world_size=4, rank=1) hard-codes the process topology; read it from the launcher"),
        ('dist.init_process_group("nccl", init_method="tcp://10.1.2.3:23456")',
         "init_process_group(init_method='tcp://10.1.2.3:23456') hard-codes the process topology; "
         "read it from the launcher"),
        ('os.environ["MASTER_ADDR"] = "10.0.0.1"',
         'os.environ["MASTER_ADDR"] = "10.0.0.1" hard-codes the main node\'s address; the launcher sets MASTER_ADDR'),
        ('os.environ["RANK"] = "0"', 'os.environ["RANK"] = "0" hard-codes the rank; the launcher sets RANK'),
        ('os.environ.update({"WORLD_SIZE": "8"})',
         'os.environ["WORLD_SIZE"] = "8" hard-codes the world size; the launcher sets WORLD_SIZE'),
        ('os.environ.setdefault("MASTER_ADDR", "node-7.cluster")',
         'os.environ.setdefault("MASTER_ADDR", "node-7.cluster") hard-codes the main node\'s address; '
         "the launcher sets MASTER_ADDR"),
    ],
)  # fmt: skip
def test_hard_coded_topology(make_repo: MakeRepo, code: str, message: str) -> None:
    source = f"import os\nimport torch.distributed as dist\n\n{code}\n"
    findings = run("DT002", make_repo({"src/pkg/dist.py": source}))
    assert [(f.path, f.line, f.message) for f in findings] == [("src/pkg/dist.py", 4, message)]


@pytest.mark.parametrize(
    "code",
    [
        'dist.init_process_group("nccl")',
        'dist.init_process_group("nccl", rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]))',
        'dist.init_process_group("gloo", rank=0, world_size=1)',  # a process group of one, on purpose
        'dist.init_process_group("nccl", init_method="env://")',
        'dist.init_process_group("gloo", init_method="tcp://localhost:29500", rank=rank, world_size=n)',
        'dist.init_process_group("fake", rank=0, world_size=world_size)',  # tracing on one process
        'os.environ.setdefault("MASTER_ADDR", "localhost")',
        'os.environ["MASTER_ADDR"] = "127.0.0.1"',
        'os.environ["MASTER_PORT"] = "29500"',
        'os.environ.setdefault("RANK", "0")',
        'os.environ["RANK"] = "0"\nos.environ["WORLD_SIZE"] = "1"',
        'env = dict(os.environ)\nenv["RANK"] = "3"',
        'rank = int(os.environ.get("RANK", 0))',
        "def run(rank):\n    dist.init_process_group('gloo', rank=rank, world_size=2)\n\n"
        "torch.multiprocessing.spawn(run, nprocs=2)",  # the script starts the processes itself
    ],
)
def test_topology_from_the_launcher(make_repo: MakeRepo, code: str) -> None:
    source = f"import os\nimport torch\nimport torch.distributed as dist\n\n{code}\n"
    assert run("DT002", make_repo({"src/pkg/dist.py": source})) == []


def test_tests_may_hard_code_a_topology(make_repo: MakeRepo) -> None:
    source = 'import torch.distributed as dist\ndist.init_process_group("gloo", rank=0, world_size=2)\n'
    assert run("DT002", make_repo({"tests/test_dist.py": source})) == []


# -- DT003 --------------------------------------------------------------------------------------------------------
def test_ddp_without_a_distributed_sampler(make_repo: MakeRepo) -> None:
    source = RAW_DDP + "loader = DataLoader(dataset, batch_size=32, shuffle=True)\n"
    findings = run("DT003", make_repo({"train.py": source}))
    assert [(f.path, f.line, f.message) for f in findings] == [
        (
            "train.py",
            10,
            "DistributedDataParallel without a DistributedSampler: the DataLoader (line 11) gives every rank "
            "all the data",
        )
    ]


def test_ddp_whose_loader_is_built_in_an_imported_module(make_repo: MakeRepo) -> None:
    files = {
        "src/pkg/train.py": "import torch\nfrom pkg.data import loader\n"
        "m = torch.nn.parallel.DistributedDataParallel(net)\n",
        "src/pkg/data.py": "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=8)\n",
    }
    findings = run("DT003", make_repo(files))
    assert where(findings) == [("src/pkg/train.py", 3)]
    assert "(src/pkg/data.py:2)" in findings[0].message


def test_distributed_sampler_without_set_epoch(make_repo: MakeRepo) -> None:
    source = RAW_DDP + (
        "sampler = DistributedSampler(dataset)\nloader = DataLoader(dataset, sampler=sampler)\n"
        "for epoch in range(3):\n    for batch in loader:\n        pass\n"
    )
    findings = run("DT003", make_repo({"train.py": source}))
    assert [(f.line, f.message) for f in findings] == [
        (10, "DistributedSampler without `sampler.set_epoch(epoch)`: every epoch shuffles the same way")
    ]


@pytest.mark.parametrize(
    "tail",
    [
        "sampler = DistributedSampler(dataset)\nloader = DataLoader(dataset, sampler=sampler)\n"
        "for epoch in range(3):\n    sampler.set_epoch(epoch)\n",
        "loader = DataLoader(dataset, sampler=DistributedSampler(dataset, shuffle=False))\n",  # nothing to reshuffle
        "loader = DataLoader(dataset, batch_sampler=MyShardedBatches(dataset))\n",
        "loader = DataLoader(dataset, **loader_kwargs)\n",
        "def get_batch():\n    return data[torch.randint(len(data), (8,))]\n",  # no DataLoader: random batches
        "class Stream(torch.utils.data.IterableDataset):\n    pass\nloader = DataLoader(Stream())\n",
        "ds = split_dataset_by_node(ds, rank=rank, world_size=ws)\nloader = DataLoader(ds)\n",
    ],
)
def test_ddp_with_sharded_data(make_repo: MakeRepo, tail: str) -> None:
    assert run("DT003", make_repo({"train.py": RAW_DDP + tail})) == []


def test_frameworks_that_wrap_ddp_themselves_are_not_raw(make_repo: MakeRepo) -> None:
    source = "import lightning as L\nfrom torch.utils.data import DataLoader\nloader = DataLoader(ds)\n"
    source += "L.Trainer(strategy='ddp').fit(model, loader)\n"
    assert run("DT003", make_repo({"train.py": source})) == []


# -- DT004 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tail", "lines"),
    [
        ('torch.save(model.state_dict(), "ckpt.pt")\n', [11]),
        ("import wandb\nfor step in range(10):\n    wandb.log({'loss': 1.0})\n", [13]),
        ("import mlflow\nmlflow.log_metric('loss', 1.0)\n", [12]),
        ("from torch.utils.tensorboard import SummaryWriter\nwriter = SummaryWriter()\n", [12]),
        ("def save():\n    torch.save(model.state_dict(), 'ckpt.pt')\n\nsave()\n", [12]),
        ("import torch as th\nth.save(model, 'm.pt')\n", [12]),
        ("def worker(r):\n    torch.save(model, 'm.pt')\n\ntorch.multiprocessing.spawn(worker, nprocs=2)\n", [12]),
        ("if epoch % 10 == 0:\n    torch.save(model, 'm.pt')\n", [12]),
    ],
)
def test_writes_on_every_rank(make_repo: MakeRepo, tail: str, lines: list[int]) -> None:
    findings = run("DT004", make_repo({"train.py": RAW_DDP + tail}))
    assert where(findings) == [("train.py", line) for line in lines]
    assert "on every rank: guard it with a rank-zero check (`if rank == 0:`)" in findings[0].message


@pytest.mark.parametrize(
    "tail",
    [
        "if rank == 0:\n    torch.save(model.state_dict(), 'ckpt.pt')\n",
        "if dist.get_rank() == 0 and epoch % 5 == 0:\n    torch.save(model, 'm.pt')\n",
        "if is_main_process():\n    torch.save(model, 'm.pt')\n",
        "if args.local_rank in (-1, 0):\n    torch.save(model, 'm.pt')\n",
        "master_process = rank == 0\nif master_process:\n    import wandb\n    wandb.log({'a': 1})\n",
        "@rank_zero_only\ndef save():\n    torch.save(model, 'm.pt')\n\nsave()\n",
        "def save_on_master(*args):\n    torch.save(*args)\n\nsave_on_master(model, 'm.pt')\n",
        "def save():\n    if rank != 0:\n        return\n    torch.save(model, 'm.pt')\n\nsave()\n",
        "def save():\n    torch.save(model, 'm.pt')\n\nif rank == 0:\n    save()\n",
        "import wandb\nwandb.init(mode='online' if rank == 0 else 'disabled')\n",
        "import torch.distributed.checkpoint as dcp\ndcp.save({'model': model.state_dict()}, checkpoint_id='c')\n",
        "class Trainer:\n    def save(self):\n        torch.save(self.model, 'm.pt')\n",  # called from elsewhere
    ],
)
def test_writes_from_rank_zero(make_repo: MakeRepo, tail: str) -> None:
    assert run("DT004", make_repo({"train.py": RAW_DDP + tail})) == []


def test_only_raw_distributed_code_is_checked(make_repo: MakeRepo) -> None:
    single = "import torch\nmodel = Net()\ntorch.save(model.state_dict(), 'ckpt.pt')\n"
    lightning = "import torch\nimport lightning as L\nL.Trainer(strategy='ddp').fit(m)\ntorch.save(m, 'm.pt')\n"
    files = {"train.py": single, "fit.py": lightning, "tests/test_ddp.py": RAW_DDP + "torch.save(model, 'm.pt')\n"}
    assert run("DT004", make_repo(files)) == []


def test_the_acceptance_example(make_repo: MakeRepo) -> None:
    source = (
        "import os\nimport torch\nimport torch.distributed as dist\n"
        "from torch.nn.parallel import DistributedDataParallel as DDP\n"
        'os.environ["MASTER_ADDR"] = "10.0.0.1"\ndist.init_process_group("nccl", rank=0, world_size=8)\n'
        "model = DDP(torch.nn.Linear(2, 2).cuda())\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for step in range(10):\n    loss = model(torch.randn(4, 2).cuda()).sum()\n    loss.backward()\n"
        '    opt.step()\ntorch.save(model.state_dict(), "ckpt.pt")\n'
    )
    root = make_repo({"train.py": source})
    assert where(run("DT001", root)) == [("train.py", 7)]
    assert where(run("DT002", root)) == [("train.py", 5), ("train.py", 6)]
    assert run("DT003", root) == []  # no DataLoader: nothing to shard
    assert where(run("DT004", root)) == [("train.py", 13)]


# -- boundaries (each test pins a behaviour a small slip in the rule would change) ---------------------------------
FALLBACK = "hard-codes CUDA with no CPU fallback (nothing in this module checks for a GPU)"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("from torch import set_default_device\nset_default_device('cuda')", 'set_default_device("cuda")'),
        ("def fit(model, *, device='cuda'):\n    return model", 'device="cuda" default'),  # a keyword-only default
    ],
)
def test_dt001_hard_coding_by_imported_name_or_keyword_only_default(make_repo: MakeRepo, body: str, what: str) -> None:
    findings = run("DT001", make_repo({"train.py": train(body)}))
    assert [f.message for f in findings] == [f"{what} {FALLBACK}"]


@pytest.mark.parametrize(
    "body",
    [
        "model = Net().cuda() if args.gpu else Net()",  # a conditional expression is a fallback
        "parser.add_argument('--device', default='cuda')\nmodel = Net().to(device=args.device)",  # chosen elsewhere
        "def fit(model, *, device, dtype=None):\n    return model",
    ],
)
def test_dt001_quiet_on_chosen_devices(make_repo: MakeRepo, body: str) -> None:
    assert run("DT001", make_repo({"train.py": train(body)})) == []


@pytest.mark.parametrize(
    ("body", "also"),
    [
        ("model = Net().cuda()\ny = y.cuda()", "; also on line 3"),
        ("model = Net().cuda(); x = x.cuda()\ny = y.cuda()", "; also on line 3"),  # line 2 is the finding's own
        ("model = Net().cuda()\n" + "x = x.cuda()\n" * 5, "; also on lines 3, 4, 5, 6, 7"),
        ("model = Net().cuda()\n" + "x = x.cuda()\n" * 6, "; also on lines 3, 4, 5, 6, 7 and more"),
    ],
)
def test_dt001_the_other_lines_named(make_repo: MakeRepo, body: str, also: str) -> None:
    [finding] = run("DT001", make_repo({"train.py": train(body)}))
    assert (finding.line, finding.message) == (2, f".cuda() {FALLBACK}{also}")


@pytest.mark.parametrize(
    "first",
    [
        "import torch\nx = torch.ones(1)\n",  # no "cuda" at all
        "import torch\n# runs on cuda or on the cpu, as configured\nx = torch.ones(1)\n",  # "cuda" in a comment only
    ],
)
def test_dt001_a_clean_module_does_not_end_the_check(make_repo: MakeRepo, first: str) -> None:
    files = {
        "src/pkg/train.py": train("from pkg import a, z\n"),
        "src/pkg/a.py": first,
        "src/pkg/z.py": "import torch\nx = torch.ones(1).cuda()\n",
    }
    assert where(run("DT001", make_repo(files))) == [("src/pkg/z.py", 2)]


TOPOLOGY = "hard-codes the process topology; read it from the launcher"


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ('dist.init_process_group("nccl", "tcp://10.1.2.3:23456", group_name="trainers")',
         "init_method='tcp://10.1.2.3:23456'"),  # a string keyword is not the init_method
        ("import gevent\ngevent.spawn(serve)\ndist.init_process_group('nccl', rank=0, world_size=8)",
         "rank=0, world_size=8"),  # a spawn that is not multiprocessing's starts no group
        ('dist.init_process_group("fake", rank=0, world_size=2)\ndist.init_process_group("gloo", rank=0, world_size=2)',
         "rank=0, world_size=2"),  # the second call, after a tracing one
    ],
)  # fmt: skip
def test_dt002_more_hard_coded_topologies(make_repo: MakeRepo, code: str, shown: str) -> None:
    source = f"import os\nimport torch.distributed as dist\n\n{code}\n"
    findings = run("DT002", make_repo({"src/pkg/dist.py": source}))
    assert [f.message for f in findings] == [f"init_process_group({shown}) {TOPOLOGY}"]


@pytest.mark.parametrize(
    "code",
    [
        'dist.init_process_group("nccl", "env://", timeout, world_size, rank)',  # positional, none of them literal
        'dist.init_process_group("gloo", "env://", None, "4", "0")',  # strings, as with the keywords: no count
        'dist.init_process_group("gloo", world_size=1)',  # one process, rank 0 by default
        'os.environ.setdefault("MASTER_ADDR")',
        "os.environ.update(extra)",
        'os.environ.update({"RANK": str(rank), "MASTER_PORT": "29500"})',
    ],
)
def test_dt002_more_topologies_from_the_launcher(make_repo: MakeRepo, code: str) -> None:
    source = f"import os\nimport torch.distributed as dist\n\n{code}\n"
    assert run("DT002", make_repo({"src/pkg/dist.py": source})) == []


@pytest.mark.parametrize(
    "first",
    ['os.environ["MASTER_ADDR"] = "localhost"', 'os.environ.setdefault("RANK", "0")'],
)
def test_dt002_an_accepted_environment_value_does_not_end_the_check(make_repo: MakeRepo, first: str) -> None:
    source = f'import os\n\n{first}\n\ndef setup():\n    os.environ["WORLD_SIZE"] = "8"\n'
    findings = run("DT002", make_repo({"src/pkg/dist.py": source}))
    assert [(f.line, f.message) for f in findings] == [
        (6, 'os.environ["WORLD_SIZE"] = "8" hard-codes the world size; the launcher sets WORLD_SIZE')
    ]


NO_SAMPLER = (
    "DistributedDataParallel without a DistributedSampler: the DataLoader (line 11) gives every rank all the data"
)


@pytest.mark.parametrize(
    ("tail", "messages"),
    [
        ("loader = DataLoader(dataset, 32, True)\n", [NO_SAMPLER]),  # three positional arguments: no sampler
        ("loader = DataLoader(dataset, 32, False, sampler)\n", []),  # the fourth one is the sampler
        (
            "sampler = DistributedSampler(dataset, shuffle=True)\nloader = DataLoader(dataset, sampler=sampler)\n",
            ["DistributedSampler without `sampler.set_epoch(epoch)`: every epoch shuffles the same way"],
        ),
    ],
)
def test_dt003_samplers_at_the_boundaries(make_repo: MakeRepo, tail: str, messages: list[str]) -> None:
    assert [f.message for f in run("DT003", make_repo({"train.py": RAW_DDP + tail}))] == messages


def test_dt003_a_module_sharded_otherwise_does_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {
        "a.py": RAW_DDP + "class Stream(torch.utils.data.IterableDataset):\n    pass\nloader = DataLoader(Stream())\n",
        "b.py": RAW_DDP + "loader = DataLoader(dataset, batch_size=32)\n",
    }
    assert where(run("DT003", make_repo(files))) == [("b.py", 10)]


def test_dt003_another_aliased_import_is_not_ddp(make_repo: MakeRepo) -> None:
    source = "# single process: no DistributedDataParallel here\nfrom torch.utils.data import DataLoader, Subset as S\n"
    assert run("DT003", make_repo({"train.py": source + "loader = DataLoader(S(ds, indices))\n"})) == []


def _chain(depth: int) -> str:
    """A save `depth` functions down from an unguarded call at the top level."""
    code = "def f0():\n    torch.save(model, 'm.pt')\n\n"
    code += "".join(f"def f{n}():\n    f{n - 1}()\n\n" for n in range(1, depth))
    return code + f"f{depth - 1}()\n"


@pytest.mark.parametrize(
    ("tail", "lines"),
    [
        (_chain(3), [12]),  # followed through three callers
        (_chain(4), []),  # further up: not this rule's to say
        ("def save():\n    torch.save(model, 'm.pt')\n\n" + "save()\n" * 50, [12]),  # fifty callers are followed
        ("def save():\n    torch.save(model, 'm.pt')\n\n" + "save()\n" * 51, []),  # more: a utility
        # the function's call to itself is not one of its callers: still fifty
        ("def save(n):\n    torch.save(model, 'm.pt')\n    save(n - 1)\n\n" + "save(1)\n" * 50, [12]),
        ("def save():\n    torch.save(model, 'm.pt')\n    if rank != 0:\n        return\n\nsave()\n", [12]),  # too late
        ("def save():\n    if epoch > 3:\n        pass\n    torch.save(model, 'm.pt')\n\nsave()\n", [14]),  # no rank
    ],
)
def test_dt004_callers_are_followed_so_far(make_repo: MakeRepo, tail: str, lines: list[int]) -> None:
    assert where(run("DT004", make_repo({"train.py": RAW_DDP + tail}))) == [("train.py", line) for line in lines]


@pytest.mark.parametrize(
    "tail",
    [
        "def save():\n    torch.save(a, 'a.pt')\n    torch.save(b, 'b.pt')\n\nif rank == 0:\n    save()\n",
        "def a():\n    torch.save(model, 'm.pt')\n    b()\n\ndef b():\n    a()\n\nif rank == 0:\n    a()\n",
    ],
)
def test_dt004_a_guarded_caller_covers_every_write_and_mutual_recursion(make_repo: MakeRepo, tail: str) -> None:
    assert run("DT004", make_repo({"train.py": RAW_DDP + tail})) == []


def test_dt004_modules_without_raw_distributed_code_or_writes_do_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {
        "a.py": "import torch\nx = torch.ones(1)\n",
        "b.py": RAW_DDP,
        "c.py": RAW_DDP + "torch.save(model, 'm.pt')\n",
    }
    assert where(run("DT004", make_repo(files))) == [("c.py", 11)]


def test_dt002_reads_variable_names_however_the_literal_spells_them(make_repo: MakeRepo) -> None:
    # implicit concatenation and escapes: the value is "RANK", the text never says it
    source = 'import os\n\nos.environ["RA" "NK"] = "0"\nos.environ["WORLD\\x5fSIZE"] = "8"\n'
    findings = run("DT002", make_repo({"src/pkg/dist.py": source}))
    assert [f.line for f in findings] == [3, 4]


@pytest.mark.parametrize(
    "write",
    [
        'os.environ[\n    "RANK"\n] = "0"',  # the key on a line of its own
        '(os.environ)["RANK"] = "0"',
        'os.environ \\\n    ["RANK"] = "0"',  # a backslash continuation before the key
        'x = os.environ["RANK"] = "0"',  # one of several targets
    ],
)
def test_dt002_finds_an_environment_write_however_it_is_laid_out(make_repo: MakeRepo, write: str) -> None:
    findings = run("DT002", make_repo({"src/pkg/dist.py": f"import os\n\n{write}\n"}))
    assert [f.message for f in findings] == ['os.environ["RANK"] = "0" hard-codes the rank; the launcher sets RANK']


def test_dt002_does_not_parse_again_a_module_that_only_reads_the_environment() -> None:
    # The byte-level test keeps DT002 from re-parsing the many modules that read os.environ (a third of
    # pytorch-lightning's): only a module that may write it is walked.
    from fsdl_check.parsing.python import PythonModule
    from fsdl_check.rules.distributed import writes_environment

    reads = 'import os\nrank = int(os.environ["RANK"])\nok = os.environ["RANK"] == "0"\nos.environ.get("X")\n'
    assert not writes_environment(PythonModule("a.py", reads))
    for writes in ('os.environ["RANK"] = "0"', 'os.environ.setdefault("RANK", "0")', "os.environ.update(e)"):
        assert writes_environment(PythonModule("b.py", f"import os\n{writes}\n")), writes
