"""Set up this project's virtual environment from its lock file, or write the lock.

    python3 tools/environment.py setup [--locked]   # `make setup`: .venv from requirements-lock.txt
    python3 tools/environment.py lock               # `make lock`: pyproject.toml -> requirements-lock.txt
    python3 tools/environment.py checker            # only fsdl-check, for an audit job without PyTorch

Only the standard library is used, so this runs with the Python that will create the environment.

Settings come from the environment (the Makefile passes its command-line variables on):

- ``VENV``: the environment's folder (default ``.venv``).
- ``TORCH_INDEX``: the wheel index torch is installed from. Unset, it is PyTorch's CPU index on Linux (a
  few hundred MB instead of several GB of CUDA libraries) and pip's own index elsewhere. Set it to a CUDA
  index (for example ``https://download.pytorch.org/whl/cu128``) for GPUs, or to nothing (``TORCH_INDEX=``)
  for pip's index. When the index cannot be reached, torch comes from pip's index, with a note saying so.
- ``FSDL_CHECK``: where the fsdl-check auditor comes from (a pip requirement, path or URL). Unset, it is the
  template this project was generated from, at the commit recorded in ``.copier-answers.yml`` (or, for a
  project made with cruft, ``.cruft.json``).

The lock pins every package for the platform it was made on, without hashes: torch's CPU and CUDA builds
of one version differ, and ``make setup`` picks the build by ``TORCH_INDEX``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = ROOT / "requirements-lock.txt"
COPIER_ANSWERS = ROOT / ".copier-answers.yml"
COOKIECUTTER_ANSWERS = ROOT / ".cookiecutter.json"
CRUFT_STATE = ROOT / ".cruft.json"  # cruft's record of the template and commit; `cruft update` moves it
# The torch release the template was tested with; `make lock` keeps whatever the lock already pins.
DEFAULT_TORCH_VERSION = "2.13.0"
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PIP_FLOOR = (25, 1)  # `pip install --group` (dependency groups) arrived in pip 25.1
PROBE_TIMEOUT_S = 8
CHECKER = "fsdl-check"
TORCH_BUILD_TAG = re.compile(r"\+.*$")  # 2.13.0+cpu -> 2.13.0


class SetupError(Exception):
    """A problem the user can fix; reported as one line, without a traceback."""


def say(message: str) -> None:
    """A progress line, flushed at once so that it shows before pip's own output."""
    print(f"==> {message}", flush=True)


def run(*command: str | Path) -> None:
    """Run a command in the project folder; a failure names the command (its own output says why)."""
    done = subprocess.run([str(part) for part in command], cwd=ROOT, check=False)  # noqa: S603
    if done.returncode != 0:
        printable = " ".join(str(part) for part in command)
        raise SetupError(f"`{printable}` failed (exit {done.returncode}); its output above says why")


# -- where things come from ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """What this run installs, and from where."""

    venv: Path
    torch_index: str  # empty: pip's own index
    torch_version: str
    checker: str  # a pip requirement for fsdl-check

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.venv / "bin" / "python"

    def pip(self, *arguments: str | Path) -> tuple[str | Path, ...]:
        """A pip command line in the environment."""
        return (self.python, "-m", "pip", *arguments)


def torch_index_setting() -> str:
    """TORCH_INDEX as set, else the default for this system."""
    configured = os.environ.get("TORCH_INDEX")
    if configured is not None:
        return configured.strip()
    return PYTORCH_CPU_INDEX if platform.system() == "Linux" else ""


def reachable_torch_index(index: str) -> str:
    """``index`` when it answers for torch within a few seconds; otherwise '' (pip's index), with a note."""
    if not index:
        return ""
    url = index.rstrip("/") + "/torch/"
    if not url.startswith(("https://", "http://")):
        raise SetupError(f"TORCH_INDEX must be an http(s) URL of a wheel index: got '{index}'")
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):  # noqa: S310 - scheme checked above
            return index
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        say(f"note: the torch wheel index {index} cannot be reached ({reason});")
        say("      torch comes from pip's configured index instead (on Linux, PyPI's build brings CUDA: GBs)")
        return ""


def answers_source() -> tuple[str, str]:
    """The template source and commit this project was generated from, from the answers file."""
    if COPIER_ANSWERS.is_file():
        values: dict[str, str] = {}
        for line in COPIER_ANSWERS.read_text(encoding="utf-8").splitlines():
            key, separator, value = line.partition(":")
            if separator and key in ("_src_path", "_commit"):
                values[key] = value.strip().strip("'\"")
        return values.get("_src_path", ""), values.get("_commit", "")
    if CRUFT_STATE.is_file():
        state = json.loads(CRUFT_STATE.read_text(encoding="utf-8"))
        return str(state.get("template") or ""), str(state.get("commit") or "")
    if COOKIECUTTER_ANSWERS.is_file():
        data = json.loads(COOKIECUTTER_ANSWERS.read_text(encoding="utf-8"))
        template = str(data.get("_template") or "")
        remote = re.match(r"^(gh:|gl:|https?://|ssh://|git@|git\+)", template)
        source = template if remote else str(data.get("_repo_dir") or template)
        return source, str(data.get("_commit") or "")
    return "", ""


