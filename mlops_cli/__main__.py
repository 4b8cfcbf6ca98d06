"""`python -m mlops_cli` runs the `mlops` command."""

from mlops_cli.main import cli

cli(prog_name="mlops")
