"""The checker's vocabulary: severities, areas, findings, and the `Rule` base class with its registry.

A rule is a small class. Its docstring's first line is its title and the rest is its rationale; `check` receives
parsed inputs from the `Repo` by parameter name (``def check(self, pyproject: TomlDoc | None)`` gets
``repo.pyproject``), so every input is parsed at most once however many rules read it.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar


class Severity(enum.IntEnum):
    """How much a finding matters; the order is used for thresholds (`fail-on`)."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (expected error, warning or info)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Area(enum.Enum):
    """Rule areas; the two-letter value is the code prefix."""

    PK = "packaging & dependencies"
    QA = "code quality"
    TS = "tests & CI"
    NB = "notebooks"
    VC = "version control & data"
    RP = "reproducibility"
    GA = "CI hygiene"
    EX = "experiment tracking"
    DK = "containers"
    KS = "Kubernetes jobs"
    SL = "SLURM"
    DT = "distributed training"
    HP = "hyperparameter search"
    TP = "template drift"
    FC = "fsdl-check itself"

    @property
    def prefix(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        return self.value


class ProjectKind(enum.Enum):
    """What a repository is; some rules only make sense for a training project."""

    TRAINING = "training"
    LIBRARY = "library"
    NOTEBOOKS = "notebooks"


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """One problem at one place. `line` is 1-based; None means the whole file (or the repository when path is '.')."""

    path: str
    line: int | None
    code: str
    message: str
    severity: Severity = Severity.WARNING
    column: int | None = None
    suppressed_by: str | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line or 0, self.column or 0, self.code, self.message)

    def __lt__(self, other: Finding) -> bool:  # whole-file findings (line None) sort first in their file
        return self.sort_key() < other.sort_key()

    @property
    def display_path(self) -> str:
        """The path as text that always encodes (file names that are not UTF-8 are shown with U+FFFD)."""
        return display(self.path)


def display(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    """Base class; subclasses register themselves by code when their module is imported."""

    code: ClassVar[str]
    severity: ClassVar[Severity]
    fix: ClassVar[str]
    #: Codes of rules that must pass for this one to be meaningful; when one fails, this rule is skipped.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Only evaluated when the repository is a training project.
    training_only: ClassVar[bool] = False
    #: A short bad example for `--explain` (optional).
    example: ClassVar[str] = ""
    #: The template file that shows the practice satisfied (relative to the generated project), if any.
    template_file: ClassVar[str | None] = None
    #: For rules about security (secrets, CI tokens): GitHub code scanning's score, 0.1-10.0 (9+ critical).
    security_severity: ClassVar[float | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "code" not in cls.__dict__:
            return
        code = cls.code
        if len(code) != 5 or code[:2] not in Area.__members__ or not code[2:].isdigit():
            raise TypeError(f"{cls.__name__}: rule code {code!r} must be an area prefix and three digits")
        if code in REGISTRY and REGISTRY[code] is not cls:
            raise TypeError(f"duplicate rule code {code}: {REGISTRY[code].__name__} and {cls.__name__}")
        if not (cls.__doc__ or "").strip():
            raise TypeError(f"{cls.__name__}: a rule needs a docstring (its title and rationale)")
        REGISTRY[code] = cls

    # -- metadata -------------------------------------------------------------------------------------------------
    @classmethod
    def area(cls) -> Area:
        return Area[cls.code[:2]]

    @classmethod
    def title(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "").split("\n", 1)[0].strip()

    @classmethod
    def rationale(cls) -> str:
        parts = inspect.cleandoc(cls.__doc__ or "").split("\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""

    @classmethod
    def inputs(cls) -> list[str]:
        """Names of the `Repo` attributes that `check` asks for (its parameters, read from its code object:
        `inspect.signature` costs a tenth of a small repository's audit)."""
        code = inspect.unwrap(cls.check).__code__  # also through a functools.wraps wrapper
        return [name for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if name != "self"]

    # -- behaviour ------------------------------------------------------------------------------------------------
    def check(self, *args: Any, **kwargs: Any) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, path: str, line: int | None, message: str, column: int | None = None) -> Finding:
        return Finding(path=path, line=line, code=self.code, message=message, severity=self.severity, column=column)


def all_rules() -> list[type[Rule]]:
    """Every registered rule, sorted by code (importing the rule modules registers them)."""
    from fsdl_check import rules  # noqa: F401  (import registers the rules)

    return [REGISTRY[code] for code in sorted(REGISTRY)]


def iter_codes(prefixes: Iterable[str]) -> Iterator[str]:
    """Expand code prefixes (``"PK"``, ``"PK00"``, ``"PK001"``, ``"ALL"``) to registered codes."""
    codes = [rule.code for rule in all_rules()]
    for prefix in prefixes:
        p = prefix.strip().upper()
        yield from (c for c in codes if p == "ALL" or c.startswith(p))
