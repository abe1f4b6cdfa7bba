"""DT: distributed training — code that runs on a CPU as well as on a GPU, takes its rank, world size and main
address from the launcher, shards the data across processes, and writes checkpoints and logs from one of them.

What "raw" means: DT003 and DT004 look at code that drives `torch.distributed` itself (it calls
`DistributedDataParallel`, FSDP or `init_process_group`); Lightning, Accelerate and friends do all of this for the
code that uses them. Test, documentation, example and benchmark code is never checked (`kind.is_auxiliary`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from fsdl_check.kind import import_closure, is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.python import Call, PythonModule, dotted_name
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo

CLI = "src/<package>/cli.py"
DDP_CONFIG = "configs/strategy/ddp.yaml"


def own_modules(python: list[PythonModule]) -> Iterator[PythonModule]:
    return (m for m in python if m.parsed and not is_auxiliary(m.path))


def source(node: ast.AST) -> str:
    """The node as source text ("" for one nested too deep to print: hostile input must not crash a rule)."""
    try:
        return ast.unparse(node)
    except (RecursionError, ValueError, MemoryError):
        return ""


def literal(node: ast.AST | None) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    return None


# -- DT001 --------------------------------------------------------------------------------------------------------
CUDA = lazy(r"^cuda(?::\d+)?$")
DEVICE_KEYWORDS = ("device", "map_location")
#: A check for a GPU anywhere in the module (`torch.cuda.is_available()`, `device_count()`, `mps.is_available()`).
AVAILABILITY = lazy(r"\b(?:is_available|device_count)\s*\(")
#: Libraries that exist only for GPUs: a module importing one is GPU code by design.
GPU_ONLY_IMPORTS = (
    "triton", "apex", "cupy", "pycuda", "tensorrt", "torch.utils.cpp_extension", "flash_attn", "transformer_engine",
    "numba.cuda",
)  # fmt: skip
#: A file named for the GPU (`train_gpu.py`, `cuda_kernels.py`, `gpu/`) is GPU-only by its own account.
GPU_NAME = lazy(r"(?:^|[_./-])(?:cuda|gpu|gpus|nccl|triton)(?:[_./-]|$)", re.IGNORECASE)


def is_cuda(node: ast.AST | None) -> bool:
    value = literal(node)
    return isinstance(value, str) and CUDA.match(value) is not None


def gpu_only(module: PythonModule) -> bool:
    return GPU_NAME.search(module.path) is not None or module.imports_any(*GPU_ONLY_IMPORTS) is not None


def conditional(node: ast.AST, up: dict[ast.AST, ast.AST]) -> bool:
    """Whether `node` runs only under a condition (`if`, `x if c else y`, a `try` with a fallback), not counting
    the `if __name__ == "__main__":` guard."""
    child = node
    parent = up.get(child)
    while parent is not None:
        if isinstance(parent, ast.IfExp) and child is not parent.test:
            return True
        test = parent.test if isinstance(parent, ast.If | ast.While) else None
        if test is not None and child is not test and "__name__" not in source(test):
            return True
        if isinstance(parent, ast.Try) and parent.handlers and child in parent.body:
            return True
        child, parent = parent, up.get(parent)
    return False


def cuda_hard_codings(module: PythonModule) -> list[tuple[int, str]]:
    """(line, what) for each unconditional CUDA-only device in the module."""
    up = module.parents
    found: list[tuple[int, str]] = []
    for node in module.walk():
        what = None
        line = getattr(node, "lineno", 1)  # mutation: equivalent (calls, assignments and defs all have a lineno)
        if isinstance(node, ast.Call):
            func = node.func
            name = dotted_name(func) or ""
            last = func.attr if isinstance(func, ast.Attribute) else name.rpartition(".")[2]
            first = node.args[0] if node.args else None
            keywords = node.keywords
            if isinstance(func, ast.Attribute) and func.attr == "cuda" and name != "torch.cuda":
                what = ".cuda()"
            elif last == "to" and (is_cuda(first) or any(k.arg == "device" and is_cuda(k.value) for k in keywords)):
                what = '.to("cuda")'
            elif last in ("device", "set_default_device") and is_cuda(first):
                what = f'{last}("cuda")'
            else:
                keyword = next((k for k in keywords if k.arg in DEVICE_KEYWORDS and is_cuda(k.value)), None)
                if keyword is not None:
                    what = f'{keyword.arg}="cuda"'
        elif isinstance(node, ast.Assign | ast.AnnAssign) and is_cuda(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and not isinstance(up.get(node), ast.ClassDef):  # a config class's field default is a setting
                what = f'{names[0]} = "cuda"'
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            defaulted = positional[len(positional) - len(args.defaults) :]
            pairs = list(zip(defaulted, args.defaults, strict=True))  # mutation: equivalent (same lengths by ast)
            keyword_only = zip(args.kwonlyargs, args.kw_defaults, strict=True)  # mutation: equivalent (likewise)
            pairs += [(a, d) for a, d in keyword_only if d is not None]
            default = next((arg.arg for arg, value in pairs if is_cuda(value)), None)
            if default is not None:
                what = f'{default}="cuda" default'
        if what is not None and not conditional(node, up):
            found.append((line, what))
    return sorted(found)


class NoHardCodedCuda(Rule):
    """The training path does not hard-code CUDA without a CPU fallback

    `.cuda()`, `.to("cuda")`, `torch.device("cuda")` or `device="cuda"` written into the training code make it
    crash on every machine without an NVIDIA GPU: a laptop, CI, a CPU node, an Apple or AMD machine. The training
    loop then never runs in CI, and a GPU path that CI never runs breaks unnoticed. Choose the device once —
    `"cuda" if torch.cuda.is_available() else "cpu"`, a config or command-line value, or Lightning's
    `accelerator="auto"` — and pass it along. Checked in the entry points and the modules they import; a module that
    checks availability anywhere, a value under a condition, and GPU-only code (Triton, apex, a file named for the
    GPU) are not reported. Config class defaults and argparse defaults are settings, not hard-coding.
    """

    code, severity = "DT001", Severity.WARNING
    fix = (
        "Pick the device once (`accelerator: auto` in the trainer config, or `torch.cuda.is_available()`); "
        f"see the template's `{CLI}`."
    )
    template_file = CLI
    example = 'model = Net().cuda()\nbatch = batch.to("cuda")'

    def check(self, training_path: list[PythonModule]) -> Iterator[Finding]:
        for module in training_path:
            if "cuda" not in module.text or gpu_only(module) or AVAILABILITY.search(module.text):
                continue
            found = cuda_hard_codings(module)
            if not found:
                continue
            (line, what), rest = found[0], sorted({n for n, _ in found[1:]} - {found[0][0]})
            more = f"; also on line{'s' if len(rest) > 1 else ''} {', '.join(map(str, rest[:5]))}" if rest else ""
            more += " and more" if len(rest) > 5 else ""
            message = f"{what} hard-codes CUDA with no CPU fallback (nothing in this module checks for a GPU){more}"
            yield self.finding(module.path, line, message)


# -- DT002 --------------------------------------------------------------------------------------------------------
INIT_CALLS = ("init_process_group", "init_distributed", "init_rpc")
#: Variables a launcher (torchrun, SLURM, a Kubernetes job) sets for each process. MASTER_PORT is not among them:
#: a fixed port is a reasonable default and does not tie the code to one machine or one process count.
RANK_VARIABLES = frozenset({"RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK"})
ADDRESS_VARIABLE = "MASTER_ADDR"
TCP = lazy(r"^tcp://\[?([^\]/:]+)\]?(?::\d+)?/?$")
#: Calls that start the processes of a group on this machine: the script itself decides how many there are.
SPAWNS = ("spawn", "start_processes", "Process")
MULTIPROCESSING = ("multiprocessing", "mp")

#: Backends that trace or test on one process (`fake`) rather than talk to other processes.
TEST_BACKENDS = frozenset({"fake"})


def loopback(host: str) -> bool:
    """`localhost`, `127.x.x.x`, `::1`, `0.0.0.0`: one machine, whatever machine it is."""
    host = host.strip().strip("[]").lower()
    return host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.")  # noqa: S104 (a value read, not bound)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def init_literals(call: Call) -> dict[str, Any]:
    """Literal `rank`, `world_size` and a `tcp://` `init_method` host given to a process-group call."""
    node = call.node
    values: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg in ("rank", "world_size") and _int(literal(keyword.value)):
            values[keyword.arg] = literal(keyword.value)
        elif keyword.arg == "init_method" and isinstance(literal(keyword.value), str):
            values["init_method"] = literal(keyword.value)
    if call.last == "init_process_group":  # (backend, init_method, timeout, world_size, rank, ...)
        for position, name in ((1, "init_method"), (3, "world_size"), (4, "rank")):
            if len(node.args) > position and name not in values:
                value = literal(node.args[position])
                if (name == "init_method" and isinstance(value, str)) or (name != "init_method" and _int(value)):
                    values[name] = value
    method = values.pop("init_method", None)
    if isinstance(method, str) and (match := TCP.match(method)) and not loopback(match[1]):
        values["init_method"] = method
    return values


def starts_processes(module: PythonModule) -> bool:
    """Whether the module starts its group's processes itself (`torch.multiprocessing.spawn`, `mp.spawn`, ...)."""
    imported = module.imports_any(*MULTIPROCESSING) is not None
    return any(imported or c.name.rpartition(".")[0].endswith(MULTIPROCESSING) for c in module.calls_named(*SPAWNS))


