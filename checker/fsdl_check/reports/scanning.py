"""What code-scanning formats (SARIF, GitLab Code Quality) share: stable fingerprints, a real file for every
finding, result caps, and where a rule's documentation is.

Code scanning tracks an alert by its fingerprint, so the fingerprint must stay put when unrelated lines move and
must differ for two findings of one rule in one file (two secrets are two alerts). It is the rule, the path, the
message and the finding's rank among the findings with that same rule, path and message (in line order): no line
number, so a line shift keeps it; the rank tells identical messages apart.

Code scanning can only show a result on a file of the repository; a repository-level finding (path "."), one about
a directory or about a file that is missing is placed on the repository's README (or pyproject.toml, or the first
file at the top), with the path it is about kept in the message.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fsdl_check.model import Finding, Rule

#: The repository README names; docs/rules.md there has one anchor per rule (`#vc005`).
REPOSITORY_URL = "https://github.com/OWNER/fsdl-stack"
#: Where a repository-level finding is shown, first present wins.
ANCHOR_FILES = ("README.md", "README.rst", "README.txt", "README", "pyproject.toml", "setup.py", "setup.cfg")
#: GitHub code scanning shows at most 5,000 results of a run (it drops the rest) and refuses a SARIF file over
#: 10 MB gzip-compressed; a report is kept well inside both. The GitLab Code Quality report keeps as many.
MAX_RESULTS = 5000
MAX_BYTES = 20_000_000


def rule_uri(rule: type[Rule], version: str) -> str:
    """The rule's section of docs/rules.md, at the release tag for a release and on main for a development build."""
    ref = f"v{version}" if re.fullmatch(r"\d+\.\d+\.\d+", version) else "main"
    return f"{REPOSITORY_URL}/blob/{ref}/docs/rules.md#{rule.code.lower()}"


def help_markdown(rule: type[Rule], version: str) -> str:
    rationale = rule.rationale() or rule.title()
    link = f"[{rule.code} in the rule reference]({rule_uri(rule, version)})"
    return f"{rationale}\n\n**How to fix:** {rule.fix}\n\n{link}"


def help_text(rule: type[Rule]) -> str:
    return f"{rule.rationale() or rule.title()}\n\nHow to fix: {rule.fix}"


def fingerprints(findings: Iterable[Finding]) -> dict[int, str]:
    """Fingerprint of each finding, by `id()` (see the module docstring)."""
    ranks: Counter[tuple[str, str, str]] = Counter()
    out = {}
    for finding in sorted(findings, key=lambda f: (f.line or 0, f.column or 0)):
        key = (finding.code, finding.path, finding.message)
        rank = ranks[key]
        ranks[key] += 1
        text = "\0".join((*key, str(rank)))
        out[id(finding)] = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return out


@dataclass(frozen=True)
class Placement:
    path: str  # a regular file of the repository, or "" when the repository has none to show it on
    line: int | None
    note: str  # appended to the message when the finding was moved ("" when it was not)


class Placer:
    """Finds the file a finding is shown on (one stat per distinct path, remembered)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._regular: dict[str, bool] = {}
        self._anchor: str | None = None

    def place(self, finding: Finding) -> Placement:
        if finding.path not in ("", ".") and self._is_file(finding.path):
            return Placement(finding.path, finding.line, "")
        anchor = self.anchor()
        about = "the repository" if finding.path in ("", ".") else finding.path
        return Placement(anchor, None, f" (about {about}; shown on {anchor or 'no file'})")

    def anchor(self) -> str:
        if self._anchor is None:
            self._anchor = next((p for p in ANCHOR_FILES if self._is_file(p)), None) or self._first_file()
        return self._anchor

    def _is_file(self, path: str) -> bool:
        if path not in self._regular:
            try:
                self._regular[path] = stat.S_ISREG(os.lstat(self.root / path).st_mode)
            except (OSError, ValueError):
                self._regular[path] = False
        return self._regular[path]

    def _first_file(self) -> str:
        try:
            names = sorted(entry.name for entry in self.root.iterdir())
        except OSError:
            return ""
        return next((n for n in names if self._is_file(n)), "")


def capped(findings: list[Finding], limit: int = MAX_RESULTS) -> tuple[list[Finding], int]:
    """At most `limit` findings, the most severe and unsuppressed first; and how many were left out."""
    if len(findings) <= limit:
        return findings, 0
    ranked = sorted(findings, key=lambda f: (f.suppressed_by is not None, -int(f.severity), f.sort_key()))
    kept = set(map(id, ranked[:limit]))
    return [f for f in findings if id(f) in kept], len(findings) - limit


def cap_note(left_out: int, total: int, why: str) -> str:
    return (
        f"{left_out} of {total} results left out ({why}); the most severe are kept."
        " Narrow the audit (--select, --ignore, exclude) to see the rest."
    )
