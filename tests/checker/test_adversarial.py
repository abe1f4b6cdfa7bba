"""Adversarial inputs against the checker's own safety, generated at scale, each within a time and memory budget.

The attacks are the ones a pull request can make against a CI job that audits it: a committed link where the report
is written, a hand-built git index naming files outside the checkout, a `git` program inside the checkout, YAML
alias bombs where a mapping key goes, configuration that links out of the repository or drives the terminal. Every
case must end in a report or a one-line error (exit 2), touch nothing outside the root, and stay inside generous
budgets (so a loaded machine does not flake them): seconds of wall time, tens of MB of Python allocations in
process (tracemalloc), and the peak resident size of the child processes (getrusage).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import audit
from fsdl_check.parsing.yamlfile import parse_yaml
from fsdl_check.repo import Repo, git_executable

SECONDS = 20.0  # per case; each takes well under a second alone
PYTHON_MB = 64.0  # peak of Python allocations in process, per case
CHILD_MB = 1024.0  # peak resident size of any fsdl-check child process
TOKEN = "hf_" + "".join("aB3dE5fG7h"[(i * 7) % 10] + "kQ9mN2pR4s"[(i * 3) % 10] for i in range(17))


@contextmanager
def budget(what: str, seconds: float = SECONDS, megabytes: float = PYTHON_MB) -> Iterator[None]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    assert took < seconds, f"{what}: {took:.1f} s (budget {seconds:g} s)"
    assert peak < megabytes, f"{what}: {peak:.0f} MB allocated at the peak (budget {megabytes:g} MB)"


def cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "fsdl_check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
    assert time.perf_counter() - started < SECONDS * 2, f"fsdl-check {args}: too slow"
    # ru_maxrss is KiB on Linux, bytes on macOS: the larger reading is used, so the budget holds on both.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mb = peak_kib / 1024 if sys.platform != "darwin" else peak_kib / 1e6
    assert peak_mb < CHILD_MB, f"a child reached {peak_mb:.0f} MB resident"
    return done


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("fsdl-check: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


# -- --output through a committed link -------------------------------------------------------------------------------
LINK_TARGETS: dict[str, Callable[[Path], Path]] = {
    "file outside": lambda outside: outside / "victim.txt",
    "dangling": lambda outside: outside / "created-by-the-audit.txt",
    "directory": lambda outside: outside,
    "link to a link": lambda outside: outside / "hop",
}


@pytest.mark.parametrize("kind", sorted(LINK_TARGETS))
@pytest.mark.parametrize("fmt", ["sarif", "json", "gitlab"])
def test_output_never_writes_through_a_committed_link(tmp_path: Path, kind: str, fmt: str) -> None:
    outside, root = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    root.mkdir()
    (outside / "victim.txt").write_text("precious\n")
    (outside / "hop").symlink_to(outside / "victim.txt")
    (root / "a.py").write_text("x = 1\n")
    (root / "fsdl.sarif").symlink_to(LINK_TARGETS[kind](outside))
    before = sorted((p.name, p.read_bytes() if p.is_file() else b"") for p in outside.iterdir())

    error = one_line_error(cli(root, "--format", fmt, "--output", root / "fsdl.sarif", "--exit-zero"))

    assert "symbolic link" in error
    assert sorted((p.name, p.read_bytes() if p.is_file() else b"") for p in outside.iterdir()) == before
    assert (root / "fsdl.sarif").is_symlink()  # left as it was


def test_output_is_written_atomically_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    target = tmp_path / "reports" / "fsdl.sarif"
    for _ in range(3):  # a fresh file, then replaced twice
        done = cli(root, "--format", "sarif", "--output", target, "--exit-zero")
        assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert [p.name for p in target.parent.iterdir()] == ["fsdl.sarif"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable like any new file, not mkstemp's 0600


def test_output_to_a_device_or_a_pipe_is_written_in_place(tmp_path: Path) -> None:
    """`--output /dev/null` (benchmarks, scripts that want only the exit status) and a named pipe work; they are
    the user's own: git cannot commit a device or a pipe."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    done = cli(root, "--format", "json", "--output", os.devnull, "--exit-zero")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    with subprocess.Popen(["cat", str(pipe)], stdout=subprocess.PIPE, text=True) as reader:
        done = cli(root, "--format", "json", "--output", pipe, "--exit-zero")
        received, _ = reader.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(received)["files"] == 1 and pipe.exists() and not pipe.is_file()


# -- a hand-built git index ------------------------------------------------------------------------------------------
def write_index(root: Path, paths: list[bytes], blob: str) -> None:
    """A version-2 git index listing `paths` (any bytes, as git would never write them), all pointing at `blob`."""
    body = b"DIRC" + struct.pack(">II", 2, len(paths))
    for path in sorted(paths):
        entry = struct.pack(">10I", 0, 0, 0, 0, 0, 0, 0o100644, 0, 0, 0) + bytes.fromhex(blob)
        entry += struct.pack(">H", min(len(path), 0xFFF)) + path
        entry += b"\0" * (8 - len(entry) % 8)
        body += entry
    (root / ".git" / "index").write_bytes(body + hashlib.sha1(body).digest())  # git's own checksum