def backend(call: Call) -> Any:
    node = call.node
    value = next((k.value for k in node.keywords if k.arg == "backend"), node.args[0] if node.args else None)
    return literal(value)


ENVIRON_CALLS = ("environ.setdefault", "environ.update")
#: An item assignment to something named `...environ` (`os.environ["RANK"] = "0"`, also split over lines): the
#: byte-level test that spares re-parsing every module that only reads the environment. Not the variables' names:
#: a literal may spell them "RA" "NK" or "R\x41NK". The key (no `=` or `[` in it: a literal) is bounded, so that
#: the search stays linear.
ENVIRON_ITEM_WRITE = lazy(r"environ[\s\\)]*\[[^=[]{0,200}?\]\s*=(?!=)")


def writes_environment(module: PythonModule) -> bool:
    """Whether the module may give `os.environ` a value: an item assignment, `setdefault` or `update`."""
    if any(call.name.endswith(ENVIRON_CALLS) for call in module.calls_named("setdefault", "update")):
        return True
    return ENVIRON_ITEM_WRITE.search(module.text) is not None


def environment_literals(module: PythonModule) -> Iterator[tuple[int, str, str, bool]]:
    """(line, variable, value, is a default) for launcher variables given a literal in `os.environ`:
    `os.environ["RANK"] = "0"`, `os.environ.update({...})`, `os.environ.setdefault("MASTER_ADDR", ...)`."""
    wanted = RANK_VARIABLES | {ADDRESS_VARIABLE}
    for node in module.walk():
        if isinstance(node, ast.Assign) and literal(node.value) is not None:
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and (dotted_name(target.value) or "").endswith("environ")
                    and literal(target.slice) in wanted
                ):
                    yield node.lineno, str(literal(target.slice)), str(literal(node.value)), False
        elif isinstance(node, ast.Call) and (dotted_name(node.func) or "").endswith(ENVIRON_CALLS):
            default = isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault"
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if default and len(node.args) == 2:
                pairs.append((node.args[0], node.args[1]))
            elif not default and node.args and isinstance(node.args[0], ast.Dict):
                given = node.args[0]
                items = zip(given.keys, given.values, strict=True)  # mutation: equivalent (same lengths by ast)
                pairs += [(k, v) for k, v in items if k is not None]
            for key, value in pairs:
                if literal(key) in wanted and literal(value) is not None:
                    yield node.lineno, str(literal(key)), str(literal(value)), default


