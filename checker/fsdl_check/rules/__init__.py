"""Rule modules, one per area. Importing this package registers every rule in `fsdl_check.model.REGISTRY`, and checks
that each rule's `check` asks only for inputs the `Repo` has: a typo in a parameter name fails here, at import,
instead of as an internal error in the middle of an audit."""

from collections.abc import Iterable

from fsdl_check.model import REGISTRY, Rule
from fsdl_check.repo import Repo
from fsdl_check.rules import (  # noqa: F401
    ci,
    containers,
    distributed,
    kubernetes,
    meta,
    notebooks,
    packaging,
    quality,
    reproducibility,
    slurm,
    sweeps,
    template,
    testing,
    tracking,
    vcs,
)


def check_inputs(rules: Iterable[type[Rule]]) -> None:
    """Raise TypeError for the first rule whose `check` names a parameter that is neither `repo` nor a `Repo`
    attribute (a property, or one that `Repo.__init__` sets: its code names every attribute it assigns)."""
    for rule in rules:
        for name in rule.inputs():
            if name != "repo" and not hasattr(Repo, name) and name not in Repo.__init__.__code__.co_names:
                raise TypeError(f"{rule.__name__} ({rule.code}): check() asks for {name!r}, which Repo does not have")


check_inputs(REGISTRY.values())
