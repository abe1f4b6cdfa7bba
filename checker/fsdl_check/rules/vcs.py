"""VC: version control and data — what gets committed, what stays out of git, and what must never be in it.

Also home to the secret-scanning helpers (`looks_like_placeholder`, `mask`, `baked_secrets`) that EX005 and DK006
share.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.dockerfile import Dockerfile, Instruction, is_dockerfile_name, key_values
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.parsing.yamlfile import parse_yaml
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo, RepoFile, gitignore_spec, valid_pattern

if TYPE_CHECKING:  # mutation: equivalent (the import serves annotations only)
    from pathspec import GitIgnoreSpec

MB = 1024 * 1024
LFS_POINTER = "version https://git-lfs.github.com/spec/v1"
ARTIFACT_SUFFIXES = frozenset({
    ".pt", ".pth", ".ckpt", ".safetensors", ".onnx", ".h5", ".hdf5", ".pkl", ".pickle", ".joblib", ".npy", ".npz",
    ".parquet", ".feather", ".tfrecord", ".bin", ".pb", ".tflite", ".mlmodel", ".arrow",
})  # fmt: skip
#: Text data formats: data (VC002) only when large, and never worth a secret scan when large (VC005).
TEXT_DATA_SUFFIXES = frozenset({".csv", ".tsv", ".jsonl", ".ndjson"})
LARGE_CSV_BYTES = 1 * MB
#: Never read when scanning for secrets: binary formats, media, archives, model files.
BINARY_SUFFIXES = ARTIFACT_SUFFIXES | {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".svg", ".pdf", ".zip", ".gz", ".tgz",
    ".bz2", ".xz", ".7z", ".tar", ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".pyc", ".pyo", ".mp3", ".mp4",
    ".wav", ".flac", ".avi", ".mov", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".db", ".sqlite", ".psd", ".map",
}  # fmt: skip
LOCK_FILES = frozenset({
    "uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
    "conda-lock.yml", "Cargo.lock", "pixi.lock",
})  # fmt: skip
#: `.env` variants that are meant to be committed: templates without values.
ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
CREDENTIAL_PATTERNS = (
    "credentials.json", "*.pem", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", "service-account*.json",
    "*.p12", "*.pfx", ".pypirc", "kaggle.json",
)  # fmt: skip
#: Tracker SDKs whose credentials are EX005's business.
TRACKER_WORDS = ("wandb", "mlflow", "comet", "neptune")

# -- secret helpers (shared with EX005) --------------------------------------------------------------------------
PLACEHOLDER_WORDS = (
    "xxx", "your", "example", "placeholder", "changeme", "change_me", "dummy", "redacted", "replace", "todo", "fake",
    "sample", "***", "...", "<", ">", "${", "{{", "%(",
)  # fmt: skip
PLACEHOLDER_VALUES = frozenset({"password", "secret", "token", "none", "null", "key", "apikey", "api_key", "test"})


def looks_like_placeholder(value: str) -> bool:
    """Values documentation uses instead of a real secret: `<your-token>`, `xxxx`, `${VAR}`, `changeme`, `aaaa`."""
    lower = value.lower()
    if not value or lower in PLACEHOLDER_VALUES or value[0] in "$%{":  # ${VAR}, %VAR%, {an_f_string_field}
        return True
    if len(set(value)) <= 2 or any(word in lower for word in PLACEHOLDER_WORDS):
        return True
    return "os.environ" in value or "getenv" in value


def looks_random(value: str, min_length: int = 20) -> bool:
    """A machine-made secret: long, mixing character classes, with high per-character entropy."""
    if len(value) < min_length or looks_like_placeholder(value):
        return False
    classes = sum(any(test(c) for c in value) for test in (str.islower, str.isupper, str.isdigit))
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return classes >= 2 and entropy >= 3.0


def mask(value: str) -> str:
    """Enough to find the value again, never enough to use it."""
    return f"{value[:4]}{'*' * 8}" if len(value) >= 16 else "*" * 8


#: Parts of a variable name that say it holds a credential (`HF_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `DB_PASSWORD`), as
#: whole `_`-separated parts: `TOKENIZERS_PARALLELISM` and `MAX_TOKENS` are not credentials.
SECRET_VARIABLE = lazy(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|AUTH_KEY|CREDENTIALS?)"
    r"(?:_|$)"
)
#: Endings of names that describe a secret rather than hold one (`HF_TOKEN_PATH=/run/secrets/hf`, `SECRET_NAME`).
SECRET_METADATA = lazy(
    r"_(?:FILE|PATH|DIR|URL|URI|NAME|ENABLED|LENGTH|LEN|SIZE|LIMIT|TYPE|MODE|HEADER|ENV|VAR|VARIABLE|SOURCE|REF)$"
)
NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "empty", "unset"})


def secret_variable(name: str) -> bool:
    """Whether an environment variable or build argument called `name` holds a credential."""
    upper = name.upper().replace("-", "_")
    return SECRET_VARIABLE.search(upper) is not None and SECRET_METADATA.search(upper) is None


def literal_secret(value: str) -> bool:
    """Whether a value given to a credential variable is a real literal: not a placeholder, a reference to another
    variable, a flag, a number, a path or a few characters."""
    stripped = value.strip()
    if len(stripped) < 4 or looks_like_placeholder(stripped) or "$" in stripped:
        return False
    if stripped.lower() in NOT_SECRET_VALUES or stripped.replace(".", "", 1).isdigit():
        return False
    return not stripped.startswith(("/", "./", "~", "file:"))


def baked_secrets(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, str, str]]:
    """(instruction, name, value) for each ENV or ARG that gives a credential variable a literal value: it is stored
    in the image's layers and metadata for anyone who pulls it."""
    for instruction in dockerfile.instructions:
        if instruction.keyword in ("ENV", "ARG"):
            for name, value in key_values(instruction, dockerfile.escape):
                if value is not None and secret_variable(name) and literal_secret(value):
                    yield instruction, name, value


