"""Rule modules, one per area. Importing this package registers every rule in `fsdl_check.model.REGISTRY`."""

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
    testing,
    tracking,
    vcs,
)
