"""Jupyter notebooks read as JSON (never executed): their cells, and which carry outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notebook:
    path: str
    cells: tuple[dict[str, Any], ...]
    error: str | None = None
    error_line: int | None = None

    @property
    def cells_with_outputs(self) -> list[int]:
        """Indices (0-based) of code cells that carry outputs or an execution count."""
        return [
            i
            for i, cell in enumerate(self.cells)
            if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
        ]

    @property
    def sources(self) -> list[str]:
        out = []
        for cell in self.cells:
            source = cell.get("source", "")
            if isinstance(source, list):  # lines; anything but strings in it is not source text
                out.append("".join(line for line in source if isinstance(line, str)))
            else:
                out.append(source if isinstance(source, str) else "")
        return out


def parse_notebook(path: str, text: str) -> Notebook:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Notebook(path, (), f"invalid notebook JSON: {exc.msg}", exc.lineno)
    except (RecursionError, ValueError) as exc:
        return Notebook(path, (), f"invalid notebook JSON: {type(exc).__name__}")
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return Notebook(path, (), "not a notebook: no list of cells", 1)
    return Notebook(path, tuple(c for c in cells if isinstance(c, dict)))