class NoHardCodedTopology(Rule):
    """Rank, world size and the main node's address come from the launcher

    `init_process_group(rank=0, world_size=8)`, `os.environ["RANK"] = "0"` or `os.environ["MASTER_ADDR"] =
    "10.0.0.1"` tie the code to one machine and one process count: it hangs or trains the wrong shard when run
    with another number of GPUs, on another node, under SLURM or in a Kubernetes job. torchrun, `srun` and the
    training operators set `RANK`, `WORLD_SIZE`, `LOCAL_RANK` and `MASTER_ADDR` for every process; read them (or
    let the framework do so). A single-process group (`world_size=1`), a loopback default for one machine
    (`os.environ.setdefault("MASTER_ADDR", "localhost")`, also when assigned) and a fixed `MASTER_PORT` are fine.
    """

    code, severity = "DT002", Severity.WARNING
    fix = (
        "Read RANK, WORLD_SIZE and MASTER_ADDR from the launcher's environment (or let Lightning's DDP strategy "
        f"do it); see the template's `{DDP_CONFIG}`."
    )
    template_file = DDP_CONFIG
    example = 'os.environ["MASTER_ADDR"] = "10.0.0.1"\ndist.init_process_group("nccl", rank=0, world_size=8)'

    def check(self, python: list[PythonModule]) -> Iterator[Finding]:
        for module in own_modules(python):
            calls = module.calls_named(*INIT_CALLS)
            if calls:
                spawns = starts_processes(module)
                for call in calls:
                    if backend(call) in TEST_BACKENDS:
                        continue
                    values = init_literals(call)
                    if values.get("world_size") == 1 and values.get("rank", 0) == 0:
                        values = {k: v for k, v in values.items() if k == "init_method"}  # one process on purpose
                    if spawns:
                        values.pop("world_size", None)  # the script starts that many processes itself
                    if values:
                        shown = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in values.items())
                        message = f"{call.last}({shown}) hard-codes the process topology; read it from the launcher"
                        yield self.finding(module.path, call.line, message)
            if writes_environment(module):
                yield from self._environment(module)

    def _environment(self, module: PythonModule) -> Iterator[Finding]:
        found = list(environment_literals(module))
        single = any(name == "WORLD_SIZE" and value.strip() == "1" for _, name, value, _ in found)
        for line, name, value, default in found:
            if name == ADDRESS_VARIABLE:
                if loopback(value):
                    continue
                what = "the main node's address"
            elif default or single:
                continue  # a default the launcher overrides, or a process group of one
            else:
                what = "the rank" if "RANK" in name else "the world size"
            written = f'os.environ.setdefault("{name}", "{value}")' if default else f'os.environ["{name}"] = "{value}"'
            yield self.finding(module.path, line, f"{written} hard-codes {what}; the launcher sets {name}")