def committed(files: list[RepoFile], git: bool) -> Iterator[RepoFile]:
    """Files that are in the repository's history: tracked ones in git, every listed one without git."""
    return (f for f in files if not f.symlink and (f.tracked or not git))


def scannable(file: RepoFile) -> bool:
    """Whether a secret or path scan should read this file (not a link, binary format or lock file)."""
    if file.suffix in TEXT_DATA_SUFFIXES and file.size > LARGE_CSV_BYTES:
        return False  # megabytes of rows: scanning them costs a third of a run and finds sample data, not secrets
    return not file.symlink and file.suffix not in BINARY_SUFFIXES and file.name not in LOCK_FILES


class LargeFile(Rule):
    """No committed file is over the size threshold

    Git keeps every version of every file forever: one committed checkpoint or dataset makes every clone, CI run
    and container build slower for the life of the repository. Large artifacts belong in Git LFS, DVC or the
    experiment tracker's artifact store, with only a pointer in git. The threshold is `large-file-mb` (10 MB).
    """

    code, severity = "VC001", Severity.ERROR
    fix = "Remove the file from git history and store it with Git LFS or DVC; see the template's `.gitignore`."
    template_file = ".gitignore"
    example = "git add checkpoints/epoch=9.ckpt  # 450 MB"

    def check(self, repo: Repo) -> Iterator[Finding]:
        limit = repo.options.large_file_mb
        for file in committed(repo.files, repo.git):
            if file.size > limit * MB:
                yield self.finding(file.path, None, f"{file.size / MB:.1f} MB committed (limit {limit:g} MB)")


