"""Python sources, parsed once with `ast` (never imported or executed), and the facts rules ask of them.

A module is parsed once and every fact rules use of all modules (imports, calls with the names of their arguments,
class bases, loops, public functions' annotations, the main guard) is gathered in one pass over the tree, which is
then dropped: a syntax tree takes tens of times the memory of its source. The few rules that
need more (a call's argument values, one module's top-level statements) ask for `tree` or `Call.node`, which parse
that one module again, on demand.

Modules that few rules look into (tests, documentation, examples: more than half of a large repository's source)
can be made with `gather=False`: only their syntax is checked then, by a route that builds no syntax tree (about
two thirds of the time of a parse), and their facts are gathered on first use. `imports_any` and `calls_named`
answer without that when the text cannot hold what they ask for: an ASCII text that never spells the name as a
word imports or calls nothing of that name.
"""

from __future__ import annotations

import ast
import re
import warnings
import weakref
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen dataclass is three times slower to build
class Call:
    """A call site: `name` is the dotted callee as written (``torch.manual_seed``, ``L.seed_everything``, ``fit``).
    Treat it as read-only."""

    name: str
    line: int
    #: Keyword argument names in order (None for ``**kwargs``), and the number of positional arguments (``*args``
    #: included): enough to tell whether an argument is there without keeping the syntax tree.
    keywords: tuple[str | None, ...] = ()
    positional: int = 0
    #: The module it belongs to (weakly: a reference cycle would outlive the audit until the cycle collector runs)
    #: and its position in `module.calls`, to find its node again (see `node`).
    owner: weakref.ref[PythonModule] | None = field(default=None, repr=False, compare=False)
    index: int = field(default=0, repr=False, compare=False)
    #: The final attribute: ``seed_everything`` for ``L.seed_everything`` (computed once: rules ask it of every call).
    last: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.last = self.name.rpartition(".")[2]

    @property
    def node(self) -> ast.Call:
        """The call's syntax node (its module is parsed again the first time a node of it is asked for)."""
        module = self.module
        if module is None:
            raise LookupError(f"call {self.name} on line {self.line} has no module to read its node from")
        return module.call_nodes[self.index]

    @property
    def module(self) -> PythonModule | None:
        return self.owner() if self.owner is not None else None


@dataclass(frozen=True)
class ClassInfo:
    """A class statement: its name, line, and its bases as dotted names ("" for a base that is not a name)."""

    name: str
    line: int
    bases: tuple[str, ...]


@dataclass(frozen=True)
class FunctionInfo:
    """A public function (module level) or method (of a public class), and whether it is fully annotated."""

    name: str
    line: int
    method: bool
    annotated: bool


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


def fully_annotated(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> bool:
    """Whether every named parameter (but a method's `self`/`cls`) and the return carry an annotation. `*args` and
    `**kwargs` need none: they are most often passed through to another callable that types them."""
    if function.returns is None:
        return False
    args = function.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)
    if method and not static and params and params[0].arg in ("self", "cls", "mcs", "metacls"):
        params = params[1:]
    return all(p.annotation is not None for p in params)


def _parse(path: str, text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes is not our business
        return ast.parse(text, filename=path)


def _syntax_is_valid(path: str, text: str) -> bool:
    """Whether `text` parses, without building its syntax tree (the symbol table pass runs on the parser's own tree).
    False also for what only that pass rejects (`nonlocal` at module level): the caller parses such a module to
    tell, so the verdict is `ast.parse`'s either way."""
    import symtable

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, path, "exec")
    except Exception:  # SyntaxError, NUL bytes, absurd nesting: `ast.parse` gives the verdict and the message
        return False
    return True