# -- DT003 --------------------------------------------------------------------------------------------------------
DDP = "DistributedDataParallel"
FSDP = ("FullyShardedDataParallel", "fully_shard")
LOADERS = ("DataLoader", "StatefulDataLoader")
#: Signs that the data is sharded some other way than by a sampler: iterable datasets, Hugging Face's
#: `split_dataset_by_node`, WebDataset, a sampler of the project's own.
OTHER_SHARDING = lazy(r"IterableDataset|split_dataset_by_node|webdataset|\bwds\.|shard", re.IGNORECASE)


def ddp_calls(module: PythonModule) -> list[Call]:
    """Calls of `DistributedDataParallel`, also under an alias (`from ... import DistributedDataParallel as DDP`,
    `DDP = nn.parallel.DistributedDataParallel`)."""
    if DDP not in module.text:
        return []  # mutation: equivalent (callers use only its truth, and None is as false)
    aliases = {DDP}
    for node in module.walk():
        if isinstance(node, ast.ImportFrom):
            aliases.update(a.asname for a in node.names if a.name == DDP and a.asname)
        elif isinstance(node, ast.Assign) and (dotted_name(node.value) or "").endswith(DDP):
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return [c for c in module.calls if c.last == DDP or c.name in aliases]


def raw_distributed(module: PythonModule) -> bool:
    """Whether the module drives torch.distributed itself (DDP, FSDP or a process group of its own)."""
    return bool(ddp_calls(module) or module.calls_named(*FSDP) or module.calls_named("init_process_group"))


def unsampled_loaders(modules: list[PythonModule]) -> list[tuple[PythonModule, Call]]:
    """DataLoaders built without a sampler (`sampler=`, `batch_sampler=`, a fourth positional argument or
    `**kwargs` might pass one)."""
    out = []
    for module in modules:
        for call in module.calls_named(*LOADERS):
            passes_sampler = {"sampler", "batch_sampler", None} & set(call.keywords) or call.positional > 3
            if call.last in LOADERS and not passes_sampler:
                out.append((module, call))
    return out


