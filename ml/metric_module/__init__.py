"""The `evaluate` metric module of the project, loaded with `evaluate.load(path)` since the hub is unreachable."""

from pathlib import Path

METRIC_PATH = Path(__file__).with_name("intent_classification.py")