class ArtifactOutsideLfs(Rule):
    """Model weights and data files are stored with Git LFS or DVC, not in git itself

    Weights, pickles, arrays and datasets are binary, large and change wholesale with every run: git cannot diff
    or compress them, and they bloat every clone. Git LFS (a `filter=lfs` pattern in `.gitattributes`) or DVC
    keeps a small pointer in git and the bytes elsewhere, with the same versioning guarantees.
    """

    code, severity = "VC002", Severity.WARNING
    fix = "Track the file with `git lfs track` or `dvc add`, or git-ignore it; see the template's `.gitignore`."
    template_file = ".gitignore"
    example = "models/resnet50.pt committed as a regular git blob"

    def check(self, repo: Repo) -> Iterator[Finding]:
        candidates = [
            f
            for f in committed(repo.files, repo.git)
            if f.suffix in ARTIFACT_SUFFIXES or (f.suffix in TEXT_DATA_SUFFIXES and f.size > LARGE_CSV_BYTES)
        ]
        if not candidates:
            return
        lfs = lfs_patterns(repo)
        dvc = dvc_outputs(repo)
        for file in candidates:
            if lfs.match_file(file.path) or any(file.path == o or file.path.startswith(o + "/") for o in dvc):
                continue
            if file.size < 1024 and (repo.text(file.path) or "").startswith(LFS_POINTER):
                continue  # an LFS pointer committed without the .gitattributes line (e.g. from another clone)
            size = f"{file.size / MB:.1f} MB" if file.size > MB // 10 else f"{file.size} bytes"
            yield self.finding(file.path, None, f"{file.suffix} file ({size}) committed outside Git LFS or DVC")


def lfs_patterns(repo: Repo) -> GitIgnoreSpec:
    """Paths `filter=lfs` applies to, from every `.gitattributes` (nested ones are relative to their directory)."""
    patterns: list[str] = []
    for file in repo.files:
        if file.name != ".gitattributes":
            continue
        base = file.path[: -len(".gitattributes")]
        for raw in (repo.text(file.path) or "").splitlines():
            fields = raw.split()
            if len(fields) < 2 or fields[0].startswith("#") or "filter=lfs" not in fields[1:]:
                continue
            pattern = fields[0]
            if pattern.startswith("!"):
                continue  # git refuses negative patterns in .gitattributes
            if base:  # anchor to the directory; patterns without a slash still match at any depth below it
                pattern = base + (pattern.lstrip("/") if "/" in pattern else "**/" + pattern)
            if valid_pattern(pattern):
                patterns.append(pattern)
    return gitignore_spec(patterns)


def dvc_outputs(repo: Repo) -> list[str]:
    """Paths DVC manages: `outs` of `*.dvc` files and of `dvc.yaml` stages, relative to the repository root."""
    outputs: list[str] = []
    for file in repo.files:
        if file.suffix == ".dvc":
            text = repo.text(file.path)
            data = parse_yaml(file.path, text).first if text else None
            outs = data.get("outs") if isinstance(data, dict) else None
            outputs.extend(_out_paths(outs, posixpath.dirname(file.path)))
        elif file.name in ("dvc.yaml", "dvc.yml"):
            doc = repo.yaml(file.path)
            stages = doc.first.get("stages") if doc is not None and isinstance(doc.first, dict) else None
            for stage in stages.values() if isinstance(stages, dict) else []:
                if isinstance(stage, dict):
                    wdir = stage.get("wdir")
                    base = posixpath.join(posixpath.dirname(file.path), wdir if isinstance(wdir, str) else "")
                    outputs.extend(_out_paths(stage.get("outs"), base))
                    outputs.extend(_out_paths(stage.get("metrics"), base))
    return outputs


def _out_paths(outs: Any, base: str) -> Iterator[str]:
    """`outs:` entries are strings, `{path: x}` (a .dvc file) or `{x: {cache: false}}` (dvc.yaml)."""
    for out in outs if isinstance(outs, list) else []:
        if isinstance(out, str):
            path = out
        elif isinstance(out, dict) and isinstance(out.get("path"), str):
            path = out["path"]
        elif isinstance(out, dict) and len(out) == 1 and isinstance(next(iter(out)), str):
            path = next(iter(out))
        else:
            continue
        yield posixpath.normpath(posixpath.join(base, path)).rstrip("/")


