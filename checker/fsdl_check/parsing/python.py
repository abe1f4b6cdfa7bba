"""Python sources, parsed once with `ast` (never imported or executed), and the facts rules ask of them."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Call:
    """A call site: `name` is the dotted callee as written (``torch.manual_seed``, ``L.seed_everything``, ``fit``)."""

    name: str
    line: int
    node: ast.Call

    @property
    def last(self) -> str:
        """The final attribute: ``seed_everything`` for ``L.seed_everything``."""
        return self.name.rsplit(".", 1)[-1]


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for Name/Attribute chains; ``f().g`` gives ``f.g``; other expressions give None."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None
    return ".".join(reversed(parts))


class PythonModule:
    """One `.py` file. `tree` is None when it does not parse; `error` and `error_line` then say why and where."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.error: str | None = None
        self.error_line: int | None = None
        self.tree: ast.Module | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes is not our business
                self.tree = ast.parse(text, filename=path)
        except SyntaxError as exc:
            self.error, self.error_line = exc.msg, exc.lineno
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            self.error = type(exc).__name__

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def imports(self) -> dict[str, int]:
        """Imported modules (full dotted names and every parent) mapped to the first line that imports them."""
        found: dict[str, int] = {}
        for node in self.walk():
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    found.setdefault(".".join(parts[:i]), node.lineno)
        return found

    def imports_any(self, *modules: str) -> int | None:
        """Line of the first import of any of `modules` (or a submodule of one), else None."""
        lines = [self.imports[m] for m in modules if m in self.imports]
        return min(lines) if lines else None

    @cached_property
    def calls(self) -> list[Call]:
        result = []
        for node in self.walk():
            if isinstance(node, ast.Call):
                name = dotted_name(node.func)
                if name:
                    result.append(Call(name, node.lineno, node))
        return result

    def calls_named(self, *names: str) -> list[Call]:
        """Calls whose dotted name or final attribute is one of `names`."""
        wanted = set(names)
        return [c for c in self.calls if c.name in wanted or c.last in wanted]

    @cached_property
    def functions(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [n for n in self.walk() if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]

    @cached_property
    def string_constants(self) -> list[tuple[str, int]]:
        return [(n.value, n.lineno) for n in self.walk() if isinstance(n, ast.Constant) and isinstance(n.value, str)]

    @cached_property
    def has_main_guard(self) -> bool:
        body = self.tree.body if self.tree is not None else []
        # Look for the "__main__" constant in the test (iteratively: unparsing a deeply nested test would recurse).
        return any(
            isinstance(node, ast.If)
            and any(isinstance(n, ast.Constant) and n.value == "__main__" for n in ast.walk(node.test))
            for node in body
        )

    @cached_property
    def _nodes(self) -> list[ast.AST]:
        return list(ast.walk(self.tree)) if self.tree is not None else []

    def walk(self) -> list[ast.AST]:
        """Every node of the tree (computed once)."""
        return self._nodes
