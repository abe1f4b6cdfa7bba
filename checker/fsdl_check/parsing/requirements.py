"""pip requirements files: each requirement line, and whether it pins an exact version."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fsdl_check.regex import lazy

_NAME = lazy(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Requirement:
    name: str
    spec: str
    line: int

    @property
    def pinned(self) -> bool:
        """Exactly one version (``==`` or ``===``, no wildcard), or a direct reference with a hash."""
        spec = re.sub(r"^\s*\[[^\]]*\]", "", self.spec)  # extras (`pkg[a,b]==1.0`) are not a second specifier
        return bool(re.search(r"===?\s*[^*,;\s]+(\s|;|$)", spec)) and "," not in spec.split(";")[0]


@dataclass(frozen=True)
class RequirementsFile:
    path: str
    requirements: tuple[Requirement, ...]
    includes: tuple[str, ...]  # -r / -c targets

    @property
    def fully_pinned(self) -> bool:
        return bool(self.requirements) and all(r.pinned for r in self.requirements)


def parse_requirements(path: str, text: str) -> RequirementsFile:
    reqs: list[Requirement] = []
    includes: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r", "-c", "--requirement", "--constraint")):
            parts = line.split(maxsplit=1)
            if len(parts) == 2:
                includes.append(parts[1].strip())
            continue
        if line.startswith("-") or line.startswith("--hash"):
            continue  # options (-e ., --index-url, --hash continuation)
        match = _NAME.match(line)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            reqs.append(Requirement(name, line[match.end() :].strip().rstrip("\\").strip(), number))
    return RequirementsFile(path, tuple(reqs), tuple(includes))
