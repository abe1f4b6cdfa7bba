"""CI workflows (GitHub Actions and GitLab CI) reduced to what rules need: triggers, permissions and steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of

GITLAB_RESERVED = {
    "stages", "variables", "default", "include", "workflow", "image", "services", "cache",
    "before_script", "after_script", "pages",
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One shell command block (`run:` or a `script:` entry) or one action use (`uses:`)."""

    job: str
    line: int
    run: str | None = None
    uses: str | None = None
    with_: dict[str, Any] | None = None


@dataclass(frozen=True)
class Workflow:
    path: str
    provider: str  # "github" or "gitlab"
    doc: YamlDoc

    @property
    def data(self) -> dict[str, Any]:
        first = self.doc.first
        return first if isinstance(first, dict) else {}

    @property
    def triggers(self) -> set[str]:
        """GitHub `on:` event names (GitLab pipelines have no equivalent and give an empty set)."""
        on = self.data.get("on") if self.provider == "github" else None
        if isinstance(on, str):
            return {on}
        if isinstance(on, list):
            return {str(e) for e in on}
        if isinstance(on, dict):
            return {str(e) for e in on}
        return set()

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        if self.provider == "github":
            jobs = self.data.get("jobs")
            return {str(k): v for k, v in jobs.items() if isinstance(v, dict)} if isinstance(jobs, dict) else {}
        return {
            str(k): v
            for k, v in self.data.items()
            if isinstance(v, dict) and str(k) not in GITLAB_RESERVED and not str(k).startswith(".")
        }

    @property
    def steps(self) -> list[Step]:
        out: list[Step] = []
        for name, job in self.jobs.items():
            if self.provider == "github":
                steps = job.get("steps")
                for step in steps if isinstance(steps, list) else []:
                    if not isinstance(step, dict):
                        continue
                    run, uses = step.get("run"), step.get("uses")
                    with_ = step.get("with") if isinstance(step.get("with"), dict) else None
                    out.append(
                        Step(
                            name,
                            line_of(run, line_of(step)) if run is not None else line_of(step),
                            str(run) if run is not None else None,
                            str(uses) if uses is not None else None,
                            with_,
                        )
                    )
            else:
                for key in ("before_script", "script", "after_script"):
                    script = job.get(key)
                    items = script if isinstance(script, list) else [script] if script is not None else []
                    for item in items:
                        default = job.line_of(key) if isinstance(job, LineDict) else 1
                        out.append(Step(name, line_of(item, default), str(item)))
        return out

    @property
    def commands(self) -> str:
        """Every shell command of the workflow, one block per line group (for substring searches)."""
        return "\n".join(s.run for s in self.steps if s.run)
