"""What kind of repository this is: a training project, a library, or a collection of notebooks.

Training-only rules (seeding, tracking, a smoke test...) ask this. The answer comes from facts the `Repo` has
already parsed; nothing is re-read. Files under tests/, docs/, examples/ or benchmarks/ (and test modules anywhere)
never count: a library that shows its training loop in examples/ is still a library. Nor do files of a project
template (a path with `{{ }}` in it, as cookiecutter and Copier name them): they are the template's output.

- A **training entry point** is a module that
  * calls `LightningCLI(...)` (or a subclass it defines), or `Trainer(...)` together with `.fit(...)`, or
    `trainer.fit(...)` after importing Lightning (a Trainer built by Hydra or a factory), or
  * calls `trainer.finetune(...)` (Lightning Flash) next to a `Trainer(...)` or after importing Flash, or
  * calls `trainer.train()` (Hugging Face `Trainer`, `SFTTrainer(...).train()`), or
  * calls `accelerator.backward(...)` after importing Accelerate, or
  * calls `.fit(...)` on a model while importing Keras or TensorFlow, or
  * runs a loop whose body calls `.backward()` and an optimizer's (or a DeepSpeed engine's) `.step()`, or
  * is a `train.py` / `train_*.py` script that imports torch, lightning, tensorflow, keras, jax or flax (in a
    package, only with a `__main__` guard: a package's `train_loop.py` is imported, not run);
  or it is a YAML config with both `trainer` and `model` (top-level keys as LightningCLI reads them, or entries
  of a Hydra `defaults:` list).
- A repository that **defines the machinery** itself (a `Trainer`, `LightningCLI` or `LightningModule` class, as
  pytorch-lightning, transformers and keras do) calls it all over its own code; there only *scripts* count as
  entry points (a module with a `__main__` guard, a `__main__.py`, or a `train*.py`), and configs do not.
- A module that the repository's notebooks import (`from helpers import train_epoch`) and that is not a script is
  the notebooks' helper, not an entry point: the notebook that calls it is where training starts.
- TRAINING: at least one entry point. Otherwise NOTEBOOKS when notebooks outnumber Python modules (not counting
  `__init__.py` and `setup.py`), or when there are notebooks and nothing to install (no packaging metadata at the
  root, no import package at the top or under src/: a course of notebooks and small scripts), and LIBRARY in every
  other case.
- The **training path** is the entry points' modules and the repository's own modules they import, directly or
  through others: what runs when training runs (rules about device placement look there).
"""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsdl_check.model import ProjectKind
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of
from fsdl_check.regex import lazy

if TYPE_CHECKING:
    from fsdl_check.repo import Repo