def local_template_root(source: str) -> Path | None:
    """The fsdl-stack checkout of a template given as a path (tried as given, then from this project).

    That is the folder itself or, for a template one folder below it (cookiecutter's ``--directory``),
    its parent.
    """
    for base in (Path.cwd(), ROOT, ROOT.parent):
        candidate = (base / source).expanduser()
        for folder in (candidate, candidate.parent):
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file() and f'name = "{CHECKER}"' in pyproject.read_text(encoding="utf-8"):
                return folder.resolve()
    return None


def git_revision(commit: str) -> str:
    """The revision in a `git describe` answer: v1.2.0 -> v1.2.0, v1.2.0-3-gabc1234 -> abc1234."""
    described = re.fullmatch(r".*-g([0-9a-f]{7,40})(?:-dirty)?", commit)
    return described.group(1) if described else commit.removesuffix("-dirty")


def checker_requirement() -> str:
    """A pip requirement for fsdl-check; fails here, before any download, when it cannot be had."""
    configured = os.environ.get("FSDL_CHECK", "").strip()
    if configured:
        return configured
    source, commit = answers_source()
    hint = "set FSDL_CHECK to a checkout, wheel or git URL of fsdl-stack (make setup FSDL_CHECK=...)"
    if not source:
        raise SetupError(f"no template source in the answers file to take fsdl-check from: {hint}")
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if source.startswith(prefix):
            source = host + source.removeprefix(prefix)
    revision = git_revision(commit)
    if re.match(r"^(https?|ssh|git)://|^git@", source):
        url = source.removeprefix("git+")
        probe = subprocess.run(  # noqa: S603
            ["git", "ls-remote", "--exit-code", url, "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            check=False,
            timeout=60,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        if probe.returncode != 0:
            raise SetupError(f"the template repository {url} cannot be reached for fsdl-check: {hint}")
        return f"{CHECKER} @ git+{url}" + (f"@{revision}" if revision else "")
    root = local_template_root(source)
    if root is None:
        raise SetupError(f"the template folder '{source}' recorded in the answers file is not here: {hint}")
    if (root / ".git").exists() and revision:
        resolved = subprocess.run(  # noqa: S603
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", revision + "^{commit}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if resolved.returncode == 0:
            return f"{CHECKER} @ git+{root.as_uri()}@{resolved.stdout.strip()}"
        # Copier renders a template with uncommitted changes from a commit of its own making, which the
        # template's repository never sees: its working tree is what the project was made from.
        say(f"note: commit {revision} is not in {root} (copied with local changes): using the work tree")
    return f"{CHECKER} @ {root.as_uri()}"


# -- the lock ------------------------------------------------------------------------------------------------
def inputs_fingerprint() -> str:
    """A digest of what the lock is resolved from: changed dependencies in pyproject.toml make it stale."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    inputs = {
        "requires-python": project["project"].get("requires-python"),
        "dependencies": project["project"].get("dependencies", []),
        "dependency-groups": project.get("dependency-groups", {}),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def locked_versions() -> dict[str, str]:
    """Package name -> pinned version, from requirements-lock.txt."""
    pins = {}
    for line in LOCK_FILE.read_text(encoding="utf-8").splitlines():
        name, separator, version = line.partition("==")
        if separator and not line.startswith("#"):
            pins[name.strip().lower()] = version.strip()
    return pins


def lock_is_current() -> bool:
    """Whether the lock was resolved from pyproject.toml's dependencies as they are now."""
    return f"# inputs: {inputs_fingerprint()}" in LOCK_FILE.read_text(encoding="utf-8").splitlines()


def project_name() -> str:
    """The distribution name in pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(project["project"]["name"])


def canonical(name: str) -> str:
    """A distribution name normalised as PEP 503 does (Foo_Bar -> foo-bar)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def write_lock(settings: Settings) -> None:
    """Resolve the project, its dev group, torch and fsdl-check's dependencies, and pin the result."""
    say("resolving pyproject.toml's dependencies with pip (nothing is installed by this step)")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        extra = ("--extra-index-url", settings.torch_index) if settings.torch_index else ()
        run(
            *settings.pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", report),
            *extra,
            f"torch=={settings.torch_version}",
            settings.checker,
            "--group",
            "dev",
            "-e",
            ".",
        )
        resolved = json.loads(report.read_text(encoding="utf-8"))["install"]
    skip = {canonical(project_name()), CHECKER}
    pins = sorted(
        (canonical(item["metadata"]["name"]), TORCH_BUILD_TAG.sub("", item["metadata"]["version"]))
        if canonical(item["metadata"]["name"]) == "torch"
        else (canonical(item["metadata"]["name"]), item["metadata"]["version"])
        for item in resolved
        if canonical(item["metadata"]["name"]) not in skip
    )
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    header = [
        "# Every package this project installs, at the version `make lock` resolved, for `make setup`.",
        f"# Resolved on {machine}. Edit pyproject.toml, then run `make lock`; do not edit this file.",
        "# torch carries no build tag (+cpu, +cu128): `make setup` takes the build from TORCH_INDEX.",
        "# fsdl-check is not listed: it comes from the template source in .copier-answers.yml.",
        f"# inputs: {inputs_fingerprint()}",
    ]
    LOCK_FILE.write_text("\n".join([*header, *(f"{name}=={version}" for name, version in pins)]) + "\n")
    say(f"wrote {LOCK_FILE.name}: {len(pins)} packages pinned (commit it)")


# -- the environment -----------------------------------------------------------------------------------------
def preflight(*, locked: bool, torch: bool = True) -> Settings:
    """Check what can fail without a download, so that a long install never fails late."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floor = re.match(r">=\s*(\d+)\.(\d+)", project["project"].get("requires-python", ""))
    if floor and sys.version_info[:2] < (int(floor.group(1)), int(floor.group(2))):
        raise SetupError(
            f"Python {platform.python_version()} is older than this project's {floor.group(0)[2:].strip()}: "
            "run `make setup PYTHON=python3.X` with a newer one"
        )
    if shutil.which("git") is None:
        raise SetupError("git is not on PATH: install git (the hooks, fsdl-check and run records need it)")
    if locked and not LOCK_FILE.is_file():
        raise SetupError(f"no {LOCK_FILE.name}: run `make lock` and commit the file")
    if locked and not lock_is_current():
        raise SetupError(f"{LOCK_FILE.name} is older than pyproject.toml's dependencies: run `make lock`")
    pinned = locked_versions().get("torch") if LOCK_FILE.is_file() else None
    return Settings(
        venv=(ROOT / os.environ.get("VENV", ".venv")).resolve(),
        torch_index=reachable_torch_index(torch_index_setting()) if torch else "",
        torch_version=os.environ.get("TORCH_VERSION") or pinned or DEFAULT_TORCH_VERSION,
        checker=checker_requirement(),
    )


def create_venv(settings: Settings) -> None:
    """The virtual environment, with a pip that knows dependency groups."""
    if not settings.python.exists():
        say(f"creating the virtual environment {settings.venv.name}/ with Python {platform.python_version()}")
        run(sys.executable, "-m", "venv", settings.venv)
    version = subprocess.run(  # noqa: S603
        [settings.python, "-c", "import pip; print(pip.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if numbers < PIP_FLOOR:
        say(f"upgrading pip {version or '(none)'} to {'.'.join(map(str, PIP_FLOOR))} or newer")
        run(*settings.pip("install", "--quiet", "--upgrade", "pip>={}.{}".format(*PIP_FLOOR)))


def install_torch(settings: Settings) -> None:
    """Torch alone and first, from TORCH_INDEX: the lock's torch pin then finds it installed."""
    where = settings.torch_index or "pip's configured index"
    say(f"installing torch=={settings.torch_version} from {where} (the largest download: minutes at first)")
    index = ("--index-url", settings.torch_index) if settings.torch_index else ()
    run(*settings.pip("install", "--no-deps", *index, f"torch=={settings.torch_version}"))


def setup(*, locked: bool) -> None:
    """`make setup`: the environment from the lock (resolved first when there is none), and the git hooks."""
    started = time.monotonic()
    settings = preflight(locked=locked)
    create_venv(settings)
    if not LOCK_FILE.is_file():
        say(f"no {LOCK_FILE.name} yet: resolving one first (as `make lock` does)")
        write_lock(settings)
    elif not lock_is_current():
        say(f"note: {LOCK_FILE.name} is older than pyproject.toml's dependencies: `make lock` updates it")
    install_torch(settings)
    say(f"installing the {len(locked_versions())} packages pinned in {LOCK_FILE.name}")
    run(*settings.pip("install", "--requirement", LOCK_FILE))
    say("installing this project (editable) and fsdl-check")
    run(*settings.pip("install", "--no-deps", "--editable", "."))
    run(*settings.pip("install", "--no-deps", settings.checker))
    if (ROOT / ".git").exists():
        run(settings.venv / "bin" / "pre-commit", "install")
    else:
        say("note: no git repository yet, so no hooks: run `git init`, then `make setup` again")
    say(f"ready in {time.monotonic() - started:.0f} s: `make train`, `make test`")


def lock() -> None:
    """`make lock`: resolve the lock anew."""
    settings = preflight(locked=False)
    create_venv(settings)
    write_lock(settings)


def checker_only() -> None:
    """fsdl-check with its own dependencies, for an audit job: no PyTorch, no lock needed."""
    settings = preflight(locked=False, torch=False)
    create_venv(settings)
    run(*settings.pip("install", settings.checker))


def main(argv: list[str] | None = None) -> int:
    """Command line; errors are one line and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["setup", "lock", "checker"])
    parser.add_argument("--locked", action="store_true", help="fail unless the lock is there and current")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "setup":
            setup(locked=arguments.locked)
        elif arguments.command == "lock":
            lock()
        else:
            checker_only()
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
