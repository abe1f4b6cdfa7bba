"""Hyperparameter sweeps, read as the tool that runs them reads them: Ray Tune, Optuna and Hyperopt in Python (from
the syntax tree, never imported), W&B sweep configurations, Hydra's Optuna sweeper, and the generated project's own
sweep files (`configs/sweeps/*.yaml`, which its `tune` driver turns into a Ray Tune `Tuner`).

Each sweep is described by a few facts: where its search space is written, what stops weak trials early, its metric,
mode and seed, the resources a trial asks for, and what records its trials. A fact is *unknown* when the sweep
takes it from somewhere this reader cannot follow (a variable it cannot resolve, a factory function, `**kwargs`, a
config loaded at run time): rules never judge an unknown fact. A fact is `not applicable` (None) where the tool has
no such setting (Hyperopt cannot stop a trial early; W&B's search has no seed).

Python is looked at only in modules that import Ray Tune, Optuna, Hyperopt or W&B; names are resolved through the
assignments of the enclosing function and of the module (a few steps deep, never through calls or imports).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fsdl_check.parsing.python import PythonModule, dotted_name
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of
from fsdl_check.regex import lazy

#: Sampling functions of Ray Tune's search space API (`tune.uniform`, ...) and of Hyperopt's (`hp.uniform`, ...).
TUNE_SAMPLERS = frozenset(
    {"uniform", "quniform", "loguniform", "qloguniform", "randn", "qrandn", "randint", "qrandint", "lograndint",
     "qlograndint", "choice", "grid_search", "sample_from"}
)  # fmt: skip
HYPEROPT_SAMPLERS = frozenset(
    {"choice", "pchoice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
     "lognormal", "qlognormal", "uniformint"}
)  # fmt: skip
#: Ray Tune schedulers that stop (or replace) weak trials early. `FIFOScheduler` runs every trial to the end.
EARLY_STOPPING_SCHEDULERS = frozenset(
    {"ASHAScheduler", "AsyncHyperBandScheduler", "HyperBandScheduler", "HyperBandForBOHB", "MedianStoppingRule",
     "PopulationBasedTraining", "PopulationBasedTrainingReplay", "PB2"}
)  # fmt: skip
#: Ray Tune stoppers that end a trial on its own results (the others are budgets: iterations, time).
EARLY_STOPPING_STOPPERS = frozenset({"TrialPlateauStopper", "ExperimentPlateauStopper", "FunctionStopper"})
#: `create_scheduler(name)` names (Ray's registry).
SCHEDULER_NAMES = frozenset({"async_hyperband", "asha", "hyperband", "hb_bohb", "median_stopping_rule", "pbt", "pb2"})
#: Keywords that seed a searcher, sampler or search (`OptunaSearch(seed=)`, `HyperOptSearch(random_state_seed=)`,
#: `BasicVariantGenerator(random_state=)`, `TPESampler(seed=)`, `fmin(rstate=)`).
SEED_KEYWORDS = frozenset({"seed", "random_state", "random_state_seed", "rstate", "random_seed"})
#: Global seeding calls that make Ray Tune's default search reproducible (Ray's FAQ).
GLOBAL_SEEDS = frozenset({"np.random.seed", "numpy.random.seed", "random.seed"})
#: Searchers that wrap another (`ConcurrencyLimiter(searcher, max_concurrent=2)`).
SEARCHER_WRAPPERS = frozenset({"ConcurrencyLimiter", "Repeater"})
#: Calls that report a Ray Tune trial's results.
TUNE_REPORTS = frozenset({"report", "reporter"})
#: Callbacks that report to Tune from a training framework, every epoch (iterative by construction).
TUNE_FRAMEWORK_CALLBACKS = frozenset(
    {"TuneReportCallback", "TuneReportCheckpointCallback", "RayTrainReportCallback", "TuneCallback"}
)  # fmt: skip
#: Ray Train trainers: passed to a `Tuner`, they report every epoch and carry a `ScalingConfig`.
RAY_TRAINERS = frozenset(
    {"TorchTrainer", "LightningTrainer", "TransformersTrainer", "TensorflowTrainer", "XGBoostTrainer",
     "LightGBMTrainer", "DataParallelTrainer", "HorovodTrainer", "AccelerateTrainer"}
)  # fmt: skip
#: Calls that declare a trial's resources to Ray.
RAY_RESOURCES = frozenset({"with_resources", "PlacementGroupFactory", "ScalingConfig"})
#: Optuna samplers that need no seed (they enumerate the grid).
UNSEEDED_OK_SAMPLERS = frozenset({"GridSampler", "BruteForceSampler"})
#: Searchers and samplers that take a seed (their keyword is in `SEED_KEYWORDS`); others (Ax, Nevergrad, ZOOpt, a
#: project's own class) are seeded some other way, if at all, and are not judged.
SEEDABLE = frozenset(
    {"BasicVariantGenerator", "OptunaSearch", "HyperOptSearch", "BayesOptSearch", "TuneBOHB", "HEBOSearch",
     "TPESampler", "RandomSampler", "CmaEsSampler", "NSGAIISampler", "NSGAIIISampler", "QMCSampler", "GPSampler",
     "BoTorchSampler"}
)  # fmt: skip
#: Methods and helpers that compare trials by a metric (`results.get_best_result(metric=, mode=)`).
BEST_OF = frozenset({"get_best_result", "get_best_trial", "get_best_config", "get_best_checkpoint", "get_best_logdir"})
#: Distributions of the generated project's sweep files (`space: {model.lr: {loguniform: [1e-4, 1e-2]}}`).
PROJECT_DISTRIBUTIONS = frozenset({"uniform", "loguniform", "randint", "choice", "quniform", "qloguniform", "grid"})
#: Metric names that are better when higher (a study or sweep that minimizes them by default optimizes backwards).
HIGHER_IS_BETTER = lazy(
    r"(?:^|[^a-z])(acc|accuracy|auc|auroc|roc_auc|f1|fscore|precision|recall|map|iou|miou|dice|bleu|rouge|r2|"
    r"score|reward|return|top1|top5|psnr|ssim)(?:$|[^a-z])",
    re.IGNORECASE,
)
#: How deep names are followed (`a = b`, `b = c`, ...) and nested spaces read.
MAX_RESOLVE = 5
MAX_DEPTH = 40
#: Most sweeps read from one module (a generated file with thousands of `create_study` calls stays quick).
MAX_SWEEPS_PER_MODULE = 200


@dataclass(frozen=True)
class Fact:
    """One setting of a sweep. `known` False: taken from somewhere this reader cannot follow (never judged).
    `value` None with `known` True: not set (the tool's default applies); `note` says what that default does."""

    known: bool
    value: str | None
    line: int
    note: str = ""

    @property
    def missing(self) -> bool:
        return self.known and self.value is None


def unknown(line: int) -> Fact:
    return Fact(False, None, line)


def absent(line: int, note: str = "") -> Fact:
    return Fact(True, None, line, note)


def present(value: str, line: int) -> Fact:
    return Fact(True, value, line)


@dataclass
class Sweep:
    """A hyperparameter search, as declared at `path`:`line`.

    - `tool`: "ray", "optuna", "hyperopt", "wandb", "hydra" (Hydra's Optuna sweeper) or "project" (the generated
      project's sweep file);
    - `space_in_code`: the line of a search space written as literal values in Python, else None; `parameters` how
      many of its distributions are literal;
    - `early_stopping`: what stops weak trials early (value "" or None: nothing); None where the tool cannot, or
      where trials report once (nothing to stop);
    - `metric`, `mode`, `seed`: None where the tool has no such setting or fixes it (Hyperopt minimizes the
      objective's return value);
    - `resources`: what a trial asks for (Ray Tune), None elsewhere;
    - `tracked_by`: what records the trials by construction (W&B sweeps, an Optuna storage, a tracker callback),
      else None; `module` is where to look for a tracker in the trial's code.
    """

    tool: str
    path: str
    line: int
    label: str
    space_in_code: int | None = None
    parameters: int = 0
    early_stopping: Fact | None = None
    metric: Fact | None = None
    mode: Fact | None = None
    seed: Fact | None = None
    resources: Fact | None = None
    tracked_by: str | None = None
    module: PythonModule | None = field(default=None, repr=False, compare=False)


def find_sweeps(python: list[PythonModule], yaml_files: list[YamlDoc]) -> list[Sweep]:
    """Every sweep of the modules and YAML documents, in path order."""
    sweeps: list[Sweep] = []
    # A repository that defines the tools' entry points (Ray, Optuna, Hyperopt themselves) calls them in its own
    # machinery with its callers' arguments: those calls are not sweeps.
    machinery = frozenset(
        anchor
        for anchor, (name, package) in MACHINERY.items()
        for m in python
        if f"{package}/" in f"/{m.path}"
        and (any(f.name == name and not f.method for f in m.public_functions) or any(c.name == name for c in m.classes))
    )
    for module in python:
        if module.parsed and module.imports_any("ray", "optuna", "hyperopt", "wandb"):
            sweeps.extend(_python_sweeps(module, machinery))
    by_path = {m.path: m for m in python if m.parsed}
    for doc in yaml_files:
        for data in doc.documents:
            sweep = _yaml_sweep(doc.path, data)
            if sweep is not None:
                if sweep.tool == "wandb" and not _program_iterative(doc.path, data, by_path):
                    sweep.early_stopping = None
                sweeps.append(sweep)
    return sorted(sweeps, key=lambda s: (s.path, s.line))


# -- Python -------------------------------------------------------------------------------------------------------
#: Anchor (a call's final name) -> the definition, and the package it lives in, that make a repository the tool
#: itself (`class Tuner` under `ray/tune/`).
MACHINERY = {
    "Tuner": ("Tuner", "ray/tune"),
    "run": ("Tuner", "ray/tune"),
    "create_study": ("create_study", "optuna"),
    "fmin": ("fmin", "hyperopt"),
}


def _python_sweeps(module: PythonModule, machinery: frozenset[str]) -> list[Sweep]:
    anchors = [
        c
        for c in module.calls
        if (c.last in ("Tuner", "create_study", "fmin", "sweep") or c.name in ("tune.run", "ray.tune.run"))
        and c.last not in machinery
    ]
    if not anchors or module.tree is None:
        return []
    reader = _Module(module)
    sweeps: list[Sweep] = []
    for call in anchors[:MAX_SWEEPS_PER_MODULE]:
        try:
            node = call.node
        except (LookupError, IndexError):
            continue
        name = call.name
        sweep: Sweep | None = None
        if call.last == "Tuner" and module.imports_any("ray"):
            sweep = reader.ray(node, "Tuner")
        elif name in ("tune.run", "ray.tune.run"):
            sweep = reader.ray(node, "tune.run")
        elif call.last == "create_study" and (name == "optuna.create_study" or "optuna.create_study" in module.imports):
            sweep = reader.optuna(node)
        elif call.last == "fmin" and module.imports_any("hyperopt") and name in ("fmin", "hyperopt.fmin"):
            sweep = reader.hyperopt(node)
        elif name == "wandb.sweep":
            sweep = reader.wandb(node)
        if sweep is not None:
            sweeps.append(sweep)
    return sweeps


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _keyword(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if (
        position is not None
        and position < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1])
    ):
        return call.args[position]
    return None


