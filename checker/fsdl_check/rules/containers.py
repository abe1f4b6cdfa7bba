"""DK: containers — an image built from pinned bases in lean layers, run as a non-root user whose trainer receives
signals, from a build context without the repository's history, data and run output, and with no secrets inside.

Which Dockerfiles count: dev-container and CI images (a Dockerfile under a hidden directory such as
`.devcontainer/` or `.github/`, or under `ci/`) are tooling, not the project's image: they are checked for pinned
bases, layer hygiene and secrets, but not for the user, signals or build context, and they do not count as the
project's image (DK007). Dockerfiles under tests/, docs/, examples/ and benchmarks/ are left alone except for
secrets, which are a leak wherever they are.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fsdl_check.kind import is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.dockerfile import (
    Dockerfile,
    DockerIgnore,
    ImageRef,
    Instruction,
    Stage,
    exec_array,
    expand,
    parse_dockerignore,
)
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.yamlfile import YamlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo, RepoFile
from fsdl_check.rules.ci import listing
from fsdl_check.rules.ci_commands import split_shell, unwrap
from fsdl_check.rules.tracking import DEFAULT_OUTPUT, tracker_use
from fsdl_check.rules.vcs import baked_secrets, mask
from fsdl_check.suppressions import scan

DOCKERFILE = "docker/Dockerfile"
DOCKERIGNORE = ".dockerignore"
#: Directories whose Dockerfiles build tools' images (CI, dev containers), besides every hidden directory.
TOOLING_DIRS = frozenset({"ci", "devcontainer", "devcontainers", "jenkins"})
#: Longest RUN script the command analysis reads (real ones are a few thousand characters).
MAX_SCRIPT = 50_000


#: hadolint's codes for the facts these rules report. A Dockerfile that already waived one for hadolint (`# hadolint
#: ignore=DL3013` right above the instruction, `# hadolint global ignore=...`, or `ignored:` in `.hadolint.yaml`)
#: made that call on purpose and is not told again.
HADOLINT = {
    "no tag": "DL3006", "latest": "DL3007", "recommends": "DL3015", "apt lists": "DL3009", "pip pins": "DL3013",
    "pip cache": "DL3042", "root": "DL3002", "exec form": "DL3025",
}  # fmt: skip
_HADOLINT_PRAGMA = lazy(r"^hadolint\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9,\s]+)", re.IGNORECASE)


class Waivers:
    """hadolint rules a repository or Dockerfile switched off."""

    def __init__(self, repo: Repo) -> None:
        self.configured: set[str] = set()
        for path in (".hadolint.yaml", ".hadolint.yml"):
            doc = repo.yaml(path) if path in repo.paths else None
            ignored = doc.first.get("ignored") if doc is not None and isinstance(doc.first, dict) else None
            if isinstance(ignored, list):
                self.configured.update(str(code).strip().upper() for code in ignored)
        self._global: dict[str, set[str]] = {}

    def waived(self, dockerfile: Dockerfile, instruction: Instruction | None, fact: str) -> bool:
        code = HADOLINT[fact]
        if code in self.configured:
            return True
        if dockerfile.path not in self._global:
            found: set[str] = set()
            for other in dockerfile.instructions:
                for comment in other.comments:
                    if (match := _HADOLINT_PRAGMA.match(comment)) and match[1]:
                        found.update(_codes(match[2]))
            self._global[dockerfile.path] = found
        if code in self._global[dockerfile.path]:
            return True
        for comment in instruction.comments if instruction is not None else ():
            if (match := _HADOLINT_PRAGMA.match(comment)) and code in _codes(match[2]):
                return True
        return False


def _codes(text: str) -> set[str]:
    return {code.strip().upper() for code in text.split(",") if code.strip()}


def is_tooling_image(path: str) -> bool:
    """A CI or dev-container image: a Dockerfile under a hidden directory or a `ci/` one."""
    return any(d.startswith(".") or d.lower() in TOOLING_DIRS for d in path.split("/")[:-1])


def project_images(dockerfiles: list[Dockerfile]) -> list[Dockerfile]:
    """The Dockerfiles that build the project's own images (not tooling, tests, docs or examples)."""
    return [d for d in dockerfiles if not is_auxiliary(d.path) and not is_tooling_image(d.path)]


def image_stages(dockerfile: Dockerfile) -> set[int]:
    """Stages whose layers end up in an image: the final stage and those it builds on, and any stage nothing
    copies from (another `--target`). A builder stage that is only copied from leaves its layers behind."""
    final = dockerfile.final_stage
    if final is None:
        return set()  # mutation: equivalent (no stage then: nothing asks whether one is in)
    keep = {s.index for s in dockerfile.chain(final)}
    copied: set[int] = set()
    for stage in dockerfile.stages:
        for instruction in stage.instructions:
            for source in [instruction.flag("from"), *(m.get("from") for m in instruction.mounts)]:
                found = dockerfile.stage_named(source) if source else None
                if found is not None:
                    copied.add(found.index)
    parents = {s.parent for s in dockerfile.stages if s.parent is not None}
    return keep | {s.index for s in dockerfile.stages if s.index not in copied and s.index not in parents}