#: What VC003 expects `.gitignore` to cover, as (label, probe paths: any one ignored is enough). Directories are
#: probed as directories (a trailing slash), so a file glob such as `*.log` does not count as ignoring one.
ARTIFACT_DIRS = (
    ("mlruns/", ("mlruns/", "mlruns/0/")),
    ("wandb/", ("wandb/", "wandb/run-1/")),
    ("lightning_logs/", ("lightning_logs/", "lightning_logs/version_0/")),
    ("outputs/", ("outputs/", "outputs/2024-01-01/")),
    ("multirun/", ("multirun/", "multirun/2024-01-01/")),
    ("checkpoints (*.ckpt or checkpoints/)", ("model.ckpt", "checkpoints/")),
)
#: Tool -> the labels of ARTIFACT_DIRS it writes by default, and the words that, anywhere in the code or the YAML
#: configuration, say its output is sent elsewhere (then the default directory is not asked for).
ARTIFACT_TOOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mlflow": (("mlruns/",), ("tracking_uri", "MLFLOW_TRACKING_URI", "set_tracking_uri")),
    "wandb": (("wandb/",), ("WANDB_DIR",)),
    "lightning": (
        ("lightning_logs/", "checkpoints (*.ckpt or checkpoints/)"),
        ("default_root_dir",),
    ),
    "hydra": (("outputs/", "multirun/"), ("hydra.run.dir",)),
}
#: Tool -> the top-level modules whose import means the code runs it.
TOOL_MODULES = {
    "mlflow": ("mlflow",),
    "wandb": ("wandb",),
    "lightning": ("lightning", "pytorch_lightning"),
    "hydra": ("hydra",),
}
TOOL_IMPORT = lazy(r"^([ \t]*)(?:import|from)[ \t]+(mlflow|wandb|lightning|pytorch_lightning|hydra)\b", re.M)


def optional_import(lines: list[str], number: int, indent: int) -> bool:
    """Whether the import on line `number` (0-based) sits in a function (a lazy import: hydra's override parser in a
    helper) or under an `is_x_available()` guard (an optional integration a library offers its users). An import
    under a plain `if`/`try` at module level (`if wandb_log: import wandb`) is the script using the tool."""
    for line in reversed(lines[:number]):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(stripped)
        if depth < indent:
            if stripped.startswith(("def ", "async def ")) or "available(" in stripped:
                return True
            indent = depth
            if depth == 0:
                return False
    return False


def tool_imports(text: str) -> set[str]:
    """Tools a module imports at module level (see `optional_import`)."""
    found: set[str] = set()
    lines = text.splitlines()
    for match in TOOL_IMPORT.finditer(text):
        name = match.group(2)
        tool = next(t for t, modules in TOOL_MODULES.items() if name in modules)
        if tool in found:
            continue
        number = text.count("\n", 0, match.start())
        if not optional_import(lines, number, len(match.group(1))):
            found.add(tool)
    return found


def artifact_tools(repo: Repo) -> dict[str, bool]:
    """Tools whose run output lands in the working tree, -> whether the repository relocates it (see ARTIFACT_TOOLS)."""
    from fsdl_check.kind import is_auxiliary
    from fsdl_check.rules.tracking import LOGGER_CLASSES

    used: set[str] = set()
    for module in repo.python:
        if not module.parsed or is_auxiliary(module.path):
            continue
        used |= tool_imports(module.text)
        for call in module.calls_named(*LOGGER_CLASSES):  # Lightning's WandbLogger writes wandb/, and so on
            if LOGGER_CLASSES[call.last] in ARTIFACT_TOOLS:
                used.add(LOGGER_CLASSES[call.last])
    if "hydra" in used and not any("hydra.main" in m.text for m in repo.python):
        used.discard("hydra")  # only `@hydra.main` writes outputs/; the compose API does not
    texts = [m.text for m in repo.python] + [d.text for d in repo.yaml_files]
    relocated = {tool: any(w in t for t in texts for w in ARTIFACT_TOOLS[tool][1]) for tool in used}
    if relocated.get("mlflow") and any("sqlite:///" in t for t in texts):
        relocated["mlflow"] = False  # a SQLite backend store keeps the artifacts in ./mlruns all the same
    if "wandb" in used and any("WandbLogger" in t and "save_dir" in t for t in texts):
        relocated["wandb"] = True  # a Lightning WandbLogger configured with its own save_dir
    if "hydra" in used and any(_hydra_run_dir(d.path, d.first) for d in repo.yaml_files):
        relocated["hydra"] = True
    return relocated


