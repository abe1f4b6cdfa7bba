"""{{ cookiecutter.project_name }}: data, model, training command line and experiment tracking."""

__version__ = "0.1.0"
