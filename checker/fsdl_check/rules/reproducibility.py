"""RP: reproducibility — seeded randomness, hyperparameters in configs, and no paths that only exist on one machine."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from typing import Any

from fsdl_check.kind import EntryPoint, is_auxiliary, lightning_cli_classes
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.yamlfile import YamlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo, RepoFile
from fsdl_check.rules.vcs import LOCK_FILES

#: Calls that seed a random number generator, by final attribute (`L.seed_everything`, `torch.manual_seed`, ...).
SEED_CALLS = frozenset(
    {"seed_everything", "manual_seed", "manual_seed_all", "set_seed", "set_random_seed", "PRNGKey", "seed_all"}
)
UNSEEDED_RNG = lazy(r"default_rng\(\s*(?:seed\s*=\s*)?None\s*\)")
CONFIG_SEED_KEYS = ("seed_everything", "seed")
HF_TRAINERS = ("transformers", "trl", "setfit")


def seeds_randomness(module: PythonModule) -> bool:
    """Whether the module seeds a generator with a value. Without one nothing is fixed: `random.seed()` seeds from
    the clock, `seed_everything()` picks a fresh seed, `default_rng()` and `default_rng(None)` ask the OS."""
    for call in module.calls:
        if not (call.positional or call.keywords):
            continue
        if call.last in SEED_CALLS or call.name.endswith(("random.seed", "random.key")):
            return True
        named = "seed" in call.last.lower() or "determinism" in call.last.lower()
        if named and call.last != "default_rng":
            # a project's own helper given the seed: timm's `utils.random_seed(args.seed, rank)`, torchtitan's
            # `dist_utils.set_determinism(mesh, device, seed)`
            return True
        if call.last == "default_rng" and not UNSEEDED_RNG.search(module.text):
            return True
    return False


def local_imports(module: PythonModule, by_path: dict[str, PythonModule]) -> Iterator[PythonModule]:
    """The repository's own modules that `module` imports (absolute imports, src/ layout or not, and relative ones)."""
    wanted: set[str] = set()
    for name in module.imports:
        parts = name.replace(".", "/")
        wanted.update({parts + ".py", parts + "/__init__.py", f"src/{parts}.py", f"src/{parts}/__init__.py"})
    package = module.path.split("/")[:-1]
    for node in module.walk():
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1] if node.level <= len(package) else []
            stem = [*base, *(node.module or "").split(".")] if node.module else base
            for target in [stem, *([*stem, alias.name] for alias in node.names)]:
                joined = "/".join(p for p in target if p)
                wanted.update({joined + ".py", joined + "/__init__.py"})
    return (by_path[p] for p in sorted(wanted) if p in by_path and p != module.path)


def config_seed(yaml_files: Iterable[YamlDoc]) -> bool:
    """Whether any YAML config sets `seed_everything:` (LightningCLI) or `seed:` (Hydra) to an integer."""
    for doc in yaml_files:
        if is_auxiliary(doc.path) or doc.path.startswith("."):
            continue
        data = doc.first
        if isinstance(data, dict) and any(_is_int(data.get(key)) for key in CONFIG_SEED_KEYS):
            return True
    return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SeededRandomness(Rule):
    """The training entry point seeds its random number generators

    Weight initialisation, data shuffling, augmentation and dropout all draw random numbers: without a fixed seed
    two runs of the same code and data differ, and a regression cannot be told from noise. Seed every generator
    once at the start (`lightning.seed_everything(seed, workers=True)`), or let LightningCLI do it from
    `seed_everything:` in its config — by default it picks a fresh random seed for every run. (The Hugging Face
    Trainer seeds from `TrainingArguments.seed` on its own.)
    """

    code, severity = "RP001", Severity.WARNING
    training_only = True
    fix = "Set `seed_everything: <int>` in the LightningCLI config; see the template's `configs/default.yaml`."
    template_file = "configs/default.yaml"
    example = "trainer = L.Trainer(max_epochs=10)\ntrainer.fit(model, datamodule)  # no seed_everything(...)"

    def check(
        self, entry_points: list[EntryPoint], python: list[PythonModule], yaml_files: list[YamlDoc]
    ) -> Iterator[Finding]:
        modules = [(e, e.module) for e in entry_points if e.module is not None]
        configured = config_seed(yaml_files)
        if not modules:  # a config-only project (`lightning fit --config ...`): the config must seed
            if entry_points and not configured:
                first = entry_points[0]
                yield self.finding(first.path, first.line, "training config sets no integer `seed_everything`")
            return
        by_path = {m.path: m for m in python}
        for entry, module in modules:
            if seeds_randomness(module) or any(seeds_randomness(m) for m in local_imports(module, by_path)):
                continue
            if entry.how == "Trainer.train" and module.imports_any(*HF_TRAINERS):
                continue  # the Hugging Face Trainer seeds from TrainingArguments.seed (42 unless changed)
            if not entry.is_lightning_cli:
                yield self.finding(entry.path, entry.line, f"{entry.how} without a seed (e.g. `seed_everything(42)`)")
            elif not (configured or cli_default_seed(module)):
                yield self.finding(entry.path, entry.line, "LightningCLI with no integer `seed_everything` set")