def _hydra_run_dir(path: str, doc: Any) -> bool:
    """Whether a YAML config sets Hydra's run directory (`hydra: {run: {dir: ...}}`, or `run: {dir: ...}` in the
    `hydra/` config group)."""
    if not isinstance(doc, dict):
        return False
    if "/hydra/" in "/" + path or isinstance(doc.get("hydra"), dict):
        section = doc.get("hydra", doc) if isinstance(doc.get("hydra"), dict) else doc
        run = section.get("run")
        return isinstance(run, dict) and isinstance(run.get("dir"), str)
    return False


class GitignoreArtifacts(Rule):
    """`.gitignore` covers the run output of the ML tools the repository uses (mlruns, wandb, lightning_logs, ...)

    Every training run writes tracker stores, logs and checkpoints into the working tree. Unless `.gitignore`
    names them, one `git add .` commits gigabytes of run output and, with it, whatever the tracker stored. The rule
    asks only about the tools the code uses: MLflow -> `mlruns/`, W&B -> `wandb/`, Lightning -> `lightning_logs/`
    and `*.ckpt`, Hydra -> `outputs/` and `multirun/`; a tool whose output the repository sends elsewhere (an MLflow
    tracking URI, Lightning's `default_root_dir`, Hydra's `hydra.run.dir`, `WANDB_DIR`) is not asked about. An
    ignored parent directory counts; a file glob such as `*.log` does not ignore a directory. Without any
    `.gitignore`, it names the full list. The generated project's `.gitignore` lists them all.
    """

    code, severity = "VC003", Severity.INFO
    fix = "Add the missing entries to `.gitignore`; see the template's `.gitignore`."
    template_file = ".gitignore"
    example = "# .gitignore (the code imports wandb)\n__pycache__/\n# (no wandb/)"

    def check(self, repo: Repo) -> Iterator[Finding]:
        if ".gitignore" not in repo.paths:
            yield self.finding(
                ".gitignore", None, f"no .gitignore; add {', '.join(label for label, _ in ARTIFACT_DIRS)}"
            )
            return
        tools = artifact_tools(repo)
        wanted = {label for tool, moved in tools.items() if not moved for label in ARTIFACT_TOOLS[tool][0]}
        missing = [
            label for label, probes in ARTIFACT_DIRS if label in wanted and not any(repo.ignores(p) for p in probes)
        ]
        if missing:
            users = ", ".join(sorted(t for t, moved in tools.items() if not moved))
            yield self.finding(".gitignore", None, f"not ignored: {', '.join(missing)} (written by {users})")


class CredentialFile(Rule):
    """No `.env` or credential file is committed

    `.env` files, cloud service-account keys, SSH and TLS private keys, `.netrc`, `.pypirc` and `kaggle.json` exist
    to hold secrets. Once committed, a secret is in every clone and fork for good and must be rotated. Commit a
    `.env.example` with the variable names and keep the real file git-ignored.
    """

    code, severity = "VC004", Severity.ERROR
    security_severity = 8.0  # code scanning's score (high at 7+, critical at 9+)
    fix = "Delete the file from git (and rotate what it held), then git-ignore it; see the template's `.gitignore`."
    template_file = ".gitignore"
    example = "git add .env  # WANDB_API_KEY=..., AWS_SECRET_ACCESS_KEY=..."

    def check(self, repo: Repo) -> Iterator[Finding]:
        for file in repo.files:
            if file.symlink or not is_credential_file(file, repo):
                continue
            where = "committed" if file.tracked or not repo.git else "not git-ignored"
            yield self.finding(file.path, None, f"credential file {file.name} {where}")