@cache
def _any_word(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")


@dataclass(slots=True)
class _Facts:
    imports: dict[str, int] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    classes: list[ClassInfo] = field(default_factory=list)
    loops: list[tuple[int, int]] = field(default_factory=list)
    public_functions: list[FunctionInfo] = field(default_factory=list)
    has_main_guard: bool = False


class PythonModule:
    """One `.py` file. `parsed` is False when it does not parse; `error` and `error_line` then say why and where.
    With `gather=False` the facts are gathered on first use (see the module's docstring)."""

    def __init__(self, path: str, text: str, gather: bool = True) -> None:
        self.path = path
        self.text = text
        self.error: str | None = None
        self.error_line: int | None = None
        self._facts: _Facts | None = None
        if not gather and _syntax_is_valid(path, text):
            return
        try:
            tree = _parse(path, text)
        except SyntaxError as exc:
            self.error, self.error_line = exc.msg, exc.lineno
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            self.error = type(exc).__name__
        else:
            self._facts = self._gather(tree)
            return
        self._facts = _Facts()  # a module that does not parse has no facts

    @property
    def parsed(self) -> bool:
        return self.error is None

    @property
    def gathered(self) -> bool:
        """Whether the facts are at hand (False for a module made with gather=False until a fact is asked for)."""
        return self._facts is not None

    # -- the facts (gathered on first use for a module made with gather=False) ----------------------------------
    @property
    def imports(self) -> dict[str, int]:
        """Imported modules (full dotted names and every parent) mapped to the first line that imports them."""
        return (self._facts or self._gather_now()).imports

    @property
    def calls(self) -> list[Call]:
        return (self._facts or self._gather_now()).calls

    @property
    def classes(self) -> list[ClassInfo]:
        return (self._facts or self._gather_now()).classes

    @property
    def loops(self) -> list[tuple[int, int]]:
        """(first line, last line) of every `for`/`async for`/`while` loop."""
        return (self._facts or self._gather_now()).loops

    @property
    def public_functions(self) -> list[FunctionInfo]:
        """Module-level public functions and public methods of module-level public classes, in source order."""
        return (self._facts or self._gather_now()).public_functions

    @property
    def has_main_guard(self) -> bool:
        return (self._facts or self._gather_now()).has_main_guard

    def _gather_now(self) -> _Facts:
        tree = self.__dict__.get("tree") or (_parse(self.path, self.text) if self.parsed else None)
        self._facts = self._gather(tree) if tree is not None else _Facts()
        return self._facts

    def _may_name(self, words: frozenset[str]) -> bool:
        """False when the text cannot name any of `words` (identifiers): then the module neither imports nor calls
        anything of those names."""
        if not self._ascii:  # a non-ASCII identifier may normalise to one of the words (Python reads them as NFKC)
            return True
        text = self.text
        present = frozenset(word for word in words if word in text)  # quick, and mostly the answer
        return bool(present) and _any_word(present).search(text) is not None

    @cached_property
    def _ascii(self) -> bool:
        return self.text.isascii()

    @cached_property
    def tree(self) -> ast.Module | None:
        """The syntax tree, None when the module does not parse. Parsed again on first use and then kept: ask it
        only of the few modules a rule looks at closely."""
        if not self.parsed:
            return None
        try:
            return _parse(self.path, self.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # parsed before: only memory can run out
            return None

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def imports_any(self, *modules: str) -> int | None:
        """Line of the first import of any of `modules` (or a submodule of one), else None."""
        if self._facts is None and not self._may_name(frozenset(m.partition(".")[0] for m in modules)):
            return None
        imports = self.imports
        lines = [imports[m] for m in modules if m in imports]
        return min(lines) if lines else None

    def calls_named(self, *names: str) -> list[Call]:
        """Calls whose dotted name or final attribute is one of `names` (in the order of `calls`)."""
        if self._facts is None and not self._may_name(frozenset(n.rpartition(".")[2] for n in names)):
            return []
        index = self._call_index
        found = [index[name] for name in names if name in index]
        if not found:  # the usual answer
            return []
        positions = found[0] if len(found) == 1 else sorted({position for group in found for position in group})
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
    def call_nodes(self) -> list[ast.Call]:
        """The nodes of `calls`, position for position (from `tree`)."""
        return [node for node in self.walk() if type(node) is ast.Call and dotted_name(node.func)]

    @cached_property
    def functions(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [n for n in self.walk() if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]

    @cached_property
    def _nodes(self) -> list[ast.AST]:
        return _all_nodes(self.tree) if self.tree is not None else []

    def walk(self) -> list[ast.AST]:
        """Every node of `tree` (computed once; see `tree` for the cost)."""
        return self._nodes

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Each node of `walk()` but the module itself mapped to the node that holds it."""
        out: dict[ast.AST, ast.AST] = {}
        for node in self.walk():
            for name in _CHILD_FIELDS[type(node)]:  # walk() has seen every type and filled the table
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            out[item] = node
                elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                    out[value] = node
        return out

    # -- the facts as plain values (for the fact cache, see `fsdl_check.cache`) ----------------------------------
    def facts(self) -> list[Any]:
        """Every gathered fact as JSON values (lists, strings, numbers): what `from_facts` rebuilds the module from,
        with the text, without parsing it. Only the syntax verdict when the facts were not gathered."""
        if self._facts is None:
            return [self.error, self.error_line]
        return [
            self.error,
            self.error_line,
            self.imports,
            [[call.name, call.line, call.keywords, call.positional] for call in self.calls],
            [[c.name, c.line, c.bases] for c in self.classes],
            self.loops,
            [[f.name, f.line, f.method, f.annotated] for f in self.public_functions],
            self.has_main_guard,
        ]

    @classmethod
    def from_facts(cls, path: str, text: str, facts: list[Any]) -> PythonModule:
        """The module whose facts are `facts` (from `facts()`, perhaps through JSON). Raises ValueError or TypeError
        when `facts` is not of that shape, so a damaged cache entry is told from a good one."""
        error, error_line, *gathered = facts
        if not ((error is None or type(error) is str) and (error_line is None or type(error_line) is int)):
            raise TypeError("not the facts of a module")
        module = cls.__new__(cls)
        module.path, module.text, module.error, module.error_line = path, text, error, error_line
        module._facts = None
        if not gathered and error is None:
            return module  # only the syntax verdict was kept: the facts are gathered on first use
        imports, calls, classes, loops, functions, main_guard = gathered
        if not (
            type(imports) is dict
            and all(type(k) is str and type(v) is int for k, v in imports.items())
            and type(main_guard) is bool
        ):
            raise TypeError("not the facts of a module")
        owner = weakref.ref(module)
        found = _Facts(imports, has_main_guard=main_guard)
        found.calls = [
            Call(_str(name), _int(line), tuple(kw), _int(args), owner, i)
            for i, (name, line, kw, args) in enumerate(calls)
        ]
        if not all(k is None or type(k) is str for call in found.calls for k in call.keywords):
            raise TypeError("a keyword name that is not a string")
        found.classes = [ClassInfo(_str(name), _int(line), tuple(map(_str, bases))) for name, line, bases in classes]
        found.loops = [(_int(start), _int(end)) for start, end in loops]
        found.public_functions = [
            FunctionInfo(_str(name), _int(line), method is True, annotated is True)
            for name, line, method, annotated in functions
        ]
        module._facts = found
        return module

    # -- pickling (from a parsing worker process, see `fsdl_check.parsing.parallel`) ------------------------------
    def __getstate__(self) -> tuple[Any, ...]:
        """The facts as plain values: no syntax tree or cached views, calls as tuples (quick to pickle and load)."""
        if self._facts is None:
            return (self.path, self.text, self.error, self.error_line)
        return (
            self.path,
            self.text,
            self.error,
            self.error_line,
            self.imports,
            [(call.name, call.line, call.keywords, call.positional) for call in self.calls],
            [(c.name, c.line, c.bases) for c in self.classes],
            self.loops,
            [(f.name, f.line, f.method, f.annotated) for f in self.public_functions],
            self.has_main_guard,
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.path, self.text, self.error, self.error_line = state[:4]
        self._facts = None
        if len(state) == 4:
            return  # the facts were not gathered
        imports, calls, classes, loops, functions, main_guard = state[4:]
        owner = weakref.ref(self)
        self._facts = _Facts(
            imports,
            [Call(name, line, kw, args, owner, i) for i, (name, line, kw, args) in enumerate(calls)],
            [ClassInfo(*c) for c in classes],
            loops,
            [FunctionInfo(*f) for f in functions],
            main_guard,
        )

    # -- the one pass over a fresh tree ----------------------------------------------------------------------------
    def _gather(self, tree: ast.Module) -> _Facts:
        """The facts of every node, in the breadth-first order of `ast.walk` (rules that take the first match of a
        kind rely on that order), and of the module's own statements."""
        facts = _Facts()
        imports, calls, classes, loops = facts.imports, facts.calls, facts.classes, facts.loops
        owner = weakref.ref(self)  # one reference object, shared by every call
        nodes: list[Any] = [tree]  # nodes, and the None/str/bool items of some fields (skipped below)
        append, extend = nodes.append, nodes.extend
        shapes = _SHAPES
        for node in nodes:  # the loop also visits what it appends
            shape = shapes.get(type(node))
            if shape is None:
                if not isinstance(node, ast.AST):
                    continue  # None in `Dict.keys`, names in `Global.names`, `MatchSingleton.value`
                shape = shapes[type(node)] = _shape(type(node))
            fields, fact = shape
            if fact:
                if fact == _CALL:
                    func = node.func  # `f(...)` and `a.f(...)` are most calls: named without the general loop
                    name: str | None
                    if type(func) is ast.Name:
                        name = func.id
                    elif type(func) is ast.Attribute and type(func.value) is ast.Name:
                        name = f"{func.value.id}.{func.attr}"
                    else:
                        name = dotted_name(func)
                    if name:
                        keywords = tuple([k.arg for k in node.keywords]) if node.keywords else ()
                        calls.append(Call(name, node.lineno, keywords, len(node.args), owner, len(calls)))
                elif fact == _IMPORT:
                    _record_import(node, imports)
                elif fact == _CLASS:
                    bases = tuple([dotted_name(base) or "" for base in node.bases])
                    classes.append(ClassInfo(node.name, node.lineno, bases))
                elif fact == _LOOP:
                    loops.append((node.lineno, node.end_lineno or node.lineno))
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    extend(value)
                elif value is not None:
                    append(value)
        _gather_top_level(tree, facts)
        return facts


def _gather_top_level(tree: ast.Module, facts: _Facts) -> None:
    """Facts of the module's own statements: the main guard and the public functions."""
    functions = facts.public_functions
    for node in tree.body:
        if isinstance(node, ast.If) and not facts.has_main_guard:
            # Look for the "__main__" constant in the test (iteratively: a deeply nested test would recurse).
            facts.has_main_guard = any(
                isinstance(n, ast.Constant) and n.value == "__main__" for n in ast.walk(node.test)
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            functions.append(FunctionInfo(node.name, node.lineno, False, fully_annotated(node, False)))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_"):
                    functions.append(FunctionInfo(item.name, item.lineno, True, fully_annotated(item, True)))


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, not {type(value).__name__}")
    return value


def _record_import(node: ast.Import | ast.ImportFrom, found: dict[str, int]) -> None:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.module and not node.level:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    else:
        return
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            found.setdefault(".".join(parts[:i]), node.lineno)


def _all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` in breadth-first order, like `ast.walk`, but in one loop instead of nested generators,
    reading only the fields that can hold nodes, and without the `Load`/`Store`/`Del` markers (a third of all nodes,
    and of no use to a rule)."""
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


# Which fact a node type carries, for the one-pass gathering (0: none).
_CALL, _IMPORT, _CLASS, _LOOP = 1, 2, 3, 4
_FACTS: dict[type, int] = {
    ast.Call: _CALL,
    ast.Import: _IMPORT,
    ast.ImportFrom: _IMPORT,
    ast.ClassDef: _CLASS,
    ast.For: _LOOP,
    ast.AsyncFor: _LOOP,
    ast.While: _LOOP,
}


def _shape(node_type: type) -> tuple[tuple[str, ...], int]:
    """The fields of `node_type` that can hold nodes, and the fact it carries."""
    return _child_fields(node_type), _FACTS.get(node_type, 0)


_SHAPES: dict[type, tuple[tuple[str, ...], int]] = {ast.Constant: ((), 0)}  # `Constant.value` is data