# -- DK001 --------------------------------------------------------------------------------------------------------
def floating(reference: str | None, dockerfile: Dockerfile) -> str | None:
    """Why an image reference is not pinned, or None when it is pinned, `scratch`, a stage, or not known."""
    if reference is None or "$" in reference or "{" in reference or not reference.strip():
        return None
    if reference.lower() == "scratch" or dockerfile.stage_named(reference) is not None:
        return None
    image = ImageRef.parse(reference)
    if image.digest:
        return None
    if image.tag is None:
        return "has no tag (Docker pulls `latest`)"
    if image.tag == "latest":
        return "uses the floating tag `latest`"
    return None


class BaseImagePinned(Rule):
    """Base images are pinned to a version tag or a digest, never `latest`

    `FROM python` and `FROM python:latest` build on whatever the registry serves that day: the same Dockerfile
    yields a different Python, CUDA or system library next month, and a training run cannot be reproduced or a
    regression bisected. A version tag (`python:3.12-slim`, `nvidia/cuda:12.4.1-runtime-ubuntu22.04`) fixes the
    release; a digest (`@sha256:...`) fixes the exact bytes. Images copied from (`COPY --from=image`) count too.
    `FROM scratch`, earlier stages and bases given by a build argument without a default are not reported.
    """

    code, severity = "DK001", Severity.WARNING
    fix = f"Name a version tag or digest in every FROM (`FROM python:3.12-slim`); see the template's `{DOCKERFILE}`."
    template_file = DOCKERFILE
    example = "FROM python:latest\nFROM nvidia/cuda AS runtime"

    def check(self, dockerfiles: list[Dockerfile], repo: Repo) -> Iterator[Finding]:
        waivers = Waivers(repo)
        for dockerfile in dockerfiles:
            if is_auxiliary(dockerfile.path):
                continue
            for stage in dockerfile.stages:
                why = floating(stage.image, dockerfile) if stage.parent is None else None
                if why and not waivers.waived(dockerfile, stage.from_, _floating_fact(why)):
                    written = f" (FROM {stage.base})" if stage.base != stage.image else ""
                    yield self.finding(dockerfile.path, stage.line, f"base image {stage.image}{written} {why}")
                for instruction in stage.instructions:
                    source = instruction.flag("from") if instruction.keyword in ("COPY", "ADD") else None
                    why = floating(source, dockerfile) if source else None
                    if why and not waivers.waived(dockerfile, instruction, _floating_fact(why)):
                        message = f"COPY --from image {source} {why}"
                        yield self.finding(dockerfile.path, instruction.line, message)


def _floating_fact(why: str) -> str:
    return "latest" if "floating" in why else "no tag"


# -- DK002 --------------------------------------------------------------------------------------------------------
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
APT = frozenset({"apt-get", "apt"})
_PIP = lazy(r"^pip(?:[0-9.]*|\$\{?\w+\}?)$")
PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel"})
#: pip install options that take the next word as their value.
PIP_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f",
    "--find-links", "-t", "--target", "--prefix", "--root", "--platform", "--python-version", "--implementation",
    "--abi", "--trusted-host", "--progress-bar", "--src", "--upgrade-strategy", "--only-binary", "--no-binary", "-C",
    "--config-settings", "--global-option", "--log", "--cache-dir", "--timeout", "--retries", "--proxy", "--cert",
    "--client-cert", "--exists-action", "--report", "--python", "-p", "--group", "--build-constraint", "--index",
    "--default-index", "--overrides", "--extra", "--torch-backend",
})  # fmt: skip
#: Options whose value makes every package name pinned elsewhere (a requirements, constraints or lock file).
PIP_FILE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint", "--group", "--overrides"})
APT_VALUE_OPTIONS = frozenset({"-o", "--option", "-c", "--config-file", "-t", "--target-release"})
NO_RECOMMENDS = lazy(r"Install-Recommends\W+(?:false|0|no)\b", re.IGNORECASE)
PIP_CACHE = lazy(r"/\.cache(?:/pip|/uv)?/?$")
CACHE_REMOVAL = lazy(
    r"rm\s+-\w*\s+[^\n;&|]*\.cache(?:/pip|/uv)?\b|pip[0-9.]*\s+cache\s+purge|uv\s+cache\s+(?:clean|prune)"
)
APT_LISTS = "/var/lib/apt/lists"