#: Directories whose code demonstrates or tests a project rather than being it.
AUXILIARY_DIRS = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "benchmark", "site-packages"}
)
#: Class names that mean "this repository provides training machinery" (it is a framework, not a user of one).
MACHINERY_CLASSES = frozenset({"Trainer", "LightningCLI", "LightningModule"})
DL_FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "tensorflow", "keras", "jax", "flax")
LIGHTNING = ("lightning", "pytorch_lightning")
TRAIN_SCRIPT = lazy(r"train(_\w+)?\.py")
#: `from . import x`, `from ..pkg.mod import (a, b)`: relative imports, which `PythonModule.imports` leaves out.
RELATIVE_IMPORT = lazy(r"^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE)


@dataclass(frozen=True, eq=False)
class EntryPoint:
    """Where training starts: a module (with the line of its Trainer/fit/loop) or a config file (module None)."""

    path: str
    line: int
    how: str  # a few words for messages: "LightningCLI", "Trainer.fit", "training loop", ...
    module: PythonModule | None = None

    @property
    def is_lightning_cli(self) -> bool:
        return self.how == "LightningCLI"


def is_auxiliary(path: str) -> bool:
    """Whether `path` is test, documentation, example or benchmark code, or part of a project template."""
    if "{{" in path:
        return True
    *dirs, name = path.split("/")
    if any(d.lower() in AUXILIARY_DIRS for d in dirs):
        return True
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


@dataclass(frozen=True)
class KindVerdict:
    """The kind and, in a few words for the report, why it was chosen."""

    kind: ProjectKind
    reason: str


def detect_kind(repo: Repo) -> ProjectKind:
    """The repository's kind, as described in this module's docstring."""
    return classify(repo).kind


def classify(repo: Repo) -> KindVerdict:
    """The repository's kind with the evidence for it (the first entry point, or what is missing)."""
    if repo.options.project_kind is not None:
        return KindVerdict(repo.options.project_kind, "set by project-kind in the configuration")
    entries = repo.entry_points
    if entries:
        # name a train*.py script first when there is one: it is what a reader looks for
        first = next((e for e in entries if TRAIN_SCRIPT.fullmatch(e.path.rsplit("/", 1)[-1])), entries[0])
        more = f" (and {len(entries) - 1} more entry points)" if len(entries) > 1 else ""
        return KindVerdict(ProjectKind.TRAINING, f"{first.how} at {first.path}:{first.line}{more}")
    notebooks = sum(1 for f in repo.files if f.suffix == ".ipynb" and not is_auxiliary(f.path))
    modules = sum(
        1
        for f in repo.files
        if f.suffix == ".py" and f.name not in ("__init__.py", "setup.py") and not is_auxiliary(f.path)
    )
    if notebooks > modules:
        return KindVerdict(ProjectKind.NOTEBOOKS, f"no training entry point; {notebooks} notebooks, {modules} modules")
    if notebooks and not installable(repo):
        why = f"no training entry point and no package to install; {notebooks} notebooks beside {modules} scripts"
        return KindVerdict(ProjectKind.NOTEBOOKS, why)
    why = "no training entry point (Trainer.fit, a training loop, model.fit, a train*.py script)"
    return KindVerdict(ProjectKind.LIBRARY, why)


def installable(repo: Repo) -> bool:
    """Whether the repository is a package: packaging metadata at the root (`[project]` or Poetry's table in
    pyproject.toml, setup.py, setup.cfg), an import package at the top, or code under src/. A course or an example
    collection has folders of notebooks and scripts, none of them."""
    if repo.has("setup.py", "setup.cfg"):
        return True
    pyproject = repo.pyproject
    if pyproject is not None and (pyproject.get("project") is not None or pyproject.get("tool.poetry") is not None):
        return True
    for path in repo.paths:
        parts = path.split("/")
        if (parts[0] == "src" and path.endswith(".py")) or (len(parts) == 2 and parts[1] == "__init__.py"):
            return True
    return False


def find_entry_points(repo: Repo) -> list[EntryPoint]:
    """Every training entry point of the repository, modules first, in path order."""
    modules = [m for m in repo.python if m.parsed and not is_auxiliary(m.path)]
    library = any(defines_machinery(m) for m in modules)
    helpers = notebook_helpers(repo, modules)
    found: list[EntryPoint] = []
    for module in modules:
        if (library or module.path in helpers) and not is_script(module):
            continue
        folder = module.path.rpartition("/")[0]
        entry = module_entry_point(module, in_package=f"{folder}/__init__.py" in repo.paths if folder else False)
        if entry is not None:
            found.append(entry)
    if not library:
        found.extend(e for doc in repo.yaml_files if (e := config_entry_point(doc)) is not None)
    return found


#: `import a.b`, `from a.b import c` at the start of a notebook cell's line (`%run` and `!python` are not imports).
NOTEBOOK_IMPORT = lazy(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w.]+))", re.MULTILINE)


def notebook_helpers(repo: Repo, modules: list[PythonModule]) -> set[str]:
    """Paths of the repository's modules that its notebooks import, from the notebook's folder or from the root."""
    if not repo.notebooks:
        return set()
    by_path = {m.path: m for m in modules}
    helpers: set[str] = set()
    for notebook in repo.notebooks:
        folder = notebook.path.rpartition("/")[0]
        for source in notebook.sources:
            for match in NOTEBOOK_IMPORT.finditer(source):
                stem = (match[1] or match[2]).replace(".", "/")
                for base in {folder, ""}:
                    path = f"{base}/{stem}" if base else stem
                    for candidate in (path + ".py", path + "/__init__.py"):
                        if candidate in by_path:
                            helpers.add(candidate)
    return helpers