def cli_default_seed(module: PythonModule) -> bool:
    """Whether a LightningCLI (or subclass) call passes an integer `seed_everything_default`."""
    for call in module.calls_named(*lightning_cli_classes(module)):
        if "seed_everything_default" not in call.keywords:
            continue
        for keyword in call.node.keywords:
            if keyword.arg == "seed_everything_default" and isinstance(keyword.value, ast.Constant):
                return _is_int(keyword.value.value)
    return False


#: Names that hold hyperparameters; a constant matches as the whole name, a prefix or a suffix (`BASE_LR`).
HYPERPARAMETER_WORDS = (
    "LEARNING_RATE", "LR", "BATCH_SIZE", "EPOCHS", "NUM_EPOCHS", "N_EPOCHS", "MAX_EPOCHS", "WEIGHT_DECAY", "DROPOUT",
    "HIDDEN_DIM", "HIDDEN_SIZE", "MOMENTUM", "NUM_LAYERS", "WARMUP_STEPS", "MAX_STEPS",
)  # fmt: skip
CONFIG_LIBRARIES = (
    "argparse", "click", "typer", "jsonargparse", "hydra", "omegaconf", "fire", "absl.flags",
    "lightning.pytorch.cli", "pytorch_lightning.cli",
)  # fmt: skip
#: Libraries that read a config file into the run: with one imported beside the constants, a `configs/` folder is
#: what the run reads. Without one, a `configs/` folder next to forty constants in `train.py` changes nothing.
CONFIG_READERS = (
    "yaml", "ruamel.yaml", "omegaconf", "tomllib", "tomli", "toml", "configparser", "ml_collections", "gin",
    "pydantic_settings", "simple_parsing", "tyro", "dacite",
)  # fmt: skip


def is_hyperparameter_name(name: str) -> bool:
    if not name.isupper():
        return False
    return any(name == w or name.endswith("_" + w) or name.startswith(w + "_") for w in HYPERPARAMETER_WORDS)


def is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return is_number(node.operand)
    if isinstance(node, ast.BinOp):
        return is_number(node.left) and is_number(node.right)
    return False


def module_constants(module: PythonModule) -> Iterator[tuple[str, ast.expr, int]]:
    """Module-level `NAME = <number>` assignments: (name, value, line)."""
    for node in module.tree.body if module.tree is not None else []:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            yield node.targets[0].id, node.value, node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            yield node.target.id, node.value, node.lineno


class HyperparametersInConfig(Rule):
    """Hyperparameters live in config files, not in module constants

    A learning rate or batch size hard-coded as a module constant changes only by editing code, so every
    experiment is a commit, sweeps cannot override it, and the tracker never sees which value a run used. A
    config file (LightningCLI YAML) or command-line flags make each run's settings explicit and loggable. Seeds
    are RP001's business and are not counted here.
    """

    code, severity = "RP002", Severity.INFO
    training_only = True
    fix = "Move the values into a YAML config read by LightningCLI; see the template's `configs/default.yaml`."
    template_file = "configs/default.yaml"
    example = "LEARNING_RATE = 3e-4\nBATCH_SIZE = 64\n\ntrainer.fit(Model(lr=LEARNING_RATE), ...)"

    def check(self, entry_points: list[EntryPoint], python: list[PythonModule]) -> Iterator[Finding]:
        entries = [e.module for e in entry_points if e.module is not None]
        if not entries or len(entries) < len(entry_points):  # a training config exists
            return
        folders = {m.path.rpartition("/")[0] for m in entries}
        scope = [m for m in python if m.parsed and m.path.rpartition("/")[0] in folders]
        if any(m.imports_any(*CONFIG_LIBRARIES, *CONFIG_READERS) for m in scope):
            return
        for module in scope:
            for name, value, line in module_constants(module):
                if is_hyperparameter_name(name) and is_number(value):
                    text = ast.unparse(value)
                    yield self.finding(module.path, line, f"{name} = {text} is hard-coded; read it from a config file")