@dataclass
class RunProblems:
    """What one RUN does wrong, as the parts of one message."""

    no_recommends: bool = False
    apt_lists: bool = False
    pip_cache: str = ""  # the installer that keeps its cache ("pip install", "uv pip install"), if any
    unpinned: tuple[str, ...] = ()

    def waive(self, waived: Callable[[str], bool]) -> None:
        """Drop what hadolint was told to ignore (see `Waivers`)."""
        self.no_recommends = self.no_recommends and not waived("recommends")
        self.apt_lists = self.apt_lists and not waived("apt lists")
        self.pip_cache = "" if waived("pip cache") else self.pip_cache
        self.unpinned = () if waived("pip pins") else self.unpinned

    def describe(self) -> list[str]:
        parts = []
        if self.no_recommends:
            parts.append("apt-get install without --no-install-recommends")
        if self.apt_lists:
            parts.append(f"apt lists left in the layer (no `rm -rf {APT_LISTS}/*` in this RUN)")
        if self.pip_cache:
            parts.append(self.pip_cache_text)
        if self.unpinned:
            more = f" and {len(self.unpinned) - 5} more" if len(self.unpinned) > 5 else ""
            parts.append(f"unpinned packages: {', '.join(self.unpinned[:5])}{more}")
        return parts

    @property
    def pip_cache_text(self) -> str:
        return f"{self.pip_cache} without {'--no-cache' if self.pip_cache.startswith('uv') else '--no-cache-dir'}"

    def kinds(self) -> list[str]:
        """Each problem in a few words, without the packages: how a line is named among the others."""
        kinds = ["apt-get install without --no-install-recommends"] if self.no_recommends else []
        kinds += ["apt lists left in the layer"] if self.apt_lists else []
        kinds += [self.pip_cache_text] if self.pip_cache else []
        return kinds + (["unpinned packages"] if self.unpinned else [])


def others_listing(offending: list[tuple[int, RunProblems]]) -> str:
    """The other offending RUNs of a Dockerfile, grouped by problem: `lines 14, 22 (apt-get install without
    --no-install-recommends), line 30 (pip install without --no-cache-dir; unpinned packages: torch, numpy)`."""
    lines: dict[str, list[str]] = {}
    packages: list[str] = []
    for line, problems in offending:
        for kind in problems.kinds():
            lines.setdefault(kind, []).append(str(line))
        packages.extend(p for p in problems.unpinned if p not in packages)
    groups: dict[tuple[str, ...], list[str]] = {}  # problems on the same lines are named together
    for kind, numbers in lines.items():
        if kind == "unpinned packages":
            more = f" and {len(packages) - 5} more" if len(packages) > 5 else ""
            kind = f"{kind}: {', '.join(packages[:5])}{more}"
        groups.setdefault(tuple(numbers), []).append(kind)
    return ", ".join(
        f"line{'s' if len(numbers) > 1 else ''} {listing(list(numbers))} ({'; '.join(kinds)})"
        for numbers, kinds in groups.items()
    )


def suppressed_lines(repo: Repo, path: str, code: str) -> set[int]:
    """The instructions of a Dockerfile that a `# fsdl: ignore[...]` comment naming `code` (or a prefix) applies
    to, as the engine matches them (`ignore-file` ones are the engine's alone)."""
    text = repo.text(path)
    found = scan(path, text) if text is not None else []
    covered = (s for s in found if not s.whole_file and any(code.startswith(c) for c in s.codes))
    return {s.line if s.target is None else s.target for s in covered}


def shell_script(instruction: Instruction) -> str:
    """What a shell-form RUN runs: its command line, and its heredocs when they are the script itself
    (`RUN <<EOF`, `RUN bash -e <<EOF`); a heredoc fed to another program (`RUN python <<EOF`) is data."""
    value = instruction.value
    first = value.split(maxsplit=1)[0] if value.strip() else ""  # mutation: equivalent (the first word, however split)
    if instruction.heredocs and (first.startswith("<<") or posixpath.basename(first) in SHELLS):
        return instruction.script[:MAX_SCRIPT]
    return value[:MAX_SCRIPT]


def commands_of(instruction: Instruction) -> list[list[str]]:
    if instruction.exec_form is not None:
        argv = list(instruction.exec_form)
        if len(argv) >= 3 and posixpath.basename(argv[0]) in SHELLS and argv[1] in ("-c", "-ec", "-xc", "-exc"):
            return split_shell(argv[2][:MAX_SCRIPT])
        return [argv]
    return split_shell(shell_script(instruction))


def pinned(spec: str) -> bool:
    """A requirement with a version (`torch==2.4.1`, `protobuf==3.20.*`, `numpy~=1.26`), a file, a path or URL, or
    one that comes from a variable; a bare name or an open range (`torch>=2`) is not pinned."""
    if "$" in spec or "/" in spec or spec.startswith((".", "~")) or "@" in spec:
        return True
    if spec.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
        return True
    return "==" in spec or "~=" in spec


def requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return match[0] if match else spec


def pip_install(args: list[str]) -> tuple[bool, list[str], bool]:
    """(has --no-cache-dir, unpinned package names, installs only packaging tools) of `pip install ARGS`."""
    no_cache = False
    from_file = False
    specs: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        option, equals, _ = word.partition("=")
        if word in ("--no-cache-dir", "--no-cache"):
            no_cache = True  # mutation: equivalent (the caller also finds it among all of pip's words)
        elif word in PIP_VALUE_OPTIONS:
            from_file = from_file or word in PIP_FILE_OPTIONS
            if word in ("-e", "--editable"):  # with or without its path (pip refuses a trailing -e anyway)
                specs.append(".")  # an editable install is a path
            index += 1
        elif word.startswith("-"):
            from_file = from_file or (equals and option in PIP_FILE_OPTIONS) or word.startswith(("-r", "-c"))
        else:
            specs.append(word)
        index += 1
    names = [requirement_name(spec) for spec in specs]
    tools_only = bool(names) and all(name.lower() in PACKAGING_TOOLS for name in names)
    unpinned = [] if from_file else [requirement_name(s) for s in specs if not pinned(s)]
    return no_cache, [n for n in unpinned if n.lower() not in PACKAGING_TOOLS], tools_only


