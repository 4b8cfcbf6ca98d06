"""Plain progress lines: one per change of state, a heartbeat while nothing changes, never a control character."""

from __future__ import annotations

import pytest

from ml.progress import PlainProgress, Progress, format_elapsed, format_line


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.9, "59s"), (60, "1m 00s"), (605, "10m 05s"), (3720, "1h 02m")]
)
def test_elapsed_time_reads_as_people_say_it(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_a_line_holds_the_state_the_count_the_time_and_the_figures() -> None:
    bake = Progress("shift ab", "challenger at 10%: baking", 45, 300, "challenger 12 req")
    assert format_line(bake, 45) == "shift ab: challenger at 10%: baking 45/300 (45s) - challenger 12 req"
    assert format_line(Progress("endpoint ab", "InService", done=True), 75) == "endpoint ab: InService (done in 1m 15s)"


def test_plain_lines_come_on_a_change_of_state_and_otherwise_once_a_minute() -> None:
    now = [0.0]
    lines: list[str] = []
    show = PlainProgress(lines.append, clock=lambda: now[0])
    for second in range(0, 130, 5):  # a poll every 5 s: Creating for two minutes, then InService
        now[0] = float(second)
        show(Progress("endpoint ab", "Creating" if second < 125 else "InService", done=second >= 125))
    assert lines == [
        "endpoint ab: Creating (0s)",
        "endpoint ab: Creating (1m 00s)",
        "endpoint ab: Creating (2m 00s)",
        "endpoint ab: InService (done in 2m 05s)",
    ]


def test_plain_lines_carry_no_carriage_return_or_escape_from_the_figures() -> None:
    lines: list[str] = []
    PlainProgress(lines.append)(Progress("load", "measuring", detail="a\rb\x1b[2K"))
    assert lines == ["load: measuring (0s) - a b[2K"]