@functools.lru_cache(maxsize=4096)  # mutation: equivalent (a cache size)
def _credential_name(name: str) -> bool:
    """Whether a file name matches `CREDENTIAL_PATTERNS` (memoized: three rules ask it of every file, and a
    repository repeats names such as `__init__.py` many times)."""
    return _credential_files().match_file(name)


@functools.cache
def _credential_files() -> GitIgnoreSpec:
    return gitignore_spec(CREDENTIAL_PATTERNS)


def is_credential_file(file: RepoFile, repo: Repo) -> bool:
    name = file.name
    if name == ".env" or (name.startswith(".env.") and name not in ENV_TEMPLATES):
        return True
    if not _credential_name(name):
        return False
    if file.suffix == ".pem":  # certificates are public; only a private key makes a .pem a secret
        return "PRIVATE KEY" in (repo.text(file.path) or "PRIVATE KEY")
    return True


@dataclass(frozen=True)  # mutation: equivalent (patterns are never assigned to or hashed)
class TokenPattern:
    """One kind of token: substrings that must occur in a file before its regex runs (a cheap filter), and the
    regex, whose `value` group (or whole match) is the secret."""

    what: str
    triggers: tuple[str, ...]
    regex: re.Pattern[str]
    lowercase_triggers: bool = False