def run_problems(
    instruction: Instruction, variables: dict[str, str | None], recommends_off: bool, in_image: bool
) -> RunProblems:
    """What a RUN does wrong. `variables`: ARG/ENV in effect; `recommends_off`: whether an earlier instruction
    turned off apt's recommends (an apt.conf entry); `in_image`: whether its layer stays in an image."""
    problems = RunProblems()
    mounts = [m for m in instruction.mounts if m.get("type") in ("cache", "tmpfs")]
    targets = [m.get("target", "").rstrip("/") for m in mounts]
    apt_cached = any(t.startswith(("/var/lib/apt", "/var/cache/apt")) for t in targets)
    pip_cached = any(PIP_CACHE.search(t + "/") for t in targets)
    script = (instruction.script if instruction.exec_form is None else " ".join(instruction.exec_form))[:MAX_SCRIPT]
    removes_cache = CACHE_REMOVAL.search(script) is not None
    unpinned: list[str] = []
    apt_updated = False
    for words in commands_of(instruction):
        assignments = {w.partition("=")[0] for w in words if re.match(r"^[A-Za-z_]\w*=", w)}
        argv = list(unwrap(words))
        if not argv:
            continue
        program = posixpath.basename(argv[0])
        if program in APT:
            rest = [w for w in _drop_values(argv[1:], APT_VALUE_OPTIONS) if not w.startswith("-")]
            action = rest[0] if rest else ""
            if action == "update":
                apt_updated = True
            elif action == "install" and in_image:
                explicit = "--no-install-recommends" in argv or any(NO_RECOMMENDS.search(w) for w in argv)
                if not explicit and not recommends_off:
                    problems.no_recommends = True
            continue
        if _PIP.match(program):
            args, installer = argv[1:], "pip install"
        elif program == "uv" and argv[1:2] == ["pip"]:
            args, installer = argv[2:], "uv pip install"
        else:
            continue
        leading = args
        args = _drop_values(args, {"--python", "-p", "--cache-dir", "--log"}, leading_only=True)
        if not args or args[0] != "install":
            continue
        no_cache, names, tools_only = pip_install(args[1:])
        no_cache = no_cache or any(w in ("--no-cache-dir", "--no-cache") for w in leading)
        unpinned.extend(n for n in names if n not in unpinned)
        env_off = {"PIP_NO_CACHE_DIR", "UV_NO_CACHE"} & (assignments | {k for k, v in variables.items() if v})
        if in_image and not (no_cache or tools_only or env_off or pip_cached or removes_cache):
            problems.pip_cache = problems.pip_cache or installer
    if apt_updated and in_image and not apt_cached and APT_LISTS not in script:
        problems.apt_lists = True
    problems.unpinned = tuple(unpinned)
    return problems


def _drop_values(
    words: list[str],
    options: frozenset[str] | set[str],
    leading_only: bool = False,  # mutation: equivalent (apt's action is the first word left either way)
) -> list[str]:
    """`words` without `options` and the values they take (only leading ones when `leading_only`)."""
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in options and (not leading_only or not out):
            index += 2
            continue
        if leading_only and word.startswith("-") and not out:
            index += 1
            continue
        out.append(word)
        index += 1
    return out


class PackageHygiene(Rule):
    """Package installs in the image are lean and pinned

    Every RUN is a layer that ships with the image: `apt-get install` without `--no-install-recommends` pulls in
    hundreds of megabytes nobody asked for, apt's package lists (`/var/lib/apt/lists`) stay in the layer unless the
    same RUN removes them, and pip keeps a copy of every wheel in its cache unless told `--no-cache-dir` — for a
    CUDA build of PyTorch that is gigabytes. Installing packages by name without a version (`pip install torch`)
    makes each build resolve afresh. Install from a lock or requirements file (or pin with `==`), and use
    `--no-install-recommends`, `rm -rf /var/lib/apt/lists/*`, `--no-cache-dir` (or `PIP_NO_CACHE_DIR`, or BuildKit
    cache mounts `--mount=type=cache,target=/root/.cache/pip`). Builder stages that are only copied from are
    checked for pins alone: their layers stay behind.

    A Dockerfile gets one finding, on its first offending RUN, that lists the other RUNs by problem. A
    `# fsdl: ignore[DK002]` comment above a RUN waives that RUN alone (the finding moves to the next offending one);
    `# fsdl: ignore-file[DK002]` waives the whole Dockerfile, and hadolint's own pragmas (`# hadolint
    ignore=DL3013`) waive one problem of one RUN.
    """

    code, severity = "DK002", Severity.INFO
    fix = (
        "Install from the lock file with `pip install --no-cache-dir -r ...` and clean apt in the same RUN; "
        f"see the template's `{DOCKERFILE}`."
    )
    template_file = DOCKERFILE
    example = "RUN apt-get update && apt-get install -y git\nRUN pip install torch lightning"

    def check(self, dockerfiles: list[Dockerfile], repo: Repo) -> Iterator[Finding]:
        waivers = Waivers(repo)
        for dockerfile in dockerfiles:
            if is_auxiliary(dockerfile.path):
                continue
            in_image = image_stages(dockerfile)
            offending: list[tuple[int, RunProblems]] = []
            suppressed = suppressed_lines(repo, dockerfile.path, self.code)
            for stage in dockerfile.stages:
                variables = dockerfile.variables(stage)
                chained = [i for s in dockerfile.chain(stage)[1:] for i in s.instructions]
                recommends_off = any(_turns_off_recommends(i) for i in chained)
                for instruction in stage.instructions:
                    if instruction.keyword == "RUN":
                        problems = run_problems(instruction, variables, recommends_off, stage.index in in_image)
                        problems.waive(functools.partial(waivers.waived, dockerfile, instruction))
                        parts = problems.describe()
                        if parts and instruction.line in suppressed:  # its own finding, for the suppression to hide
                            yield self.finding(dockerfile.path, instruction.line, "; ".join(parts))
                        elif parts:
                            offending.append((instruction.line, problems))
                    recommends_off = recommends_off or _turns_off_recommends(instruction)
            if offending:
                # One fact, one finding: the first offending RUN, with the others listed.
                offending.sort(key=lambda item: item[0])
                (line, problems), others = offending[0], offending[1:]
                message = "; ".join(problems.describe())
                if others:
                    message += f"; also {others_listing(others)}"
                yield self.finding(dockerfile.path, line, message)