def distributed_samplers(modules: list[PythonModule]) -> list[Call]:
    return [c for m in modules for c in m.calls if c.last.endswith("DistributedSampler")]


def shuffles(call: Call) -> bool:
    """Whether a DistributedSampler shuffles (its default), so that it needs `set_epoch` to reshuffle each epoch."""
    if "shuffle" not in call.keywords:
        return True
    value = next((k.value for k in call.node.keywords if k.arg == "shuffle"), None)
    return literal(value) is not False


class DistributedSamplerWithEpoch(Rule):
    """Raw DDP code shards its data with a DistributedSampler and calls `set_epoch`

    `DistributedDataParallel` averages gradients but leaves the data to the caller: a plain DataLoader gives every
    process the whole dataset, so N GPUs train on N copies of each batch and an epoch takes as long as on one. A
    `DistributedSampler` hands each rank its own shard, and `sampler.set_epoch(epoch)` at the start of every epoch
    reshuffles it — without it, every epoch visits the data in the same order. Only code that wraps a model in
    DDP itself is checked (Lightning's DDP strategy does both); iterable datasets, `split_dataset_by_node` and
    samplers passed in explicitly count as sharded.
    """

    code, severity = "DT003", Severity.WARNING
    fix = (
        "Pass `sampler=DistributedSampler(dataset)` and call `sampler.set_epoch(epoch)` each epoch, or let Lightning's "
        f"DDP strategy do it; see the template's `{DDP_CONFIG}`."
    )
    template_file = DDP_CONFIG
    example = "model = DDP(model)\nloader = DataLoader(dataset, batch_size=64, shuffle=True)"

    def check(self, python: list[PythonModule], repo: Repo) -> Iterator[Finding]:
        own = list(own_modules(python))
        samplers: list[Call] | None = None
        for module in own:
            calls = ddp_calls(module)
            if not calls:
                continue
            scope = import_closure(repo, [module])
            if any(OTHER_SHARDING.search(m.text) for m in scope):
                continue
            if samplers is None:
                samplers = distributed_samplers(own)
            loaders = unsampled_loaders(scope)
            if not samplers:
                if loaders:
                    where, loader = loaders[0]
                    at = f"line {loader.line}" if where is module else f"{where.path}:{loader.line}"
                    message = f"{DDP} without a DistributedSampler: the DataLoader ({at}) gives every rank all the data"
                    yield self.finding(module.path, calls[0].line, message)
            elif any(shuffles(s) for s in samplers) and not any(c.last == "set_epoch" for m in own for c in m.calls):
                message = "DistributedSampler without `sampler.set_epoch(epoch)`: every epoch shuffles the same way"
                yield self.finding(module.path, calls[0].line, message)


# -- DT004 --------------------------------------------------------------------------------------------------------
#: Calls that write a checkpoint or a tracker record, by dotted name (`torch.save` under any alias of torch).
TRACKER_WRITES = lazy(r"^(?:wandb\.(?:init|log|save|log_artifact|log_model)|mlflow\.(?:log_\w+|start_run|set_tags?))$")
#: What a rank-zero check looks like, in the condition or in the name of a function or decorator around the write.
RANK_ZERO = lazy(
    r"rank|master|main_process|is_main|is_primary|primary_process|is_chief|leader|zero|\bgpu\b|gpu_id|device_id",
    re.IGNORECASE,
)
MAX_CALLER_DEPTH = 3
#: A function referred to from more places than this is a utility; where it runs is not followed.
MAX_CALLERS = 50


def torch_aliases(module: PythonModule) -> set[str]:
    aliases = {"torch"}
    aliases.update(re.findall(r"^\s*import\s+torch\s+as\s+(\w+)", module.text, re.MULTILINE))
    return aliases


def writes(module: PythonModule) -> list[tuple[ast.Call, str]]:
    """(call node, what) for checkpoint saves and tracker writes (a SummaryWriter made counts as writing)."""
    aliases = torch_aliases(module)
    out = []
    for node in module.walk():
        if not isinstance(node, ast.Call):
            continue
        name = dotted_name(node.func) or ""
        head, _, last = name.rpartition(".")
        if last == "save" and head in aliases:
            out.append((node, f"{name}"))
        elif TRACKER_WRITES.match(name) or last == "SummaryWriter":
            out.append((node, name))
    return out