# -- RP003 --------------------------------------------------------------------------------------------------------
#: A home directory on a developer's machine. `/root/` is not matched: it is the home of the container user that
#: images and CI run as, the same on every machine.
USER_PATH = lazy(
    r"""(?<![\w.$~/:-])
    (?:/home/(?P<home>[A-Za-z0-9._-]+)
      |/Users/(?P<mac>[A-Za-z0-9._-]+)
      |[A-Za-z]:(?:\\{1,2}|/)Users(?:\\{1,2}|/)(?P<win>[^\\/\s"'<>%$]+))""",
    re.VERBOSE,
)
#: Home directories that are the same on every machine (CI runners, dev containers, Jupyter images) or that
#: documentation uses as a stand-in for "your name".
SHARED_HOMES = frozenset(
    {"runner", "vscode", "jovyan", "user", "username", "me", "you", "yourname", "name", "Shared", "Public", "Default"}
    | {"kubernetes"}  # GKE nodes keep their GPU drivers under /home/kubernetes/bin/nvidia: a node path, no person's
)
CODE_SUFFIXES = frozenset(
    {".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".json", ".sh", ".bash", ".zsh", ".mk", ".dockerfile"}
)
CODE_NAMES = frozenset({"Makefile", "GNUmakefile", "makefile", "Dockerfile", "Containerfile"})
DOCKER_USER = lazy(r"^\s*USER\s+([A-Za-z_][\w-]*)|(?:useradd|adduser)\b[^\n]*", re.MULTILINE)


def is_code_or_config(file: RepoFile) -> bool:
    name = file.name
    if file.symlink or name in LOCK_FILES:
        return False
    return file.suffix in CODE_SUFFIXES or name in CODE_NAMES or name.startswith(("Dockerfile.", ".env"))


def is_dockerfile(name: str) -> bool:
    return name.startswith(("Dockerfile", "Containerfile")) or name.endswith(".dockerfile")


def image_users(dockerfile_text: str) -> set[str]:
    """Users a Dockerfile creates or switches to: their homes inside the image are not a developer's machine."""
    users: set[str] = set()
    for match in DOCKER_USER.finditer(dockerfile_text):
        if match[1]:
            users.add(match[1])
            continue
        # `useradd -m -u 1000 -s /bin/bash app && ...`: the user is the last word that is not an option
        command = re.split(r"&&|\|\||[;|]", match[0])[0]
        words = [w.strip("'\"") for w in command.split()[1:] if not w.startswith("-") and w != "\\"]
        if words and re.fullmatch(r"[A-Za-z_][\w-]*", words[-1]):
            users.add(words[-1])
    return users


DEVCONTAINER_USER = lazy(r'"(?:remoteUser|containerUser)"\s*:\s*"([A-Za-z_][\w-]*)"')


def container_users(repo: Repo) -> set[str]:
    """Users that the repository's Dockerfiles create or switch to, and that its dev containers run as."""
    users: set[str] = set()
    for file in repo.files:
        if file.symlink:
            continue
        if is_dockerfile(file.name):
            users |= image_users(repo.text(file.path) or "")
        elif file.name in ("devcontainer.json", ".devcontainer.json"):
            users.update(DEVCONTAINER_USER.findall(repo.text(file.path) or ""))
    return users - {"root"}


class NoUserPaths(Rule):
    """No absolute paths into a user's home directory in code or configuration

    A path into someone's home (`/home/<name>/...`, `/Users/<name>/...`, `C:\\Users\\<name>\\...`) exists on one
    machine only: the code breaks on a colleague's laptop, in CI, in the container and on the cluster. Take paths
    from configuration, the command line or the environment, relative to the project or a data root. `/root/`,
    the homes of CI runners, dev containers and of users the repository's own images create (wherever the path
    is written), placeholder names (`/home/user/`), and
    README/docs (Markdown, reStructuredText) are not reported; notebooks are checked in their cell sources.
    """

    code, severity = "RP003", Severity.WARNING
    fix = "Read the path from config or an environment variable; see the template's `configs/default.yaml`."
    template_file = "configs/default.yaml"
    example = 'data_dir = "/' + 'home/alice/datasets/imagenet"'

    def check(self, repo: Repo) -> Iterator[Finding]:
        # The users the repository's own images create have the same home on every machine that runs the image:
        # in the Dockerfile, and in the compose files, scripts and configs that run inside it.
        allowed = SHARED_HOMES | container_users(repo)
        for file in repo.files:
            if not is_code_or_config(file):
                continue
            text = repo.text(file.path)
            if not text:
                continue
            if not ("home/" in text or "Users" in text):  # a fast path: every user path holds one of them
                continue
            for match, line in self._matches(text, allowed):
                yield self.finding(file.path, line, f"user path {match} is machine-specific")
        for notebook in repo.notebooks:
            raw = repo.text(notebook.path) or ""
            raw_lines = LineIndex(raw)
            for number, source in enumerate(notebook.sources, start=1):
                for match, _ in self._matches(source, allowed):
                    offset = raw.find(match)  # the line in the notebook file, when the JSON kept the text as is
                    where = raw_lines.line(offset) if offset >= 0 else None  # mutation: equivalent (JSON starts with {)
                    yield self.finding(notebook.path, where, f"cell {number}: user path {match} is machine-specific")

    @staticmethod
    def _matches(text: str, allowed: frozenset[str] | set[str]) -> Iterator[tuple[str, int]]:
        """(the path as written, its line) for each user path outside `allowed`."""
        lines = LineIndex(text)
        for match in USER_PATH.finditer(text):
            user = match["home"] or match["mac"] or match["win"]
            if user and user not in allowed:
                yield match[0], lines.line(match.start())