def _has_splat(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args)


def _callee(node: ast.AST) -> str:
    """The final name of a call's callee (`ASHAScheduler` for `tune.schedulers.ASHAScheduler(...)`), else ""."""
    if isinstance(node, ast.Call):
        name = dotted_name(node.func)
        return name.rpartition(".")[2] if name else ""
    return ""


def _literal(node: ast.AST, depth: int = 0) -> bool:
    """Whether `node` is a value written in the code: constants, containers and arithmetic of them, math of them
    (`np.log(1e-4)`), `range(...)`, and sampling calls of literals."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_literal(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _literal(k, depth + 1) for k in node.keys) and all(
            _literal(v, depth + 1) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand, depth + 1)
    if isinstance(node, ast.BinOp):
        return _literal(node.left, depth + 1) and _literal(node.right, depth + 1)
    if isinstance(node, ast.Call):
        name = dotted_name(node.func) or ""
        last = name.rpartition(".")[2]
        if last in ("log", "log10", "log2", "exp", "range", "list", "tuple", "arange", "linspace", "logspace"):
            return all(_literal(a, depth + 1) for a in node.args)
        return False
    return False


class _Module:
    """One module's syntax tree with what name resolution needs: each node's enclosing function, and the
    assignments of every scope (built once)."""

    def __init__(self, module: PythonModule) -> None:
        self.module = module
        tree = module.tree
        assert tree is not None
        self.tree = tree
        self.calls: list[ast.Call] = []
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        spans: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        assigned: list[tuple[int, str, ast.expr]] = []
        for node in module.walk():  # every node once (the module keeps this list for the other rules too)
            kind = type(node)
            if kind is ast.Call:
                self.calls.append(node)  # type: ignore[arg-type]
            elif kind is ast.Assign:
                for target in node.targets:  # type: ignore[attr-defined]
                    if isinstance(target, ast.Name):
                        assigned.append((node.lineno, target.id, node.value))  # type: ignore[attr-defined]
            elif kind is ast.AnnAssign or kind is ast.NamedExpr:
                target, value = node.target, node.value  # type: ignore[attr-defined]
                if isinstance(target, ast.Name) and value is not None:
                    assigned.append((node.lineno, target.id, value))  # type: ignore[attr-defined]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                spans.append(node)  # type: ignore[arg-type]
                self.functions.setdefault(node.name, node)  # type: ignore[attr-defined,arg-type]
            elif kind is ast.ClassDef:
                self.classes.setdefault(node.name, node)  # type: ignore[attr-defined,arg-type]
        self.calls.sort(key=lambda c: (c.lineno, c.col_offset))
        # Functions by first line, each with the innermost function around it: the scope of a line is found by
        # stepping out from the last function that starts before it (intervals nest, so this is the depth).
        spans.sort(key=lambda f: (f.lineno, -(f.end_lineno or f.lineno)))
        self._starts = [f.lineno for f in spans]
        self._ends = [f.end_lineno or f.lineno for f in spans]
        self._spans = spans
        self._parent: list[int] = []
        for i, start in enumerate(self._starts):
            j = i - 1
            while j >= 0 and self._ends[j] < start:
                j = self._parent[j]
            self._parent.append(j)
        self.assignments: dict[tuple[int, str], list[tuple[int, ast.expr]]] = {}  # (scope, name) -> [(line, value)]
        for line, name, value in assigned:
            self.assignments.setdefault((id(self.scope(line)), name), []).append((line, value))
        for values in self.assignments.values():
            values.sort(key=lambda item: item[0])
        self.by_callee: dict[str, list[ast.Call]] = {}
        for call in self.calls:
            self.by_callee.setdefault(_callee(call), []).append(call)
        # Module-wide facts, computed once however many sweeps the module holds.
        self.global_seed = next(
            ((name, c.lineno) for c in self.calls if (name := dotted_name(c.func) or "") in GLOBAL_SEEDS), None
        )
        self.best_of = self.calls_named(*BEST_OF)
        self._iterative_module: bool | None = None
        self._objective_functions: list[ast.FunctionDef | ast.AsyncFunctionDef] | None = None
        self._tracking: tuple[str | None] | None = None
        self._memo: dict[str, Any] = {}

    def scope(self, line: int) -> ast.AST:
        """The innermost function around `line`, else the module."""
        i = bisect.bisect_right(self._starts, line) - 1
        while i >= 0 and self._ends[i] < line:
            i = self._parent[i]
        return self._spans[i] if i >= 0 else self.tree

    # -- resolution -----------------------------------------------------------------------------------------------
    def resolve(self, node: ast.expr | None, at: ast.AST) -> ast.expr | None:
        """`node`, with a name replaced by the value last assigned to it before `at` in `at`'s function (or at
        module level); a name it cannot resolve stays a name."""
        for _ in range(MAX_RESOLVE):
            if not isinstance(node, ast.Name):
                return node
            value = self._assigned(node.id, at)
            if value is None:
                return node
            node = value
        return node

    def _assigned(self, name: str, at: ast.AST) -> ast.expr | None:
        """The value last assigned to `name` before `at` (in `at`'s function, else at module level), leaving out
        the assignment `at` is part of (`algo = ConcurrencyLimiter(algo)` reads the earlier `algo`)."""
        line = getattr(at, "lineno", 0)
        scope = self.scope(line)
        for key in (id(scope), id(self.tree)):
            found = [
                (ln, v)
                for ln, v in self.assignments.get((key, name), [])
                if not (v.lineno <= line <= (v.end_lineno or v.lineno)) and (key == id(self.tree) or ln <= line)
            ]
            if found:
                return found[-1][1] if key != id(self.tree) else _last_before(found, line)
        return None

    def call(self, node: ast.expr | None, at: ast.AST) -> ast.Call | None:
        value = self.resolve(node, at)
        return value if isinstance(value, ast.Call) else None

    def _built(self, node: ast.expr | None, at: ast.AST, class_name: str) -> ast.Call | None:
        """The `class_name(...)` call `node` is (or names), else None (a factory's result is not followed)."""
        call = self.call(node, at)
        return call if call is not None and _callee(call) == class_name else None

    def calls_named(self, *names: str) -> list[ast.Call]:
        found = [c for name in names for c in self.by_callee.get(name, ())]
        return sorted(found, key=lambda c: (c.lineno, c.col_offset)) if len(names) > 1 else found

    def has_call(self, *names: str) -> bool:
        return any(name in self.by_callee for name in names)

    # -- Ray Tune -------------------------------------------------------------------------------------------------
    def ray(self, node: ast.Call, label: str) -> Sweep:
        line = node.lineno
        sweep = Sweep("ray", self.module.path, line, "tune.Tuner" if label == "Tuner" else label, module=self.module)
        splat = _has_splat(node)
        if label == "Tuner":
            trainable = _keyword(node, "trainable", 0)
            space = _keyword(node, "param_space")
            config = self._built(_keyword(node, "tune_config"), node, "TuneConfig")
            config_unknown = splat or (_keyword(node, "tune_config") is not None and config is None)
            settings: ast.Call | None = config
            run_config = self._built(_keyword(node, "run_config"), node, "RunConfig")
            if config is not None:
                config_unknown = config_unknown or _has_splat(config)
        else:
            trainable = _keyword(node, "run_or_experiment", 0)
            space = _keyword(node, "config")
            settings = node
            config_unknown = splat
            run_config = node
        self._space(sweep, space, node)
        scheduler = self.call(_keyword(settings, "scheduler"), node) if settings is not None else None
        searcher = self.call(_keyword(settings, "search_alg"), node) if settings is not None else None
        searcher = self._unwrap_searcher(searcher, node)
        multi = any(
            isinstance(self.resolve(_keyword(c, "metric"), node), ast.List | ast.Tuple)
            for c in (settings, scheduler, searcher)
            if c is not None
        )
        if not multi:  # several objectives: Tune's early-stopping schedulers take one metric
            sweep.early_stopping = self._ray_early_stopping(node, settings, config_unknown, run_config, trainable)
        sweep.metric, sweep.mode = self._ray_metric_mode(node, settings, config_unknown, scheduler, searcher)
        sweep.seed = self._ray_seed(node, settings, config_unknown, searcher, space)
        sweep.resources = self._ray_resources(node, label, trainable)
        sweep.tracked_by = self._ray_tracking(run_config)
        return sweep

    def _space(self, sweep: Sweep, space: ast.expr | None, at: ast.AST) -> None:
        value = self.resolve(space, at)
        if value is None:
            return
        count = _count_literal_distributions(value, self.module)
        if count:
            sweep.space_in_code = value.lineno if hasattr(value, "lineno") else at.lineno  # type: ignore[attr-defined]
            sweep.parameters = count

    def _unwrap_searcher(self, searcher: ast.Call | None, at: ast.AST) -> ast.Call | None:
        for _ in range(MAX_RESOLVE):
            if searcher is None or _callee(searcher) not in SEARCHER_WRAPPERS:
                return searcher
            searcher = self.call(_keyword(searcher, "searcher", 0), searcher)
        return searcher

    def _ray_early_stopping(
        self,
        node: ast.Call,
        settings: ast.Call | None,
        config_unknown: bool,
        run_config: ast.Call | None,
        trainable: ast.expr | None,
    ) -> Fact | None:
        iterative = self._iterative(trainable, node)
        if not iterative and not self._reports_once(trainable, node):
            return None  # an estimator fitted once per trial, or a trainable not defined here: nothing to judge
        if run_config is not None:
            stop = self.resolve(_keyword(run_config, "stop"), node)
            if isinstance(stop, ast.Call) and _callee(stop) in EARLY_STOPPING_STOPPERS:
                return present(_callee(stop), stop.lineno)
        if config_unknown:
            return unknown(node.lineno)
        where = settings.lineno if settings is not None else node.lineno
        raw = _keyword(settings, "scheduler") if settings is not None else None
        once = "" if iterative else "; and each trial reports once: report every epoch for a scheduler to act on"
        if raw is None or _is_none(raw):
            return absent(where, f"no scheduler: every trial runs to the end (FIFO){once}")
        scheduler = self.resolve(raw, node)
        fact = self._scheduler_fact(scheduler, node, depth=0)
        return absent(fact.line, f"{fact.note}{once}") if fact.missing and once else fact

    def _unwrapped(self, trainable: ast.expr | None, at: ast.AST) -> ast.expr | None:
        """The trainable inside `tune.with_resources(tune.with_parameters(fn, ...), ...)` or `partial(fn, ...)`."""
        target = self.resolve(trainable, at)
        for _ in range(MAX_RESOLVE):
            if isinstance(target, ast.Call) and _callee(target) in ("with_resources", "with_parameters", "partial"):
                target = self.resolve(target.args[0] if target.args else None, at)
            else:
                break
        return target

    def _reports_once(self, trainable: ast.expr | None, at: ast.AST) -> bool:
        """Whether the trainable is a function of this module that reports once without fitting an estimator
        (`model.fit(...)`, which a scheduler could not cut short): it could report every epoch instead."""
        target = self._unwrapped(trainable, at)
        function = self.functions.get(target.id) if isinstance(target, ast.Name) else None
        if function is None:
            return False
        return not any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fit"
            for n in ast.walk(function)
        )

    def _scheduler_fact(self, scheduler: ast.expr | None, at: ast.AST, depth: int) -> Fact:
        line = getattr(scheduler, "lineno", at.lineno)  # type: ignore[attr-defined]
        if not isinstance(scheduler, ast.Call) or depth > MAX_RESOLVE:
            return absent(line, "the scheduler is None") if _is_none(scheduler) else unknown(line)
        name = _callee(scheduler)
        if name in EARLY_STOPPING_SCHEDULERS:
            return present(name, line)
        if name == "FIFOScheduler":
            return absent(line, "FIFOScheduler runs every trial to the end")
        if name == "ResourceChangingScheduler":
            base = _keyword(scheduler, "base_scheduler", 0)
            if base is None or _is_none(base):
                return absent(line, "ResourceChangingScheduler without a base scheduler runs every trial to the end")
            return self._scheduler_fact(self.resolve(base, at), at, depth + 1)
        if name == "create_scheduler":
            kind = _keyword(scheduler, "scheduler", 0)
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                if kind.value == "fifo":
                    return absent(line, 'create_scheduler("fifo") runs every trial to the end')
                if kind.value in SCHEDULER_NAMES:
                    return present(kind.value, line)
        return unknown(line)

    def _iterative(self, trainable: ast.expr | None, at: ast.AST) -> bool:
        """Whether trials report more than once (a scheduler has something to act on): a Ray Train trainer, a
        `Trainable` class, a framework callback that reports every epoch, or a report inside a loop."""
        target = self._unwrapped(trainable, at)
        if isinstance(target, ast.Call) and _callee(target) in RAY_TRAINERS:
            return True
        if isinstance(target, ast.Constant):
            return True  # a registered trainable ("PPO"): RLlib algorithms report every iteration
        function: ast.AST | None = None
        if isinstance(target, ast.Name):
            function = self.functions.get(target.id) or self.classes.get(target.id)
        elif isinstance(target, ast.Lambda):
            function = target
        if isinstance(function, ast.ClassDef):
            return True  # a Trainable subclass: `step` runs once per iteration
        if function is None:
            if self._iterative_module is None:
                self._iterative_module = _reports_repeatedly(self.tree)
            return self._iterative_module
        # The function and those it calls in this module (its training loop may live there).
        called = {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        scopes = [function, *(self.functions[name] for name in sorted(called) if name in self.functions)]
        return any(_reports_repeatedly(scope) for scope in scopes)

    def _ray_metric_mode(
        self,
        node: ast.Call,
        settings: ast.Call | None,
        config_unknown: bool,
        scheduler: ast.Call | None,
        searcher: ast.Call | None,
    ) -> tuple[Fact, Fact]:
        sources = [c for c in (settings, scheduler, searcher) if c is not None]
        sources += self.best_of
        metric = next((m for c in sources if (m := self._set(c, "metric", 0 if _callee(c) in BEST_OF else None))), None)
        mode = next((m for c in sources if (m := self._set(c, "mode", 1 if _callee(c) in BEST_OF else None))), None)
        line = settings.lineno if settings is not None else node.lineno
        unknowable = config_unknown or any(
            _keyword(settings, k) is not None and self.call(_keyword(settings, k), node) is None
            for k in ("scheduler", "search_alg")
            if settings is not None and not _is_none(_keyword(settings, k))
        )

        def fact(found: Fact | None) -> Fact:
            if found is not None:
                return found
            return unknown(line) if unknowable else absent(line)

        return fact(metric), fact(mode)

    def _set(self, call: ast.Call, name: str, position: int | None) -> Fact | None:
        value = _keyword(call, name, position)
        if value is None or _is_none(value):
            return None
        text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else name
        return present(text, value.lineno)

    def _ray_seed(
        self,
        node: ast.Call,
        settings: ast.Call | None,
        config_unknown: bool,
        searcher: ast.Call | None,
        space: ast.expr | None,
    ) -> Fact:
        line = settings.lineno if settings is not None else node.lineno
        if config_unknown:
            return unknown(line)
        seeded = self._seeded(searcher) if searcher is not None else None
        if seeded is not None and not seeded.missing:
            return seeded
        raw = _keyword(settings, "search_alg") if settings is not None else None
        if searcher is None and raw is not None and not _is_none(raw):
            return unknown(line)  # a searcher built elsewhere
        if self.global_seed is not None:
            return present(*self.global_seed)
        if searcher is not None:
            return seeded if seeded is not None else unknown(line)
        value = self.resolve(space, node)
        if value is not None and _only_grid(value):
            return present("grid", line)  # every combination runs: there is no random draw to seed
        return absent(line, "the default random search")

    def _seeded(self, call: ast.Call) -> Fact | None:
        """`present` when the call (or a sampler it is given) sets a seed, `absent` when a known searcher sets
        none, None when it cannot be told."""
        for kw in call.keywords:
            if kw.arg in SEED_KEYWORDS and not _is_none(kw.value):
                return present(kw.arg, kw.value.lineno)
            if kw.arg is None:
                return unknown(call.lineno)
        sampler = self.call(_keyword(call, "sampler"), call)
        if sampler is not None:
            if _callee(sampler) in UNSEEDED_OK_SAMPLERS:
                return present(_callee(sampler), sampler.lineno)
            return self._seeded(sampler)
        name = _callee(call)
        if name in SEEDABLE:
            return absent(call.lineno, name)
        return None

    def _ray_resources(self, node: ast.Call, label: str, trainable: ast.expr | None) -> Fact:
        if label == "tune.run" and _keyword(node, "resources_per_trial") is not None:
            return present("resources_per_trial", node.lineno)
        if self.has_call(*RAY_RESOURCES) or "default_resource_request" in self.functions:
            return present("declared", node.lineno)
        target = self.resolve(trainable, node)
        while isinstance(target, ast.Call) and _callee(target) in ("with_parameters", "partial") and target.args:
            target = self.resolve(target.args[0], node)
        if isinstance(target, ast.Name) and target.id in self.functions:
            return absent(node.lineno)
        if isinstance(target, ast.Lambda):
            return absent(node.lineno)
        return unknown(node.lineno)

    def _ray_tracking(self, run_config: ast.Call | None) -> str | None:
        if self._tracking is None:
            self._tracking = (self._find_tracking(),)
        return self._tracking[0]

    def _find_tracking(self) -> str | None:
        names = {"MLflowLoggerCallback", "WandbLoggerCallback", "CometLoggerCallback", "AimLoggerCallback",
                 "TBXLoggerCallback", "setup_mlflow", "setup_wandb", "mlflow_mixin", "wandb_mixin"}  # fmt: skip
        for name in sorted(names):
            if name in self.by_callee:
                return name
        for function in self._spans:  # @mlflow_mixin, @wandb_mixin without a call
            if any((dotted_name(d) or "").rpartition(".")[2] in names for d in function.decorator_list):
                return "a tracking decorator"
        return None

    # -- Optuna ---------------------------------------------------------------------------------------------------
    def optuna(self, node: ast.Call) -> Sweep:
        line = node.lineno
        sweep = Sweep("optuna", self.module.path, line, "optuna.create_study", module=self.module)
        splat = _has_splat(node)
        objectives = self._objectives()
        # The space: `trial.suggest_*` calls in the objective (define-by-run is Optuna's design, not a smell).
        sweep.early_stopping = self._optuna_pruning(node, splat, objectives)
        sweep.metric = None  # the objective's return value, by construction
        sweep.mode = self._optuna_direction(node, splat, objectives)
        sweep.seed = self._optuna_seed(node, splat)
        storage = _keyword(node, "storage")
        if storage is not None and not _is_none(storage):
            sweep.tracked_by = "the study's storage"
        elif self.has_call("MLflowCallback", "WeightsAndBiasesCallback", "track_in_mlflow", "track_in_wandb"):
            sweep.tracked_by = "an Optuna tracking callback"
        elif splat:
            sweep.tracked_by = "unknown"
        return sweep

    def _objectives(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        """Functions that take a `trial` or call `trial.suggest_*` (Optuna objectives), found once."""
        if self._objective_functions is None:
            self._objective_functions = self._find_objectives()
        return self._objective_functions

    def _find_objectives(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        """The functions given to `study.optimize` (through a lambda or `partial`), else, where `optimize` is
        given something else, every function that takes a `trial`; none for ask-and-tell loops (`study.ask()`)."""
        optimized = self.calls_named("optimize")
        if not optimized:
            return []
        named: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for call in optimized:
            target = self.resolve(_keyword(call, "func", 0), call)
            if isinstance(target, ast.Call) and _callee(target) == "partial" and target.args:
                target = target.args[0]
            if isinstance(target, ast.Lambda):
                names = [
                    n.func.id for n in ast.walk(target.body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                ]
                named += [self.functions[n] for n in names if n in self.functions]
            elif isinstance(target, ast.Name) and target.id in self.functions:
                named.append(self.functions[target.id])
        if named:
            return named
        found = []
        for function in self.functions.values():
            params = [a.arg for a in function.args.args]
            if "trial" in params or any(
                isinstance(n, ast.Call) and _callee(n).startswith("suggest_") for n in ast.walk(function)
            ):
                found.append(function)
        return found

    def _optuna_pruning(
        self, node: ast.Call, splat: bool, objectives: list[ast.FunctionDef | ast.AsyncFunctionDef]
    ) -> Fact | None:
        prunes = self.has_call("should_prune") or any("Pruning" in name for name in self.by_callee)
        if "iterative" not in self._memo:
            self._memo["iterative"] = any(_has_loop(f) or _fits_for_epochs(f) for f in objectives)
        iterative = prunes or self._memo["iterative"]
        if not iterative or _keyword(node, "directions") is not None:
            return None  # one value per trial (nothing to prune on), or several objectives (Optuna cannot prune)
        if splat:
            return unknown(node.lineno)
        raw = _keyword(node, "pruner")
        pruner = self.resolve(raw, node)
        if isinstance(pruner, ast.Call) and _callee(pruner) == "NopPruner":
            return absent(pruner.lineno, "NopPruner never prunes")
        if not prunes:
            return absent(node.lineno, "the objective never calls trial.report and trial.should_prune")
        if raw is None or _is_none(raw):
            return present("MedianPruner (Optuna's default)", node.lineno)
        return present((_callee(pruner) if pruner is not None else "") or "a pruner", node.lineno)

    def _optuna_direction(
        self, node: ast.Call, splat: bool, objectives: list[ast.FunctionDef | ast.AsyncFunctionDef]
    ) -> Fact | None:
        for name in ("direction", "directions"):
            value = _keyword(node, name)
            if value is not None and not _is_none(value):
                text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else name
                return present(text, value.lineno)
        if splat:
            return unknown(node.lineno)
        if "returned" not in self._memo:
            self._memo["returned"] = _higher_is_better_return(objectives)
        returned = self._memo["returned"]
        if returned is None:
            return present("minimize (Optuna's default)", node.lineno)
        return absent(node.lineno, returned)

    def _optuna_seed(self, node: ast.Call, splat: bool) -> Fact:
        raw = _keyword(node, "sampler")
        if raw is None or _is_none(raw):
            return unknown(node.lineno) if splat else absent(node.lineno, "the default sampler")
        sampler = self.call(raw, node)
        if sampler is None:
            return unknown(node.lineno)
        if _callee(sampler) in UNSEEDED_OK_SAMPLERS:
            return present(_callee(sampler), sampler.lineno)
        seeded = self._seeded(sampler)
        return seeded if seeded is not None else unknown(sampler.lineno)

    # -- Hyperopt -------------------------------------------------------------------------------------------------
    def hyperopt(self, node: ast.Call) -> Sweep:
        sweep = Sweep("hyperopt", self.module.path, node.lineno, "hyperopt.fmin", module=self.module)
        self._space(sweep, _keyword(node, "space", 1), node)
        sweep.metric = sweep.mode = None  # the objective's loss, minimized
        trials = self.call(_keyword(node, "trials", 4), node)
        if trials is not None and _callee(trials) == "MongoTrials":
            sweep.tracked_by = "MongoTrials"
        rstate = _keyword(node, "rstate", 5)
        if rstate is not None and not _is_none(rstate):
            sweep.seed = present("rstate", rstate.lineno)
        elif _has_splat(node):
            sweep.seed = unknown(node.lineno)
        else:
            sweep.seed = absent(node.lineno, "fmin's rstate")
        return sweep

    # -- W&B sweeps defined in code -------------------------------------------------------------------------------
    def wandb(self, node: ast.Call) -> Sweep | None:
        config = self.resolve(_keyword(node, "sweep", 0), node)
        if not isinstance(config, ast.Dict):
            return None
        try:
            data = ast.literal_eval(config)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            data = None
        if isinstance(data, dict):
            sweep = _wandb_sweep(self.module.path, node.lineno, data, config.lineno)
        else:  # values computed in code: only its distributions are read
            sweep = Sweep("wandb", self.module.path, node.lineno, "wandb.sweep")
        if sweep is None:
            return None
        sweep.label = "wandb.sweep"
        sweep.space_in_code = config.lineno
        if not _logs_repeatedly(self.tree):
            sweep.early_stopping = None
        parameters = next(
            (v for k, v in zip(config.keys, config.values, strict=True) if _const(k) == "parameters"), None
        )
        sweep.parameters = len(parameters.keys) if isinstance(parameters, ast.Dict) else 0
        return sweep


def _const(node: ast.AST | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _last_before(found: list[tuple[int, ast.expr]], line: int) -> ast.expr:
    before = [v for ln, v in found if ln <= line]
    return before[-1] if before else found[-1][1]


def _is_sampling(node: ast.Call, module: PythonModule) -> bool:
    name = dotted_name(node.func) or ""
    prefix, _, last = name.rpartition(".")
    owner = prefix.rpartition(".")[2]
    if owner == "tune" and last in TUNE_SAMPLERS:
        return True
    if owner == "hp" and last in HYPEROPT_SAMPLERS:
        return True
    if not prefix:  # `from ray.tune import uniform`
        return f"ray.tune.{last}" in module.imports and last in TUNE_SAMPLERS
    return False


def _count_literal_distributions(node: ast.AST, module: PythonModule) -> int:
    """Distributions (`tune.uniform(1e-4, 1e-1)`, `hp.choice("x", [...])`) written with literal bounds in `node`
    (a dict display, `dict(...)`, or one distribution), through nested dicts and lists."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(current, ast.Call) and _is_sampling(current, module):
            arguments = [*current.args, *(kw.value for kw in current.keywords)]
            if arguments and all(_literal(a) or _nested_space(a, module) for a in arguments):
                count += 1
            continue
        if isinstance(current, ast.Dict):
            stack.extend((v, depth + 1) for v in current.values)
        elif isinstance(current, ast.List | ast.Tuple):
            stack.extend((v, depth + 1) for v in current.elts)
        elif isinstance(current, ast.Call) and dotted_name(current.func) == "dict":
            stack.extend((kw.value, depth + 1) for kw in current.keywords)
    return count


def _nested_space(node: ast.AST, module: PythonModule) -> bool:
    """A list or dict of literal values and literal distributions (Hyperopt's conditional spaces)."""
    if isinstance(node, ast.List | ast.Tuple | ast.Dict):
        return _count_literal_distributions(node, module) > 0
    return False


def _only_grid(node: ast.AST) -> bool:
    """Whether a literal space draws nothing at random (grid searches and constants only)."""
    if not isinstance(node, ast.Dict):
        return False
    for value in node.values:
        if isinstance(value, ast.Dict):
            if not _only_grid(value):
                return False
        elif isinstance(value, ast.Call):
            if _callee(value) != "grid_search":
                return False
        elif not _literal(value):
            return False
    return True


def _has_loop(function: ast.AST) -> bool:
    return any(isinstance(n, ast.For | ast.While | ast.AsyncFor) for n in ast.walk(function))


def _fits_for_epochs(function: ast.AST) -> bool:
    """A framework fit that runs epochs (Lightning's `Trainer(max_epochs=)`, Keras' `fit(epochs=)`, boosting
    rounds): intermediate values exist even without a loop in the objective."""
    for n in ast.walk(function):
        if isinstance(n, ast.Call):
            keywords = {kw.arg for kw in n.keywords}
            if keywords & {"epochs", "max_epochs", "num_boost_round", "n_estimators_per_round", "max_steps"}:
                return True
            if _callee(n) == "Trainer":
                return True
    return False


def _reports_repeatedly(scope: ast.AST) -> bool:
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and _callee(node) in TUNE_FRAMEWORK_CALLBACKS:
            return True
        if isinstance(node, ast.For | ast.While | ast.AsyncFor):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and _callee(inner) in TUNE_REPORTS:
                    return True
                if isinstance(inner, ast.Yield):  # old function trainables yield results
                    return True
    return False


def _higher_is_better_return(objectives: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> str | None:
    """The name of what an objective returns when it reads as higher-is-better (`return accuracy`), else None."""
    for function in objectives:
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value is not None:
                for inner in ast.walk(node.value):
                    word = (
                        inner.id
                        if isinstance(inner, ast.Name)
                        else inner.attr
                        if isinstance(inner, ast.Attribute)
                        else None
                    )
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                        word = inner.value
                    if word and HIGHER_IS_BETTER.search(word) and not re.search(r"loss|error|err\b", word, re.I):
                        return word
    return None


def _logs_repeatedly(scope: ast.AST) -> bool:
    """Whether W&B trials log a metric more than once: `log(...)` inside a loop, or a framework fit over epochs."""
    if _fits_for_epochs(scope):
        return True
    for node in ast.walk(scope):
        if isinstance(node, ast.For | ast.While | ast.AsyncFor) and any(
            isinstance(inner, ast.Call) and _callee(inner) == "log" for inner in ast.walk(node)
        ):
            return True
    return False


def _program_iterative(path: str, data: Any, modules: dict[str, PythonModule]) -> bool:
    """Whether a W&B sweep file's `program` (a Python file next to it, or from the root) logs more than once."""
    program = data.get("program") if isinstance(data, dict) else None
    if not isinstance(program, str) or not program.endswith(".py"):
        return False
    directory = path.rpartition("/")[0]
    for candidate in (f"{directory}/{program}" if directory else program, program):
        module = modules.get(candidate.removeprefix("./"))
        if module is not None and module.tree is not None:
            return _logs_repeatedly(module.tree)
    return False


# -- YAML ---------------------------------------------------------------------------------------------------------
def _yaml_sweep(path: str, data: Any) -> Sweep | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("method"), str) and isinstance(data.get("parameters"), dict):
        return _wandb_sweep(path, line_of(data), data, None)
    if _is_project_sweep(data):
        return _project_sweep(path, data)
    sweeper = _hydra_optuna_sweeper(data)
    if sweeper is not None:
        return _hydra_sweep(path, data, sweeper)
    return None


def _wandb_sweep(path: str, line: int, data: dict[Any, Any], code_line: int | None) -> Sweep | None:
    """A W&B sweep configuration (`method:`, `parameters:`, `metric: {name, goal}`, `early_terminate:`)."""
    method = data.get("method")
    if method not in ("random", "grid", "bayes"):
        return None

    def where(key: str) -> int:
        return line if code_line is not None else _key_line(data, key)

    sweep = Sweep("wandb", path, line, "W&B sweep", tracked_by="W&B (every run of a sweep is a W&B run)")
    terminate = data.get("early_terminate")
    if isinstance(terminate, dict) and terminate.get("type"):
        sweep.early_stopping = present(str(terminate["type"]), where("early_terminate"))
    else:
        sweep.early_stopping = absent(where("method"), "no early_terminate")
    metric = data.get("metric")
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str) or not metric.get("name"):
        sweep.metric = absent(where("metric") if "metric" in data else where("method"))
        sweep.mode = present("n/a", line)  # one finding for the missing metric, not two
    else:
        sweep.metric = present(str(metric["name"]), where("metric"))
        goal = metric.get("goal")
        if goal in ("minimize", "maximize"):
            sweep.mode = present(str(goal), where("metric"))
        elif HIGHER_IS_BETTER.search(str(metric["name"])) and not re.search(r"loss|error", str(metric["name"]), re.I):
            sweep.mode = absent(where("metric"), str(metric["name"]))
        else:
            sweep.mode = present("minimize (W&B's default)", where("metric"))
    sweep.seed = None  # W&B's search takes no seed
    return sweep


def _key_line(data: Any, key: str) -> int:
    return data.line_of(key) if isinstance(data, LineDict) else line_of(data)


def _is_project_sweep(data: dict[Any, Any]) -> bool:
    space = data.get("space")
    if not isinstance(space, dict) or not space:
        return False
    shaped = all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in PROJECT_DISTRIBUTIONS for v in space.values())
    return shaped and any(k in data for k in ("metric", "mode", "trials", "scheduler", "search", "train_configs"))


def _project_sweep(path: str, data: dict[Any, Any]) -> Sweep:
    """The generated project's sweep file (see the template's `configs/sweeps/default.yaml`)."""
    line = line_of(data)
    sweep = Sweep("project", path, line, "sweep file", tracked_by="the project's tune driver (MLflow)")

    def fact(key: str) -> Fact:
        value = data.get(key)
        if value is None or value == "":
            return absent(line)
        return present(str(value), _key_line(data, key))

    scheduler = data.get("scheduler")
    name = scheduler.get("name") if isinstance(scheduler, dict) else scheduler
    where = _key_line(data, "scheduler") if "scheduler" in data else line
    if name == "fifo":
        sweep.early_stopping = absent(where, "scheduler fifo runs every trial to the end")
    else:
        sweep.early_stopping = present(str(name or "asha"), where)
    sweep.metric, sweep.mode = fact("metric"), fact("mode")
    if sweep.mode.missing and not sweep.metric.missing:
        sweep.mode = absent(sweep.metric.line)
    # The driver seeds the search and every trial with 42 when the file names no seed.
    sweep.seed = fact("seed") if "seed" in data else present("42 (the driver's default)", line)
    resources = data.get("resources_per_trial")
    if isinstance(resources, dict) and resources:
        sweep.resources = present("resources_per_trial", _key_line(data, "resources_per_trial"))
    else:
        sweep.resources = absent(line)
    return sweep


def _hydra_optuna_sweeper(data: dict[Any, Any]) -> dict[Any, Any] | None:
    """The Optuna sweeper's settings of a Hydra config: `hydra.sweeper` (or a `hydra/sweeper` group file itself)
    whose `_target_` is the Optuna sweeper, or that a `defaults: [override /hydra/sweeper: optuna]` chooses."""
    hydra = data.get("hydra")
    sweeper = hydra.get("sweeper") if isinstance(hydra, dict) else None
    target = str(data.get("_target_", ""))
    if target.endswith("OptunaSweeper"):
        return data
    if not isinstance(sweeper, dict):
        return None
    if str(sweeper.get("_target_", "")).endswith("OptunaSweeper"):
        return sweeper
    defaults = data.get("defaults")
    for item in defaults if isinstance(defaults, list) else []:
        if isinstance(item, dict):
            for key, value in item.items():
                if str(key).replace("override", "").strip().strip("/") == "hydra/sweeper" and value == "optuna":
                    return sweeper
    return None


def _hydra_sweep(path: str, data: dict[Any, Any], sweeper: dict[Any, Any]) -> Sweep:
    """Hydra's Optuna sweeper: minimizes by default, samples with an unseeded TPE sampler unless told, and cannot
    prune (the task function returns once)."""
    hydra = data.get("hydra")
    line = (
        _key_line(hydra, "sweeper") if isinstance(hydra, dict) and hydra.get("sweeper") is sweeper else line_of(sweeper)
    )
    sweep = Sweep("hydra", path, line, "Hydra Optuna sweeper")
    sweep.early_stopping = None  # the sweeper has no pruning: not a setting its users can change
    sweep.metric = None  # the task function's return value
    direction = sweeper.get("direction")
    if direction:
        sweep.mode = present(str(direction), _key_line(sweeper, "direction"))
    else:
        metric = next(
            (str(v) for k, v in data.items() if "metric" in str(k).lower() and isinstance(v, str)),
            None,
        )
        better = metric is not None and HIGHER_IS_BETTER.search(metric) and not re.search(r"loss|error", metric, re.I)
        sweep.mode = absent(line, metric or "") if better else present("minimize (the sweeper's default)", line)
    sampler = sweeper.get("sampler")
    if isinstance(sampler, dict):
        target = str(sampler.get("_target_", ""))
        if target.rpartition(".")[2] in UNSEEDED_OK_SAMPLERS or sampler.get("seed") is not None:
            sweep.seed = present("seed", _key_line(sampler, "seed") if "seed" in sampler else line_of(sampler))
        else:
            sweep.seed = absent(line_of(sampler), "sampler")
    elif sampler is None and "sampler" not in sweeper:
        sweep.seed = absent(line, "the default TPE sampler")
    else:
        sweep.seed = unknown(line)
    return sweep


def iter_facts(sweep: Sweep) -> Iterator[tuple[str, Fact]]:
    """The sweep's facts by name (for reports and tests)."""
    for name in ("early_stopping", "metric", "mode", "seed", "resources"):
        value = getattr(sweep, name)
        if value is not None:
            yield name, value
