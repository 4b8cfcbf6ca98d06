"""The training report: the run's result and one history row per epoch."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ml.training import HISTORY_COLUMNS, HISTORY_FILE, RESULT_FILE, TrainResult, write_training_report


def test_result_and_history(tmp_path: Path) -> None:
    history = [
        {"epoch": 1, "train_loss": 2.0, "val_accuracy": 0.5, "val_macro_f1": 0.4},
        {"epoch": 2, "train_loss": 1.0, "val_accuracy": 0.7, "val_macro_f1": 0.65},
    ]
    result = TrainResult(model_dir=tmp_path / "m", best_epoch=2, best_val_macro_f1=0.65, history=history)
    write_training_report(result, tmp_path / "report")
    outcome = json.loads((tmp_path / "report" / RESULT_FILE).read_text())
    assert outcome == {"best_epoch": 2, "best_val_macro_f1": 0.65, "epochs_run": 2}
    with (tmp_path / "report" / HISTORY_FILE).open() as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == HISTORY_COLUMNS
        assert [float(row["val_macro_f1"]) for row in reader] == [0.4, 0.65]
