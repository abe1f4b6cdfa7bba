"""Mutation testing of the checker: would the tests notice a small wrong change in a rule?

    python benchmarks/mutation.py rules/ci.py engine.py --jobs 2 --json benchmarks/results/mutation.json

For each module (a path under checker/fsdl_check/), every mutation point is found in its syntax tree, and each
mutant (one change) runs that module's tests in a forked process in which the module is loaded from the mutated
tree instead of its file; the source on disk is never touched. A mutant is **killed** when the tests fail (or
error, or run past the time limit), and **survives** when they pass. The kill rate is killed / all mutants.

The mutations, each one a plausible slip:

- comparison: `<` and `<=`, `>` and `>=`, `==` and `!=`, `in` and `not in`, `is` and `is not` swapped;
- boolean: `and` and `or` swapped; a `not` dropped;
- constant: `True` and `False` swapped; an integer `n` made `n + 1` (a boundary moved by one);
- branch: an `if` condition negated; `break` and `continue` swapped;
- return: a function's `return X` made `return None` where X is not already None or a falsy constant (a result
  dropped).

Docstrings and annotations are left alone, and strings are never changed; a line ending in
`# mutation: equivalent (why)` is skipped and listed, so a survivor can be explained where it lives.
Which tests run: `rules/<name>.py` runs `tests/checker/test_rules_<name>.py`, other modules the tests named
with `--tests` (default for `engine.py`: the engine, suppression, configuration, report and CLI tests). Tests
run in-process (a child forked from this one, pytest imported once), with `-x`: the first failure kills. Tests that
start `fsdl-check` as a separate
process do not see the mutant, so the rate is a lower bound.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.machinery
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "checker" / "fsdl_check"
DEFAULT_TESTS = {
    "engine.py": [
        "tests/checker/test_engine.py",
        "tests/checker/test_suppressions.py",
        "tests/checker/test_config.py",
        "tests/checker/test_reports.py",
        "tests/checker/test_cli.py",
    ],
    # the secret heuristics serve DK006 (secrets in images) too
    "rules/vcs.py": ["tests/checker/test_rules_vcs.py", "tests/checker/test_rules_containers.py"],
}
EQUIVALENT = "# mutation: equivalent"
SWAPS: dict[type[ast.AST], type[ast.AST]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass(frozen=True)
class Mutant:
    module: str  # path under checker/fsdl_check
    index: int  # the mutation point's number in the walk, which `apply` finds again
    line: int
    what: str


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout
    seconds: float


# -- finding and applying mutations ------------------------------------------------------------------------------
def _skipped_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations and everything inside them."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                skip(arg.annotation)
        if isinstance(node, ast.AnnAssign):
            skip(node.annotation)
    return skipped


def _points(tree: ast.Module) -> Iterator[tuple[ast.AST, str, Any]]:
    """(node, description, the change) for every mutation point, in a fixed order."""
    skipped = _skipped_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    yield node, f"{_op(op)} -> {_op(SWAPS[type(op)]())}", ("compare", i)
        elif isinstance(node, ast.BoolOp):
            yield node, f"{_op(node.op)} -> {_op(SWAPS[type(node.op)]())}", ("boolop",)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "`not` dropped", ("not",)
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield node, f"{node.value} -> {not node.value}", ("bool",)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield node, f"{node.value} -> {node.value + 1}", ("int",)
        elif isinstance(node, (ast.If, ast.While)) and not isinstance(node.test, ast.Constant):
            yield node, f"`{'if' if isinstance(node, ast.If) else 'while'}` condition negated", ("negate",)
        elif isinstance(node, (ast.Break, ast.Continue)):
            yield node, "break -> continue" if isinstance(node, ast.Break) else "continue -> break", ("loop",)
        elif isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            yield node, "return value -> None", ("return",)


def _is_none(node: ast.expr) -> bool:
    """None, or a falsy constant (`return False`): None is as falsy, and callers read these as truth values."""
    return isinstance(node, ast.Constant) and not node.value


def _op(op: ast.AST) -> str:
    names = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in"}
    names |= {ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or"}
    return names[type(op)]


def mutants(module: str) -> tuple[list[Mutant], list[str]]:
    """The mutants of one module, and the lines skipped as marked equivalent."""
    source = (PACKAGE / module).read_text()
    lines = source.splitlines()
    found, equivalent = [], []
    for index, (node, what, _) in enumerate(_points(ast.parse(source))):
        line = getattr(node, "lineno", 0)
        if line and EQUIVALENT in lines[line - 1]:
            equivalent.append(f"{module}:{line}: {what} ({lines[line - 1].split(EQUIVALENT, 1)[1].strip(' ()')})")
            continue
        found.append(Mutant(module, index, line, what))
    return found, equivalent


def apply(mutant: Mutant) -> CodeType:
    """The module's code with the one change of `mutant`."""
    path = PACKAGE / mutant.module
    tree = ast.parse(path.read_text())
    for index, (node, _, change) in enumerate(_points(tree)):
        if index == mutant.index:
            _change(tree, node, change)
            break
    else:
        raise LookupError(mutant)
    return compile(ast.fix_missing_locations(tree), str(path), "exec")


