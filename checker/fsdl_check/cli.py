"""The `fsdl-check` command.

Exit codes: 0 when no finding reaches the fail-on threshold, 1 when one does, 2 for a usage, configuration or
internal error. Every error is one line on stderr, ``fsdl-check: error: ...``; no traceback ever reaches the user.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from fsdl_check import __version__
from fsdl_check import config as configuration
from fsdl_check.model import REGISTRY, ProjectKind, Severity, all_rules, display

PROG = "fsdl-check"
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
LISTING_FORMATS = ("text", "json")  # what --list-rules, --explain and --statistics can print


class UsageError(Exception):
    """A problem with the command line or its inputs, worded for the user (one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)  # argparse would print the whole usage first; one line is the rule here


def build_parser() -> argparse.ArgumentParser:
    from fsdl_check.reports import FORMATS

    parser = _Parser(
        prog=PROG,
        description="Audit an ML repository against the Full Stack Deep Learning infrastructure practices.",
        epilog="Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration or internal error.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="repository to audit (default: the current directory); a file stands for the repository it is in",
    )
    pick = parser.add_argument_group("rule selection (comma-separated codes or prefixes: PK, PK00, PK001, ALL)")
    pick.add_argument("--select", action="append", metavar="CODES", help="only these rules (replaces the config)")
    pick.add_argument("--extend-select", action="append", metavar="CODES", help="these rules in addition")
    pick.add_argument("--ignore", action="append", metavar="CODES", help="leave these rules out")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--statistics", action="store_true", help="print how many findings each rule produced")
    out.add_argument("--no-color", action="store_true", help="no colours (also when NO_COLOR is set or not a tty)")
    outcome = parser.add_argument_group("outcome")
    outcome.add_argument(
        "--fail-on", choices=[s.label for s in sorted(Severity, reverse=True)], help="lowest severity that fails"
    )
    outcome.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings reach --fail-on")
    fixing = parser.add_argument_group("fixes (safe: files created, or lines added; never an existing line changed)")
    fixing.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    fixing.add_argument("--fix", action="store_true", help="apply the fixes, then report what is left")
    fixing.add_argument(
        "--template",
        metavar="SOURCE",
        help="the fsdl-stack template that fixes adding its files render (a git URL or a local clone; default: "
        "where fsdl-check was installed from)",
    )
    setup = parser.add_argument_group("configuration")
    setup.add_argument("--config", metavar="FILE", help="read settings from FILE (a .fsdl-check.toml)")
    setup.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the cache (parsed Python facts, reports)"
    )
    setup.add_argument(
        "--project-kind", choices=[k.value for k in ProjectKind], help="override the detected kind of project"
    )
    info = parser.add_argument_group("information")
    info.add_argument("--list-rules", action="store_true", help="list every rule (--format text or json)")
    info.add_argument("--explain", metavar="CODE", help="show one rule in full: why it matters and how to fix it")
    info.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if command and command[0] == "adopt":  # a subcommand with its own options (and copier as an optional dependency)
        from fsdl_check import adopt

        return adopt.main(command[1:])
    try:
        return _run(build_parser().parse_args(argv))
    except SystemExit as exc:  # --help and --version end this way
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except (UsageError, configuration.ConfigError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # an engine or rule bug: still one line, with what happened
        return _fail(f"internal error: {type(exc).__name__}: {exc}")


def _fail(message: str) -> int:
    one_line = " ".join(display(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)
    return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    if args.list_rules and args.explain is not None:
        raise UsageError("--explain and --list-rules cannot be combined; give one of them")
    if args.list_rules or args.explain is not None:
        return _catalogue(args)
    if args.fix or args.diff:
        _check_fix_flags(args)
    elif args.template is not None:
        raise UsageError("--template only serves --fix and --diff (the files they render from the template)")
    if args.statistics and args.format not in ("text", "concise", "json"):
        raise UsageError("--statistics works with --format text, concise or json")
    root = project_root(args.paths or ["."])
    config = _config(args, root)

    from fsdl_check.engine import audit
    from fsdl_check.reports import render, statistics

    # The selection is checked before the rules run: a report stored for this configuration passed that check.
    report = audit(root, config, cache=not args.no_cache, before_rules=lambda: _require_a_selected_rule(args, config))
    if args.diff or args.fix:
        from fsdl_check import fixes

        plan = fixes.plan(report, template=args.template)
        for note in plan.notes:
            print(f"{PROG}: {note}", file=sys.stderr)
        if args.diff:
            _emit(plan.diff(), args.output)
            return EXIT_OK if args.exit_zero else report.exit_code
        planned = len(plan.notes)
        for done in plan.write():
            print(f"{PROG}: fixed {done}", file=sys.stderr)
        for note in plan.notes[planned:]:  # files that changed or became links between reading and writing
            print(f"{PROG}: {note}", file=sys.stderr)
        report = audit(root, config, cache=not args.no_cache)
    if args.statistics:
        text = statistics.render_json(report) if args.format == "json" else statistics.render_text(report)
    else:
        color = _use_color(args)
        text = render(report, args.format, color=color)
    _emit(text, args.output)
    return EXIT_OK if args.exit_zero else report.exit_code


def _check_fix_flags(args: argparse.Namespace) -> None:
    if args.fix and args.diff:
        raise UsageError("--fix and --diff cannot be combined: --diff shows what --fix would write")
    flag = "--fix" if args.fix else "--diff"
    if args.statistics:
        raise UsageError(f"{flag} and --statistics cannot be combined")
    if args.diff and args.format != "text":
        raise UsageError(f"--diff prints a unified diff, not --format {args.format}")


# -- catalogue ------------------------------------------------------------------------------------------------------
def _catalogue(args: argparse.Namespace) -> int:
    from fsdl_check.reports import catalogue

    if args.format not in LISTING_FORMATS:
        flag = "--list-rules" if args.list_rules else "--explain"
        raise UsageError(f"{flag} prints --format text or json, not {args.format}")
    if args.list_rules:
        text = catalogue.list_json() if args.format == "json" else catalogue.list_text()
    else:
        all_rules()
        code = args.explain.strip().upper()
        if not code:
            raise UsageError("argument --explain: no rule code given (see fsdl-check --list-rules)")
        if code not in REGISTRY:
            raise UsageError(f"unknown rule code {args.explain!r} (see fsdl-check --list-rules)")
        rule = REGISTRY[code]
        text = catalogue.explain_json(rule) if args.format == "json" else catalogue.explain_text(rule)
    _emit(text, args.output)
    return EXIT_OK


# -- where and how to audit -------------------------------------------------------------------------------------------
def project_root(paths: Sequence[str]) -> Path:
    """The one repository that `paths` designate.

    A directory is audited as given. A file (pre-commit may pass file names even to a hook that asks for none)
    stands for its repository: the git top-level above it, else the nearest directory with a pyproject.toml, else
    its own directory. Only the first file is looked up; the others belong to the same commit.
    """
    roots: list[Path] = []
    file_root: Path | None = None
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            raise UsageError(f"no such file or directory: {raw}")
        if path.is_dir():
            root = path.resolve()
            _check_root(root)
        else:
            file_root = file_root or enclosing_project(path.resolve().parent)
            root = file_root
        if root not in roots:
            roots.append(root)
    if len(roots) > 1:
        names = ", ".join(str(r) for r in roots)
        raise UsageError(f"the paths name {len(roots)} repositories ({names}); audit one repository per run")
    return roots[0]


def _check_root(root: Path) -> None:
    from fsdl_check.repo import UnreadableRoot, check_root

    try:
        check_root(root)
    except UnreadableRoot as exc:
        raise UsageError(str(exc)) from None


def enclosing_project(start: Path) -> Path:
    nearest_pyproject = None
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
        if nearest_pyproject is None and (directory / "pyproject.toml").is_file():
            nearest_pyproject = directory
    return nearest_pyproject or start


def _config(args: argparse.Namespace, root: Path) -> configuration.Config:
    base = configuration.load_file(Path(args.config), root) if args.config else configuration.load(root)
    changes: dict[str, Any] = {}
    if args.select:  # "only these": the configured extend-select goes too, as in ruff
        changes["select"] = _codes(args.select, "--select")
        changes["extend_select"] = ()
    if args.extend_select:
        kept = () if args.select else base.extend_select
        changes["extend_select"] = (*kept, *_codes(args.extend_select, "--extend-select"))
    if args.ignore:
        changes["ignore"] = {**base.ignore, **dict.fromkeys(_codes(args.ignore, "--ignore"), "set with --ignore")}
    if args.fail_on:
        changes["fail_on"] = Severity.parse(args.fail_on)
    if args.project_kind:
        changes["project_kind"] = ProjectKind(args.project_kind)
    return base.override(**changes)


def _require_a_selected_rule(args: argparse.Namespace, config: configuration.Config) -> None:
    """An audit that can run no rule passes whatever the repository holds: that is a mistake, not a clean run."""
    if any(config.selected(rule.code) for rule in all_rules()):
        return
    flags = [flag for flag, given in (("--select", args.select), ("--ignore", args.ignore)) if given]
    where = " and ".join(flags) if flags else (config.source or "the configuration")
    select = ", ".join((*config.select, *config.extend_select))
    raise UsageError(
        f"no rule is selected: select {select}, ignore {', '.join(config.ignore)} (from {where}) leave nothing to check"
    )


def _codes(values: list[str], flag: str) -> tuple[str, ...]:
    codes = [c.strip().upper() for value in values for c in value.split(",") if c.strip()]
    if not codes:
        raise UsageError(f"argument {flag}: no rule code given")
    for code in codes:
        if not configuration.known_prefix(code):
            raise UsageError(f"argument {flag}: unknown rule code or prefix {code!r} (see fsdl-check --list-rules)")
    return tuple(codes)


# -- output -----------------------------------------------------------------------------------------------------------
def _use_color(args: argparse.Namespace) -> bool:
    if args.no_color or args.output or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _emit(text: str, output: str | None) -> None:
    if output:
        from fsdl_check.reports.output import OutputError, write_report

        try:
            write_report(text, output)  # never through a link; atomic
        except OutputError as exc:
            raise UsageError(str(exc)) from None
        return
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # a terminal that cannot show a character gets '?', not a crash
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_closed_stdout()


def silence_closed_stdout() -> None:
    """The reader (`| head`) went away: silence the interpreter's own flush at exit, keep the exit code."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