def _turns_off_recommends(instruction: Instruction) -> bool:
    """`RUN echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/...` (or a COPY heredoc doing that)."""
    text = instruction.script if instruction.heredocs else instruction.arguments
    return "Recommends" in text and NO_RECOMMENDS.search(text) is not None


# -- DK003 --------------------------------------------------------------------------------------------------------
#: Base images that run as a non-root user unless told otherwise.
NON_ROOT_BASES = lazy(
    r"(?:^|/)(?:jupyter/|mambaorg/micromamba|bitnami/)|^(?:quay\.io/)?jupyter/|^cgr\.dev/chainguard/|nonroot",
    re.IGNORECASE,
)
#: A sudoers entry without a password: `app ALL=(ALL) NOPASSWD: ALL`, `%sudo ALL=(ALL:ALL) NOPASSWD:ALL`.
SUDOERS_NOPASSWD = lazy(r"(?P<who>%?[\w.$-]+)\s+ALL\s*=\s*(?:\([^)]*\)\s*)?NOPASSWD\s*:")


def effective_user(dockerfile: Dockerfile, stage: Stage) -> tuple[Instruction | None, str | None]:
    """The last USER of `stage` or of the stages it builds on, and its value with variables substituted (None:
    not known). (None, None) when no stage sets one."""
    for current in dockerfile.chain(stage):
        user = current.last("USER")
        if user is not None:
            return user, expand(user.value.strip(), dockerfile.variables(current), dockerfile.escape)
    return None, None


def is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()  # mutation: equivalent (the first part, however split)
    return name in ("root", "0")


def passwordless_sudo(dockerfile: Dockerfile, stage: Stage, user: str) -> Instruction | None:
    """The RUN that grants `user` passwordless sudo in the image: by name, to everyone (`ALL`), or to a group
    (`%sudo`) that a RUN adds the user to."""
    name = user.split(":", 1)[0].strip()  # mutation: equivalent (the first part, however split)
    runs = [i for s in dockerfile.chain(stage) for i in s.instructions if i.keyword == "RUN"]
    scripts = [i.script for i in runs]
    named = re.compile(rf"(?<![\w.$-]){re.escape(name)}(?![\w.-])")
    for instruction, script in zip(runs, scripts, strict=True):  # mutation: equivalent (same lengths)
        for grant in SUDOERS_NOPASSWD.finditer(script) if "NOPASSWD" in script else ():
            who = grant["who"]
            if who in (name, "ALL"):
                return instruction
            if who.startswith("%") and any(_adds_to_group(text, named, who[1:]) for text in scripts):
                return instruction
    return None


def _adds_to_group(script: str, user: re.Pattern[str], group: str) -> bool:
    """Whether a command of `script` puts `user` in `group` (useradd/usermod -G or -g, adduser, gpasswd -a)."""
    member = re.compile(rf"(?<![\w.-]){re.escape(group)}(?![\w.-])")
    for words in split_shell(script[:MAX_SCRIPT]):
        argv = list(unwrap(words))
        program = posixpath.basename(argv[0]) if argv else ""
        if program not in ("useradd", "usermod", "adduser", "gpasswd", "addgroup"):
            continue
        if any(user.fullmatch(w) for w in argv) and any(member.search(w) for w in argv[1:] if not user.fullmatch(w)):
            return True
    return False