def _arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(k.value for k in call.keywords)]


class _Guards:
    """Whether a node runs on rank zero only, in one module."""

    def __init__(self, module: PythonModule) -> None:
        self.up = module.parents
        self.callers_guarded: dict[ast.AST, bool] = {}
        self.references: dict[str, list[ast.AST]] = {}
        for node in module.walk():
            if isinstance(node, ast.Name):
                self.references.setdefault(node.id, []).append(node)
            elif isinstance(node, ast.Attribute):
                self.references.setdefault(node.attr, []).append(node)

    def guarded(self, node: ast.AST, depth: int = 0) -> bool:
        if isinstance(node, ast.Call) and any(RANK_ZERO.search(source(a)) for a in _arguments(node)):
            return True  # wandb.init(mode="online" if rank == 0 else "disabled"), a file per rank
        child, parent = node, self.up.get(node)
        while parent is not None:
            condition = parent.test if isinstance(parent, ast.If | ast.While | ast.IfExp) else None
            if condition is not None and child is not condition and RANK_ZERO.search(source(condition)):
                return True
            if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
                return self._function_guarded(parent, child, depth)
            child, parent = parent, self.up.get(parent)
        return False

    def _function_guarded(self, function: ast.FunctionDef | ast.AsyncFunctionDef, child: ast.AST, depth: int) -> bool:
        if RANK_ZERO.search(function.name) or any(RANK_ZERO.search(source(d)) for d in function.decorator_list):
            return True
        for statement in function.body:  # `if rank != 0: return` before the write
            if statement is child:
                break
            if (
                isinstance(statement, ast.If)
                and RANK_ZERO.search(source(statement.test))
                and any(isinstance(s, ast.Return | ast.Continue | ast.Raise) for s in statement.body)
            ):
                return True
        if function in self.callers_guarded:
            return self.callers_guarded[function]
        self.callers_guarded[function] = True  # a recursive function is judged by its other callers
        sites = [n for n in self.references.get(function.name, []) if not self._inside(n, function)]
        if not sites or depth >= MAX_CALLER_DEPTH or len(sites) > MAX_CALLERS:
            return True  # called from elsewhere, or too far up to follow: not this rule's to say
        result = all(self.guarded(site, depth + 1) for site in sites)
        self.callers_guarded[function] = result
        return result

    def _inside(self, node: ast.AST, function: ast.AST) -> bool:
        parent = self.up.get(node)
        while parent is not None:
            if parent is function:
                return True
            parent = self.up.get(parent)
        return False


class RankZeroWrites(Rule):
    """Raw distributed loops save checkpoints and log from rank zero only

    In a loop that drives `torch.distributed` itself every process runs every line: an unguarded `torch.save`
    has N processes write the same file at once (a corrupt checkpoint when they race), and an unguarded
    `wandb.log` or `mlflow.log_metric` records N copies of every metric, or N runs. Guard them with a rank-zero
    check (`if dist.get_rank() == 0:`, `if is_main_process:`, a `@rank_zero_only` helper); Lightning's loggers and
    checkpoint callback already do. Any condition, helper or decorator that names the rank, the main/master
    process or rank zero counts as a guard.
    """

    code, severity = "DT004", Severity.WARNING
    fix = (
        "Wrap saves and tracker calls in `if rank == 0:` (or use Lightning, which logs and checkpoints from rank "
        f"zero); see the template's `{CLI}`."
    )
    template_file = CLI
    example = "for epoch in range(10):\n    train_one_epoch(model)\n    torch.save(model.state_dict(), 'ckpt.pt')"

    def check(self, python: list[PythonModule]) -> Iterator[Finding]:
        for module in own_modules(python):
            if "torch" not in module.text or not raw_distributed(module):
                continue
            found = writes(module)
            if not found:
                continue
            guards = _Guards(module)
            for node, what in found:
                if not guards.guarded(node):
                    kind = "a checkpoint" if what.endswith(".save") else "tracker output"
                    message = f"{what} writes {kind} on every rank: guard it with a rank-zero check (`if rank == 0:`)"
                    yield self.finding(module.path, node.lineno, message)