def escaping_paths(count: int, outside: str) -> list[bytes]:
    shapes = ["../outside/{i}.py", "{outside}/{i}.py", "a/../../outside/{i}.py", "./../outside/{i}.py"]
    shapes += ["sub//../../outside/{i}.py", ".git/hooks/{i}", "x/.GIT/{i}", "../../../../outside/{i}.py"]
    return [shapes[i % len(shapes)].format(i=i % 50, outside=outside).encode() for i in range(count)]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_index_entries_that_leave_the_root_are_never_read_or_reported(tmp_path: Path) -> None:
    outside, root = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    root.mkdir()
    for i in range(50):
        (outside / f"{i}.py").write_text(f"HF_TOKEN = {TOKEN!r}\n")
    (root / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    blob = subprocess.run(
        ["git", "-C", str(root), "hash-object", "-w", "a.py"], check=True, capture_output=True, text=True
    ).stdout.strip()
    write_index(root, [b"a.py", *escaping_paths(2000, str(outside))], blob)
    listed = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True).stdout
    assert "../outside/" in listed  # the crafted index does list paths outside, as git reads it

    with budget("2,000 escaping index entries"):
        repo = Repo(root)
        assert [f.path for f in repo.files] == ["a.py"]
        assert repo.text("../outside/1.py") is None
        report = audit(root, Config(select=("VC",)))
    assert all(".." not in f.path and not f.path.startswith("/") for f in report.findings)
    assert "VC005" not in {f.code for f in report.findings}


# -- git from PATH only ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32" or shutil.which("git") is None, reason="a POSIX shell script as git")
def test_a_git_program_in_the_repository_or_the_current_directory_never_runs(tmp_path: Path) -> None:
    root, elsewhere, marker = tmp_path / "repo", tmp_path / "cwd", tmp_path / "ran"
    root.mkdir()
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "a.py").write_text("x = 1\n")
    fake = f"#!/bin/sh\necho ran >> {marker}\nexit 1\n"
    for directory in (root, root / "bin", elsewhere):
        directory.mkdir(exist_ok=True)
        (directory / "git").write_text(fake)
        (directory / "git").chmod(0o755)
    real = str(Path(shutil.which("git") or "git").parent)
    # PATH as a hostile job might set it: the repository, its bin/, ".", an empty entry, then the real git.
    path = os.pathsep.join([str(root), str(root / "bin"), ".", "", real])
    env = {**os.environ, "PATH": path}

    done = cli(root, "--select", "VC", "--format", "json", "--exit-zero", cwd=elsewhere, env=env)

    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert json.loads(done.stdout)["files"] >= 1
    found = git_executable(root)
    assert found is not None and not Path(found).resolve().is_relative_to(root.resolve())


def test_no_git_outside_the_repository_means_a_walk_not_the_committed_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "a.py").write_text("x = 1\n")
    (root / "git").write_text("#!/bin/sh\nexit 0\n")
    (root / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(root))
    monkeypatch.chdir(root)
    assert git_executable(root) is None
    assert not Repo(root).git and {"a.py", "git"} <= Repo(root).paths


# -- YAML alias bombs ------------------------------------------------------------------------------------------------
def laughs(depth: int, width: int = 10) -> list[str]:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
    return lines


def bombs() -> dict[str, str]:
    cases = {}
    for depth in (7, 9, 12):
        top = f"*a{depth - 1}"
        cases[f"key, depth {depth}"] = "\n".join([*laughs(depth), f"? {top}\n: value"]) + "\n"
        cases[f"flow key, depth {depth}"] = "\n".join([*laughs(depth), f"x: {{{top}: 1}}"]) + "\n"
        cases[f"nested key, depth {depth}"] = "\n".join([*laughs(depth), f"x:\n  - ? [{top}, {top}]\n    : 1"]) + "\n"
        cases[f"merge, depth {depth}"] = "\n".join([*laughs(depth), f"y: {{<<: {{k: {top}}}}}"]) + "\n"
        cases[f"value, depth {depth}"] = "\n".join([*laughs(depth), f"z: {top}"]) + "\n"
    cases["wide"] = "\n".join([*laughs(4, width=300), "? *a3\n: 1"]) + "\n"
    cases["many documents"] = "---\n".join("\n".join([*laughs(6), "? *a5\n: 1"]) + "\n" for _ in range(20))
    return cases


BOMBS = bombs()


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_yaml_alias_bombs_are_refused_before_they_expand(name: str) -> None:
    with budget(name, seconds=5, megabytes=32):
        doc = parse_yaml("bomb.yml", BOMBS[name])
    assert doc.error is not None and "alias bomb" in doc.error
    assert doc.documents == ()


def test_yaml_within_the_limit_keeps_its_shared_values() -> None:
    doc = parse_yaml("ok.yml", "\n".join([*laughs(4), "? *a2\n: v", "w: *a3"]) + "\n")
    assert doc.error is None
    assert len(doc.first["w"]) == 10