def defines_machinery(module: PythonModule) -> bool:
    if not any(f"class {name}" in module.text for name in MACHINERY_CLASSES):
        return False  # cheap text test first; the class facts confirm it is a real class statement
    return any(c.name in MACHINERY_CLASSES for c in module.classes)


def is_script(module: PythonModule) -> bool:
    name = module.path.rsplit("/", 1)[-1]
    return module.has_main_guard or name == "__main__.py" or TRAIN_SCRIPT.fullmatch(name) is not None


def module_entry_point(module: PythonModule, in_package: bool = False) -> EntryPoint | None:
    """The strongest training signal in `module`, if any."""
    calls = module.calls
    cli_classes = lightning_cli_classes(module)
    if cli := next((c for c in calls if c.last in cli_classes), None):
        return EntryPoint(module.path, cli.line, "LightningCLI", module)
    trainer = next((c for c in calls if c.last == "Trainer"), None)
    if trainer is not None and any(c.last == "fit" for c in calls):
        return EntryPoint(module.path, trainer.line, "Trainer.fit", module)
    finetune = next((c for c in calls if c.name.endswith("trainer.finetune")), None)
    if finetune is not None and (trainer is not None or module.imports_any("flash")):
        return EntryPoint(module.path, finetune.line, "Trainer.finetune", module)
    # `.train()` on a trainer: `trainer.train()`, `SFTTrainer(...).train()`; not `SentencePieceTrainer.Train(...)`
    if hf := next((c for c in calls if c.last == "train" and c.name.lower().endswith("trainer.train")), None):
        return EntryPoint(module.path, hf.line, "Trainer.train", module)
    if module.imports_any("accelerate"):
        accelerate = next((c for c in calls if c.name.endswith("accelerator.backward")), None)
        if accelerate is not None:
            return EntryPoint(module.path, accelerate.line, "Accelerate loop", module)
    if module.imports_any(*LIGHTNING) and (fit := next((c for c in calls if c.name.endswith("trainer.fit")), None)):
        return EntryPoint(module.path, fit.line, "Trainer.fit", module)
    if module.imports_any("keras", "tensorflow", "tf_keras", "keras_core"):
        keras_fit = next((c for c in calls if c.last in ("fit", "fit_generator") and "." in c.name), None)
        if keras_fit is not None:
            return EntryPoint(module.path, keras_fit.line, "Keras fit", module)
    if (loop := training_loop_line(module)) is not None:
        return EntryPoint(module.path, loop, "training loop", module)
    name = module.path.rsplit("/", 1)[-1]
    # a package's module without a `__main__` guard (detectron2's `engine/train_loop.py`) is imported, not run
    imported = in_package and not module.has_main_guard
    if TRAIN_SCRIPT.fullmatch(name) and module.imports_any(*DL_FRAMEWORKS) and not imported:
        return EntryPoint(module.path, main_guard_line(module), "training script", module)
    return None


def lightning_cli_classes(module: PythonModule) -> set[str]:
    """`LightningCLI` and the subclasses of it that `module` defines (`class TrainCLI(LightningCLI): ...`)."""
    names = {"LightningCLI"}
    if "LightningCLI" in module.text:
        names.update(c.name for c in module.classes if any(base.endswith("LightningCLI") for base in c.bases))
    return names


def training_loop_line(module: PythonModule) -> int | None:
    """Line of the outermost `for`/`while` loop that calls `.backward()` and an optimizer's `.step()`."""
    backward = [c.line for c in module.calls if c.last == "backward"]
    steps = [c.line for c in module.calls if c.last == "step" and _is_optimizer(c.name)]
    if not backward or not steps:
        return None
    best: int | None = None
    for start, end in module.loops:
        inside = range(start, end + 1)
        if any(b in inside for b in backward) and any(s in inside for s in steps):
            best = start if best is None else min(best, start)
    return best


def _is_optimizer(call_name: str) -> bool:
    """`optimizer.step`, `opt_g.step`, `self.optim.step`, `scaler.step` (AMP steps the optimizer it is given),
    `model_engine.step` (a DeepSpeed engine steps its optimizer)."""
    receiver = call_name.rsplit(".", 2)[-2].lower() if call_name.count(".") else ""
    return receiver.startswith("opt") or "optim" in receiver or receiver.endswith(("scaler", "engine"))