class NonRootUser(Rule):
    """The image's final stage runs as a non-root user

    A container that runs as root is root on every mounted volume, and one escape from the container runtime away
    from root on the node; clusters increasingly refuse such pods (`runAsNonRoot`). Create a user and switch to it
    (`USER app`) in the final stage, after installing what needs root. A user who was granted passwordless sudo
    (`NOPASSWD`) is root in all but name. The user is inherited from earlier stages the final one builds on, and
    from a few base images known to run as a non-root user (Jupyter, micromamba, Bitnami, Chainguard, `nonroot`).
    """

    code, severity = "DK003", Severity.WARNING
    security_severity = 5.0  # code scanning's score (high at 7+, critical at 9+)
    fix = f"Create a user and end the final stage with `USER app`; see the template's `{DOCKERFILE}`."
    template_file = DOCKERFILE
    example = 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/train.py"]  # runs as root'

    def check(self, dockerfiles: list[Dockerfile], repo: Repo) -> Iterator[Finding]:
        waivers = Waivers(repo)
        for dockerfile in project_images(dockerfiles):
            stage = dockerfile.final_stage
            if stage is None:
                continue
            instruction, user = effective_user(dockerfile, stage)
            if waivers.waived(dockerfile, instruction, "root"):
                continue
            if instruction is None:
                root = dockerfile.chain(stage)[-1]
                if root.image is None or NON_ROOT_BASES.search(root.image) or root.image.lower() == "scratch":
                    continue  # a base given by a build argument, one that sets its own user, or an empty image
                yield self.finding(dockerfile.path, stage.line, "final stage runs as root: no USER instruction")
            elif user is None:
                continue
            elif is_root(user):
                yield self.finding(dockerfile.path, instruction.line, f"final stage runs as root (USER {user})")
            elif (grant := passwordless_sudo(dockerfile, stage, user)) is not None:
                message = f"USER {user} has passwordless sudo (NOPASSWD, line {grant.line}): root in all but name"
                yield self.finding(dockerfile.path, instruction.line, message)


# -- DK004 --------------------------------------------------------------------------------------------------------
def effective_commands(dockerfile: Dockerfile, stage: Stage) -> tuple[Instruction | None, Instruction | None]:
    """The ENTRYPOINT and CMD the image runs: the nearest in the stage or those it builds on, where setting
    ENTRYPOINT in a stage drops a CMD inherited from an earlier one (as Docker does)."""
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    entry_depth = cmd_depth = None
    for depth, current in enumerate(dockerfile.chain(stage)):
        if entrypoint is None and (found := current.last("ENTRYPOINT")) is not None:
            entrypoint, entry_depth = found, depth
        if cmd is None and (found := current.last("CMD")) is not None:
            cmd, cmd_depth = found, depth
    if entry_depth is not None and cmd_depth is not None and cmd_depth > entry_depth:
        cmd = None
    return entrypoint, cmd


def shell_form_problem(instruction: Instruction) -> str | None:
    if instruction.exec_form is not None:
        return None
    command = instruction.value.strip()
    if not command or command.startswith("exec "):
        return None  # `CMD exec python train.py`: the shell replaces itself
    shown = command if len(command) <= 60 else command[:57] + "..."
    hint = " (a JSON array needs double quotes)" if command.startswith("[") else ""
    return f"{instruction.keyword} in shell form{hint}: PID 1 is /bin/sh, which does not pass SIGTERM on to `{shown}`"


class ExecFormCommand(Rule):
    """The image's CMD and ENTRYPOINT use the exec form, so signals reach the trainer

    In the shell form (`CMD python train.py`) Docker runs `/bin/sh -c "python train.py"`: the shell is PID 1 and
    does not forward SIGTERM, so `docker stop`, a Kubernetes eviction or a SLURM preemption never reaches the
    trainer, which gets no chance to save a checkpoint and is killed ten (or thirty) seconds later. The exec form
    (`CMD ["python", "train.py"]`) runs the trainer as PID 1. Only the final stage's commands count; a shell form
    that starts with `exec` is fine.
    """

    code, severity = "DK004", Severity.INFO
    fix = f'Write `CMD ["python", "-m", "pkg"]` (a JSON array); see the template\'s `{DOCKERFILE}`.'
    template_file = DOCKERFILE
    example = "CMD python train.py --config configs/default.yaml"

    def check(self, dockerfiles: list[Dockerfile], repo: Repo) -> Iterator[Finding]:
        waivers = Waivers(repo)
        for dockerfile in project_images(dockerfiles):
            stage = dockerfile.final_stage
            if stage is None:
                continue
            entrypoint, cmd = effective_commands(dockerfile, stage)
            command = entrypoint if entrypoint is not None and entrypoint.exec_form is None else cmd
            problem = shell_form_problem(command) if command is not None else None
            if command is not None and problem and not waivers.waived(dockerfile, command, "exec form"):
                yield self.finding(dockerfile.path, command.line, problem)


# -- DK005 --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)  # mutation: equivalent (never assigned to or hashed)
class ContextEntry:
    """Something that must stay out of the build context: a label for messages, and paths inside it to probe."""

    label: str
    probes: tuple[str, ...]
    always: bool = False  # matters in every repository (not only when git-ignored or written by the tracker)