@pytest.mark.parametrize("name", ["key, depth 12", "flow key, depth 12", "merge, depth 12"])
def test_a_workflow_that_is_an_alias_bomb_is_one_parse_finding_in_budget(tmp_path: Path, name: str) -> None:
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(BOMBS[name])
    with budget(f"audit of {name}"):
        report = audit(root)
    [parse] = [f for f in report.findings if f.path == ".github/workflows/ci.yml" and f.code == "FC002"]
    assert "alias bomb" in parse.message


# -- configuration ---------------------------------------------------------------------------------------------------
CONTROL = [chr(c) for c in (*range(0, 9), *range(11, 32), 127)] + ["\u202e", "\u2066", "\u200f", "\x9b", "\x85"]


def hostile_keys(count: int) -> list[str]:
    """Keys mixing text with terminal controls: CSI and OSC sequences, bidi overrides, C1 controls, NUL."""
    keys = []
    for i in range(count):
        control = CONTROL[i % len(CONTROL)]
        keys.append(f"k{i}{control}]0;title\x07\x1b[2J{control}")
    return keys


def toml_key(key: str) -> str:
    return json.dumps(key)  # a TOML basic string is JSON's (\\uXXXX escapes), for these characters


WHERE = ["top", "per-path-ignores", "severity", "ignore"]


def hostile_config(key: str, where: str) -> str:
    line = f"{toml_key(key)} = 1\n"
    return line if where == "top" else f"[{where}]\n{line}"


@pytest.mark.parametrize("where", WHERE)
def test_control_characters_in_configuration_keys_are_escaped_in_every_error(tmp_path: Path, where: str) -> None:
    import tomllib

    from fsdl_check import config

    with budget(f"{len(CONTROL) * 20} hostile keys"):
        for key in hostile_keys(len(CONTROL) * 20):
            with pytest.raises(config.ConfigError) as caught:
                config.parse(tomllib.loads(hostile_config(key, where)), ".fsdl-check.toml")
            raw = [c for c in str(caught.value) if not c.isprintable()]
            assert raw == [], f"{where}: {key!r} gave {raw!r}"


@pytest.mark.parametrize("where", WHERE)
def test_control_characters_in_configuration_never_reach_stderr_raw(tmp_path: Path, where: str) -> None:
    for n, key in enumerate(hostile_keys(3)):
        root = tmp_path / f"repo{n}"
        root.mkdir()
        (root / ".fsdl-check.toml").write_text(hostile_config(key, where))
        error = one_line_error(cli(root))
        raw = [c for c in error.rstrip("\n") if not c.isprintable()]
        assert raw == [], f"{where}: {key!r} reached stderr as {raw!r}"


def test_a_config_linked_out_of_the_repository_is_not_read_in_any_form(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.toml").write_text('secret-key-name = "hunter2"\n')
    (outside / "pyproject.toml").write_text('[tool.fsdl-check]\nsecret-key-name = "hunter2"\n')
    links = {
        ".fsdl-check.toml": outside / "private.toml",
        "pyproject.toml": outside / "pyproject.toml",
        "nested": outside,  # a directory link: `--config nested/private.toml`
    }
    for n, (name, target) in enumerate(links.items()):
        root = tmp_path / f"repo{n}"
        root.mkdir()
        (root / "a.py").write_text("x = 1\n")
        (root / name).symlink_to(target)
        runs = [cli(root, "--exit-zero")]
        runs.append(cli(root, "--config", root / (f"{name}/private.toml" if name == "nested" else name)))
        for done in runs:
            assert "secret-key-name" not in done.stderr + done.stdout and "hunter2" not in done.stderr + done.stdout


def test_a_huge_config_is_refused_without_reading_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    with (root / ".fsdl-check.toml").open("wb") as fh:  # sparse: 4 GB on paper, nothing on disk
        fh.truncate(4 * 1024**3)
    with budget("4 GB configuration", seconds=10, megabytes=8):
        from fsdl_check import config

        with pytest.raises(config.ConfigError, match="configuration limit"):
            config.load(root)


def test_many_hostile_configurations_each_end_in_one_line(tmp_path: Path) -> None:
    cases: list[Any] = [
        "[tool]\n" * 1 + "x = 1\n",
        "select = [" + ", ".join(['"A"'] * 10_000) + "]\n",
        "exclude = [" + ", ".join(['"[z-a]"'] * 100) + "]\n",
        "per-path-ignores = {" + ", ".join(f'"p{i}" = ["ZZ999"]' for i in range(2000)) + "}\n",
        "a = " + "[" * 3000 + "]" * 3000 + "\n",
        "\ufeff\x00\x00",
    ]
    for n, text in enumerate(cases):
        root = tmp_path / f"repo{n}"
        root.mkdir()
        (root / ".fsdl-check.toml").write_text(text, encoding="utf-8")
        one_line_error(cli(root))
