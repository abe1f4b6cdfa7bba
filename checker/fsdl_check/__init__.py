"""fsdl-check: audit an ML repository against the Full Stack Deep Learning infrastructure practices."""

__version__ = "0.2.0.dev0"