CONTEXT_ENTRIES = (
    ContextEntry(".git/", (".git/HEAD", ".git/objects/pack/pack-0.pack"), always=True),
    ContextEntry(".venv/", (".venv/pyvenv.cfg", "venv/pyvenv.cfg", ".venv/lib/site.py")),
    ContextEntry("data/", ("data/raw/train.csv", "data/train.bin", "data/processed/part-0.parquet")),
    ContextEntry("datasets/", ("datasets/raw/train.csv",)),
    ContextEntry("checkpoints", ("checkpoints/last.ckpt", "model.ckpt", "model.pt", "model.pth", "model.safetensors")),
    # Run output: probed with names no file-type pattern (`*.log`, `*.json`) catches, so that only ignoring the
    # directory itself makes it count.
    ContextEntry("mlruns/", ("mlruns/0/run/meta",)),
    ContextEntry("mlartifacts/", ("mlartifacts/0/run/model",)),
    ContextEntry("mlflow.db", ("mlflow.db",)),
    ContextEntry("wandb/", ("wandb/latest-run/files",)),
    ContextEntry("lightning_logs/", ("lightning_logs/version_0/checkpoints",)),
    ContextEntry("outputs/", ("outputs/2024-01-01/run",)),
    ContextEntry("multirun/", ("multirun/2024-01-01/run",)),
    ContextEntry("runs/", ("runs/exp/events",)),
    ContextEntry("logs/", ("logs/train/run",)),
)
#: COPY/ADD sources that take in the whole build context.
WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "/"})


def copies_whole_context(dockerfile: Dockerfile) -> Instruction | None:
    """The first COPY or ADD of the build context's root (`COPY . /app`): what it takes in ends up in the image.
    (BuildKit sends the builder only what the instructions use, so without one the context's size hardly matters.)"""
    for instruction in dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from") or instruction.heredocs:
            continue
        sources = exec_array(instruction.value) or tuple(instruction.value.split())
        if any(source in WHOLE_CONTEXT for source in sources[:-1]):
            return instruction
    return None


def context_for(repo: Repo, dockerfile: Dockerfile) -> tuple[str, str] | None:
    """(the ignore file that applies, the context directory it belongs to), BuildKit's `<Dockerfile>.dockerignore`
    first, then the root's (the usual context), then one in the Dockerfile's own directory; None when none exists."""
    directory = posixpath.dirname(dockerfile.path)
    prefix = directory + "/" if directory else ""
    own = dockerfile.path + ".dockerignore"
    if own in repo.paths:
        return own, ""
    if DOCKERIGNORE in repo.paths:
        return DOCKERIGNORE, ""
    if prefix + DOCKERIGNORE in repo.paths:
        return prefix + DOCKERIGNORE, directory
    return None


def must_stay_out(repo: Repo, context: str, tracker_paths: set[str]) -> list[tuple[str, list[str]]]:
    """(label, probe paths relative to `context`) for what matters in this repository: `.git` in a root context,
    and whatever the root `.gitignore` keeps out of git or the tracker writes, inside the context directory."""
    prefix = context + "/" if context else ""
    out: list[tuple[str, list[str]]] = []
    for entry in CONTEXT_ENTRIES:
        if entry.always:
            if not context:
                out.append((entry.label, list(entry.probes)))
            continue
        probes = [p for p in entry.probes if repo.ignores(prefix + p) or prefix + p.split("/")[0] in tracker_paths]
        if probes:
            out.append((entry.label, probes))
    for path in sorted(tracker_paths):
        if prefix and not path.startswith(prefix):
            continue
        rel = path[len(prefix) :]
        if not any(rel.split("/")[0] == p.split("/")[0] for _, probes in out for p in probes):
            is_file = posixpath.splitext(rel)[1] != ""
            out.append((rel if is_file else rel + "/", [rel if is_file else rel + "/run/data"]))
    return out


def tracker_outputs(python: list[PythonModule], yaml_files: list[YamlDoc]) -> set[str]:
    """Paths (relative to the root) the project's tracker writes to, from its code and configs, or its defaults."""
    use = tracker_use(python, yaml_files)
    paths: set[str] = set()
    for tracker in use.trackers:
        if tracker in use.locations:
            paths.update(use.locations[tracker])
        elif tracker not in use.configured:
            paths.update(label.rstrip("/") for label, _ in DEFAULT_OUTPUT.get(tracker, ()))
    return paths