def main_guard_line(module: PythonModule) -> int:
    for node in module.tree.body if module.tree is not None else []:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return node.lineno
    return 1


def config_entry_point(doc: YamlDoc) -> EntryPoint | None:
    """A LightningCLI config (top-level `trainer:` and `model:`) or a Hydra one (both in its `defaults:` list)."""
    if is_auxiliary(doc.path) or doc.path.startswith(".") or "/." in doc.path:
        return None  # hidden directories hold tool configuration (.github/, .gitlab/...), not training configs
    data: Any = doc.first
    if not isinstance(data, dict):
        return None
    if "trainer" in data and "model" in data:
        line = data.line_of("trainer") if isinstance(data, LineDict) else 1
        return EntryPoint(doc.path, line, "config")
    defaults = data.get("defaults")
    if isinstance(defaults, list):
        keys = {str(k): item for item in defaults if isinstance(item, dict) for k in item}
        if "trainer" in keys and "model" in keys:
            return EntryPoint(doc.path, line_of(keys["trainer"], line_of(defaults)), "config")
    return None


def training_path(repo: Repo) -> list[PythonModule]:
    """The modules training runs: each entry point's module and the repository's own modules it imports, directly
    or through others (absolute imports from the root, from `src/` or from the importing script's directory, and
    relative imports), in path order. Test, documentation, example and benchmark code never counts."""
    return import_closure(repo, [e.module for e in repo.entry_points if e.module is not None])


def import_closure(repo: Repo, roots: list[PythonModule]) -> list[PythonModule]:
    """`roots` and the repository's own modules they import, directly or not, in path order (auxiliary code aside)."""
    modules, by_name, by_path = _module_index(repo)
    seen: set[str] = set()
    queue = [m for m in roots if m.path in by_path]
    while queue:
        module = queue.pop()
        if module.path in seen:
            continue
        seen.add(module.path)
        queue.extend(m for m in _local_imports(module, by_name, by_path) if m.path not in seen)
    return [m for m in modules if m.path in seen]


_Index = tuple[list[PythonModule], dict[str, PythonModule], dict[str, PythonModule]]
_INDEXES: weakref.WeakKeyDictionary[Repo, _Index] = weakref.WeakKeyDictionary()


def _module_index(repo: Repo) -> _Index:
    """The repository's own modules, by dotted name (from the root and from `src/`) and by path (built once)."""
    if repo not in _INDEXES:
        modules = [m for m in repo.python if m.parsed and not is_auxiliary(m.path)]
        by_name: dict[str, PythonModule] = {}
        for module in modules:
            stem = module.path[: -len(".py")]
            stem = stem[: -len("/__init__")] if stem.endswith("/__init__") else stem
            dotted = stem.replace("/", ".")
            by_name.setdefault(dotted, module)
            if dotted.startswith("src."):
                by_name.setdefault(dotted[len("src.") :], module)
        _INDEXES[repo] = (modules, by_name, {m.path: m for m in modules})
    return _INDEXES[repo]


def _local_imports(
    module: PythonModule, by_name: dict[str, PythonModule], by_path: dict[str, PythonModule]
) -> list[PythonModule]:
    found = []
    directory = module.path.rpartition("/")[0]
    prefix = directory + "/" if directory else ""
    for name in module.imports:
        target = by_name.get(name)
        if target is None and prefix:  # a script's own directory is first on sys.path
            stem = prefix + name.replace(".", "/")
            target = by_path.get(stem + ".py") or by_path.get(stem + "/__init__.py")
        if target is not None:
            found.append(target)
    if "from ." in module.text:
        package = directory.split("/") if directory else []
        for dots, base, names in RELATIVE_IMPORT.findall(module.text):
            if len(dots) > len(package) + 1:
                continue
            parts = [*package[: len(package) - len(dots) + 1], *(p for p in base.split(".") if p)]
            stems = ["/".join(parts)]
            imported = (item.split() for item in names.strip("() \t\n").split(","))
            stems += ["/".join([*parts, words[0]]) for words in imported if words and words[0].isidentifier()]
            for stem in stems:
                target = by_path.get(stem + ".py") or by_path.get(stem + "/__init__.py")
                if target is not None:
                    found.append(target)
    return found
