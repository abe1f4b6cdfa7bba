"""Python sources, parsed once with `ast` (never imported or executed), and the facts rules ask of them."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Call:
    """A call site: `name` is the dotted callee as written (``torch.manual_seed``, ``L.seed_everything``, ``fit``)."""

    name: str
    line: int
    node: ast.Call
    #: The final attribute: ``seed_everything`` for ``L.seed_everything`` (computed once: rules ask it of every call).
    last: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "last", self.name.rpartition(".")[2])


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
        """Calls whose dotted name or final attribute is one of `names` (in source order)."""
        index = self._call_index
        positions = sorted({position for name in names for position in index.get(name, ())})
        return [self.calls[position] for position in positions]

    @cached_property
    def _call_index(self) -> dict[str, list[int]]:
        """Positions in `calls` by dotted name and by final attribute: rules ask `calls_named` of every module."""
        index: dict[str, list[int]] = {}
        for position, call in enumerate(self.calls):
            index.setdefault(call.name, []).append(position)
            last = call.last
            if last != call.name:
                index.setdefault(last, []).append(position)
        return index

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
        return _all_nodes(self.tree) if self.tree is not None else []

    def walk(self) -> list[ast.AST]:
        """Every node of the tree (computed once)."""
        return self._nodes


def _all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` in breadth-first order, like `ast.walk`, but in one loop instead of nested generators,
    reading only the fields that can hold nodes, and without the `Load`/`Store`/`Del` markers (a third of all nodes,
    and of no use to a rule). Walking is the largest cost of an audit after parsing."""
    nodes = [tree]
    append, extend = nodes.append, nodes.extend
    for node in nodes:  # the loop also visits what it appends
        fields = _CHILD_FIELDS.get(type(node))
        if fields is None:
            fields = _CHILD_FIELDS[type(node)] = _child_fields(type(node))
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend([item for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                append(value)
    return nodes


#: Fields that only ever hold names, flags or constants, never nodes (`Constant.value` is data: see below).
_LEAF_FIELDS = frozenset(
    {"id", "ctx", "kind", "attr", "name", "asname", "module", "level", "arg", "type_comment", "conversion", "simple"}
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: ()}


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(node_type, "_fields", ())
    return tuple(name for name in fields if name not in _LEAF_FIELDS)
