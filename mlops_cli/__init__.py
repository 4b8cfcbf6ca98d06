"""The `mlops` command line: one thin click module per package."""