class DockerignoreCoversContext(Rule):
    """`.dockerignore` keeps the repository's history, data, checkpoints and run output out of the build context

    `COPY . /app` copies the whole build context into the image: `.git` with the full history, a virtual
    environment, datasets, checkpoints and tracker stores (`mlruns/`, `wandb/`, `lightning_logs/`) add gigabytes
    to a layer, every training run invalidates the build cache, and whatever the runs logged ships to every registry
    the image is pushed to (the legacy builder also uploads all of it before the first instruction). Checked for
    Dockerfiles that copy the context's root. The patterns are evaluated as Docker does (root-anchored, `**`, `!`
    re-includes); what counts is `.git` and what this repository git-ignores or its tracker writes. A
    `.dockerignore` at the root, beside the Dockerfile, or BuildKit's `<Dockerfile>.dockerignore` applies; an
    allowlist (`*` then `!src`, `!pyproject.toml`, ...) is the tightest form.
    """

    code, severity = "DK005", Severity.WARNING
    fix = f"Add a `.dockerignore` listing .git, data and run output; see the template's `{DOCKERIGNORE}`."
    template_file = DOCKERIGNORE
    example = "# .dockerignore\n__pycache__/\n# (no .git, data/, mlruns/, wandb/, checkpoints)"

    def check(
        self, repo: Repo, dockerfiles: list[Dockerfile], python: list[PythonModule], yaml_files: list[YamlDoc]
    ) -> Iterator[Finding]:
        images = [d for d in project_images(dockerfiles) if copies_whole_context(d) is not None]
        if not images:
            return
        contexts: dict[tuple[str, str], None] = {}
        missing = []
        for dockerfile in images:
            found = context_for(repo, dockerfile)
            if found is None:
                missing.append(dockerfile.path)
            else:
                contexts.setdefault(found)
        if missing:
            first = next(d for d in images if d.path == missing[0])
            copy = copies_whole_context(first)
            more = len(missing) - 1
            others = f"; so {'does' if more == 1 else 'do'} {more} more Dockerfile{'s' * (more > 1)}" if more else ""
            line = f" (line {copy.line})" if copy is not None else ""
            message = f"no .dockerignore: {missing[0]} copies the whole build context into the image{line}{others}"
            yield self.finding(DOCKERIGNORE, None, message)
        tracker_paths = tracker_outputs(python, yaml_files) if contexts else set()
        for path, context in contexts:
            ignore = parse_dockerignore(path, repo.text(path) or "")
            entries = must_stay_out(repo, context, tracker_paths)
            let_in = [label for label, probes in entries if _lets_in(ignore, probes)]
            if let_in:
                yield self.finding(path, None, f"the build context takes in {', '.join(let_in)}")


def _lets_in(ignore: DockerIgnore, probes: list[str]) -> bool:
    return any(not ignore.excludes(probe) for probe in probes)


# -- DK006 --------------------------------------------------------------------------------------------------------
_HEX = "0123456789abcdef"


class NoSecretsInImage(Rule):
    """No secrets in ENV or ARG instructions

    `ENV HF_TOKEN=...` and `ARG WANDB_API_KEY=...` are stored in the image's configuration and layer history
    (`docker history`, `docker inspect`): everyone who can pull the image, from any registry it is pushed to, can
    read them, long after the Dockerfile was fixed. Pass secrets at build time with
    `RUN --mount=type=secret,id=hf_token` and at run time through the environment or the orchestrator's secrets.
    Build arguments without a default, placeholders and references to other variables are fine.
    """

    code, severity = "DK006", Severity.ERROR
    security_severity = 8.0  # code scanning's score (high at 7+, critical at 9+)
    fix = (
        "Delete the value (rotate it), and mount it with `RUN --mount=type=secret` or pass it at run time; "
        f"see the template's `{DOCKERFILE}`."
    )
    template_file = DOCKERFILE
    example = "ENV WANDB_API_KEY=" + _HEX + _HEX + "01234567"  # built up, so this file holds no key to report

    def check(self, dockerfiles: list[Dockerfile]) -> Iterator[Finding]:
        for dockerfile in dockerfiles:
            if "{{" in dockerfile.path:
                continue
            for instruction, name, value in baked_secrets(dockerfile):
                message = f"{instruction.keyword} {name} holds a literal secret {mask(value)}, stored in the image"
                yield self.finding(dockerfile.path, instruction.line, message)


# -- DK007 --------------------------------------------------------------------------------------------------------
#: Apptainer/Singularity definition files, the container format of most HPC clusters.
APPTAINER = lazy(r"^\s*Bootstrap\s*:", re.IGNORECASE | re.MULTILINE)


def apptainer_definitions(files: list[RepoFile], repo: Repo) -> list[str]:
    out = []
    for file in files:
        if file.symlink or is_auxiliary(file.path):
            continue
        if file.name.startswith("Singularity") or file.suffix == ".def":
            text = repo.text(file.path)
            if text and APPTAINER.search(text[:4096]):
                out.append(file.path)
    return out


class ShipsContainerImage(Rule):
    """A training project ships a container image definition

    Without a Dockerfile the training environment exists only on the machines that built it by hand: the CUDA
    version, system libraries and Python packages drift between a laptop, CI, the cluster and next year. An image
    built from the lock file runs the same way under Docker, Kubernetes and (through Apptainer) SLURM. A
    Dockerfile or Containerfile of the project's own (not a dev container or CI image) counts, and so does an
    Apptainer/Singularity definition file.
    """

    code, severity = "DK007", Severity.INFO
    training_only = True
    fix = f"Add a Dockerfile that installs the project from its lock file; see the template's `{DOCKERFILE}`."
    template_file = DOCKERFILE
    example = "train.py\nrequirements.txt\n# no Dockerfile"

    def check(self, dockerfiles: list[Dockerfile], files: list[RepoFile], repo: Repo) -> Iterator[Finding]:
        if project_images(dockerfiles) or apptainer_definitions(files, repo):
            return
        yield self.finding(".", None, "no Dockerfile or Containerfile: the training environment cannot be rebuilt")