# Each regex starts with a literal, so the scan skips ahead quickly; word boundaries are checked on the match.
TOKEN_PATTERNS = (
    TokenPattern("Hugging Face token", ("hf_",), lazy(r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])")),
    TokenPattern("AWS access key", ("AKIA", "ASIA"), lazy(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")),
    TokenPattern(
        "AWS secret key",
        ("aws_secret",),
        lazy(r"""(?i:aws_secret_(?:access_)?key)["']?\s*[:=]\s*["']?(?P<value>[A-Za-z0-9/+]{40})(?![\w/+])"""),
        lowercase_triggers=True,
    ),
    TokenPattern(
        "GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        lazy(r"gh[pousr]_[A-Za-z0-9]{36,}(?!\w)|github_pat_\w{40,}"),
    ),
    TokenPattern(
        "private key block",
        ("PRIVATE KEY",),
        # the marker, optional PEM headers, then key material (also inside JSON strings, with `\n` escapes)
        lazy(
            # possessive: a header's value ends only at a line end, so no split of `a: a: a: ...` is ever retried
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n|\\r)*+"
            r"(?:[A-Za-z-]++:[^\n\\]*+(?:\s|\\n|\\r)++)*+[A-Za-z0-9+/=]{32,}"
        ),
    ),
    TokenPattern(
        "Slack token",
        ("xox", "hooks.slack.com"),
        lazy(r"xox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/\w{16,}"),
    ),
)
#: A quoted literal of 20+ token characters after `=` or `:`; the name before it is checked separately.
QUOTED_VALUE = lazy(r"""[:=][ \t]*\\?["'](?P<value>[A-Za-z0-9_\-+/=.]{20,})\\?["']""")
#: The name in front of QUOTED_VALUE, ending the text before it: `client_secret`, `API_KEY`, `"access-token"`.
SECRET_NAME = lazy(
    r"""(?P<name>[A-Za-z0-9_-]*?(?<![A-Za-z0-9])(?i:api[_-]?key|apikey|secret(?:[_-]?key)?|token))\\?["']?[ \t]*$"""
)
GENERIC_TRIGGERS = ("key", "secret", "token")


def mentions_tracker_sdk(text: str) -> bool:
    """Whether a file talks to Comet or Neptune, whose `api_key=` / `api_token=` literals EX005 reports."""
    lower = text.lower()
    return "comet" in lower or "neptune" in lower


class SecretInCode(Rule):
    """No secret-looking tokens in code or configuration

    Tokens for Hugging Face, AWS, GitHub and Slack, private keys and long random API keys committed to a
    repository are harvested by bots within minutes of a push. Read secrets from the environment or a secret
    manager instead (CI: `${{ secrets.NAME }}`). Experiment-tracker credentials are reported by EX005.
    """

    code, severity = "VC005", Severity.ERROR
    security_severity = 9.0  # code scanning's score (high at 7+, critical at 9+)
    fix = "Rotate it and read it from the environment; see the template's `src/<package>/tracking.py`."
    template_file = "src/<package>/tracking.py"
    example = 'HF_TOKEN = "hf_' + "a1B2c3" * 6 + '"'  # mutation: equivalent (any length shows the example)

    def check(self, repo: Repo) -> Iterator[Finding]:
        for file in repo.files:
            if not scannable(file) or is_credential_file(file, repo):
                continue
            text = repo.text(file.path)
            if text:
                baked = dockerfile_secret_lines(repo, file.path) if is_dockerfile_name(file.name) else set()
                lines = LineIndex(text)
                for offset, what in secrets_in(text):
                    if (line := lines.line(offset)) not in baked:
                        yield self.finding(file.path, line, f"{what} in source")


def dockerfile_secret_lines(repo: Repo, path: str) -> set[int]:
    """Lines of a Dockerfile's ENV and ARG instructions that DK006 reports (one fact, one finding)."""
    dockerfile = next((d for d in repo.dockerfiles if d.path == path), None)
    if dockerfile is None:
        return set()  # mutation: equivalent (VC005 asks only of readable Dockerfiles, and every one is parsed)
    return {line for i, _, _ in baked_secrets(dockerfile) for line in range(i.line, i.end_line + 1)}


def secrets_in(text: str) -> Iterator[tuple[int, str]]:
    """(offset, what it is with the value masked) for each real-looking secret in `text`."""
    lower = text.lower()
    for pattern in TOKEN_PATTERNS:
        if any(t in (lower if pattern.lowercase_triggers else text) for t in pattern.triggers):
            for match in pattern.regex.finditer(text):
                if starts_word(text, match.start()) and (what := describe_token(pattern, match)):
                    yield match.start(), what
    if any(t in lower for t in GENERIC_TRIGGERS):
        for match in QUOTED_VALUE.finditer(text):
            named = SECRET_NAME.search(text, max(0, match.start() - 80), match.start())
            if named is not None and (what := describe_generic(named["name"], match["value"], text)):
                yield named.start(), what


def starts_word(text: str, offset: int) -> bool:
    return offset == 0 or not (text[offset - 1].isalnum() or text[offset - 1] == "_")


def describe_token(pattern: TokenPattern, match: re.Match[str]) -> str | None:
    """`what` with the token masked, or None for a placeholder (`hf_xxxx...`, AWS's documentation example)."""
    if pattern.what == "private key block":
        return pattern.what
    value = match.group("value") if "value" in pattern.regex.groupindex else match.group(0)
    body = value.split("_", 1)[-1] if "_" in value[:11] else value[4:]
    if looks_like_placeholder(body) or (pattern.what == "Hugging Face token" and not looks_random(body, 30)):
        return None
    return f"{pattern.what} {mask(value)}"


def describe_generic(name: str, value: str, text: str) -> str | None:
    """`NAME literal <masked>` for a random-looking value; None for placeholders and tracker credentials."""
    if any(pattern.regex.match(value) for pattern in TOKEN_PATTERNS):
        return None  # `SLACK_TOKEN = "xoxb-..."`: the token scan reports it, by what it is
    lowered = name.lower()
    if any(word in lowered for word in TRACKER_WORDS) or not looks_random(value):
        return None
    if lowered.replace("-", "_") in ("api_key", "apikey", "api_token") and mentions_tracker_sdk(text):
        return None  # a Comet or Neptune key: EX005
    return f"{name} literal {mask(value)}"