def _change(tree: ast.Module, node: ast.AST, change: tuple[Any, ...]) -> None:
    kind = change[0]
    if kind == "compare":
        assert isinstance(node, ast.Compare)
        node.ops[change[1]] = SWAPS[type(node.ops[change[1]])]()
    elif kind == "boolop":
        assert isinstance(node, ast.BoolOp)
        node.op = SWAPS[type(node.op)]()
    elif kind == "not":
        assert isinstance(node, ast.UnaryOp)
        _replace(tree, node, node.operand)
    elif kind == "bool":
        assert isinstance(node, ast.Constant)
        node.value = not node.value
    elif kind == "int":
        assert isinstance(node, ast.Constant)
        node.value += 1
    elif kind == "negate":
        assert isinstance(node, (ast.If, ast.While))
        node.test = ast.UnaryOp(ast.Not(), node.test)
    elif kind == "loop":
        _replace(tree, node, ast.Continue() if isinstance(node, ast.Break) else ast.Break())
    elif kind == "return":
        assert isinstance(node, ast.Return)
        node.value = ast.Constant(None)


def _replace(tree: ast.Module, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, copy.copy(new))
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[next(i for i, v in enumerate(value) if v is old)] = new
                return
    raise LookupError(old)


# -- running the tests against a mutant --------------------------------------------------------------------------
class _MutantLoader(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module of the package from a mutated code object."""

    def __init__(self, name: str, code: CodeType, path: Path) -> None:
        self.name, self.code, self.path = name, code, path

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin=str(self.path))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        exec(self.code, module.__dict__)


def module_name(module: str) -> str:
    return "fsdl_check." + module.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def tests_for(module: str, override: list[str] | None) -> list[str]:
    if override:
        return override
    if module in DEFAULT_TESTS:
        return DEFAULT_TESTS[module]
    name = Path(module).stem
    candidate = f"tests/checker/test_rules_{name}.py"
    if module.startswith("rules/") and (ROOT / candidate).is_file():
        return [candidate]
    raise SystemExit(f"mutation: no tests known for {module}; name them with --tests")


def _child(mutant: Mutant | None, tests: list[str], cache_dir: str) -> None:
    import pytest

    test_root = str(ROOT / "tests")
    for name, module in list(sys.modules.items()):  # imported before the fork (by a caller's own test session):
        source = getattr(module, "__file__", None) or ""  # the checker and the tests that hold its names, afresh
        if name == "fsdl_check" or name.startswith("fsdl_check.") or source.startswith(test_root):
            del sys.modules[name]
    # The report cache keys on the checker's files on disk, which a mutant does not change: each run gets its own.
    os.environ["FSDL_CHECK_CACHE_DIR"] = cache_dir
    if mutant is not None:
        sys.meta_path.insert(0, _MutantLoader(module_name(mutant.module), apply(mutant), PACKAGE / mutant.module))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = pytest.main([*tests, "-x", "-q", "-p", "no:cacheprovider", "--no-header"])
    os._exit(int(code))


def run(mutant: Mutant | None, tests: list[str], limit: float) -> tuple[str, float]:
    started = time.perf_counter()
    # Made and removed here: the child ends with os._exit (or a kill), which cleans nothing up.
    cache_dir = tempfile.mkdtemp(prefix="fsdl-mutant-cache-")
    try:
        return _wait_for(_fork_child(mutant, tests, cache_dir), started, limit)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _fork_child(mutant: Mutant | None, tests: list[str], cache_dir: str) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _child(mutant, tests, cache_dir)
        finally:
            os._exit(70)
    return pid


def _wait_for(pid: int, started: float, limit: float) -> tuple[str, float]:
    deadline = started + limit
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - started
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    return ("survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"), seconds


def run_all(jobs: list[tuple[Mutant, list[str], float]], parallel: int) -> Iterator[Outcome]:
    """Up to `parallel` children at a time; outcomes in the order they finish."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(parallel) as pool:  # each thread forks and waits for one child
        futures = {pool.submit(run, m, t, limit): m for m, t, limit in jobs}
        for future in as_completed(futures):
            status, seconds = future.result()
            yield Outcome(futures[future], status, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", help="paths under checker/fsdl_check, e.g. rules/ci.py engine.py")
    parser.add_argument("--tests", action="append", help="test files to run (default: the module's own)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--limit", type=int, default=0, help="only the first N mutants of each module (a trial)")
    args = parser.parse_args(argv)
    os.environ["FSDL_CHECK_CACHE_DIR"] = tempfile.mkdtemp(prefix="fsdl-mutation-cache-")
    os.chdir(ROOT)
    sys.path[:0] = [str(ROOT / "tests" / "checker")]
    import pytest  # noqa: F401  (imported once, before the forks)

    report: dict[str, Any] = {"modules": {}, "survivors": [], "equivalent": []}
    for module in args.modules:
        tests = tests_for(module, args.tests)
        status, baseline = run(None, tests, 600)
        if status != "survived":
            raise SystemExit(f"mutation: the tests of {module} fail without a mutant: {' '.join(tests)}")
        found, equivalent = mutants(module)
        found = found[: args.limit] if args.limit else found
        report["equivalent"].extend(equivalent)
        limit = max(20.0, 4 * baseline)
        started = time.perf_counter()
        outcomes = list(run_all([(m, tests, limit) for m in found], args.jobs))
        counts = {s: sum(o.status == s for o in outcomes) for s in ("killed", "timeout", "survived")}
        killed = counts["killed"] + counts["timeout"]
        rate = killed / len(outcomes) if outcomes else 1.0
        report["modules"][module] = {
            "tests": tests,
            "mutants": len(outcomes),
            **counts,
            "equivalent_marked": len(equivalent),
            "kill_rate": round(rate, 4),
            "baseline_s": round(baseline, 2),
            "wall_s": round(time.perf_counter() - started, 1),
        }
        survivors = sorted((o for o in outcomes if o.status == "survived"), key=lambda o: o.mutant.index)
        report["survivors"].extend(asdict(o.mutant) for o in survivors)
        print(f"{module}: {killed}/{len(outcomes)} killed ({rate:.1%}), {len(equivalent)} marked equivalent")
        for outcome in survivors:
            print(f"  survived  {module}:{outcome.mutant.line}  {outcome.mutant.what}")
        sys.stdout.flush()
    total = sum(m["mutants"] for m in report["modules"].values())
    killed = sum(m["killed"] + m["timeout"] for m in report["modules"].values())
    report["total"] = {"mutants": total, "killed": killed, "kill_rate": round(killed / total, 4) if total else 1.0}
    print(f"all: {killed}/{total} killed ({killed / total:.1%})" if total else "no mutants")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
