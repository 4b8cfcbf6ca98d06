"""The CLI's progress display: live on a terminal, plain lines (no carriage returns, no ANSI) anywhere else."""

from __future__ import annotations

import io
import time

import click
from click.testing import CliRunner
from rich.console import Console

from ml.progress import Progress
from mlops_cli.progress import progress_display

BAKE = Progress("shift ab", "challenger at 10%: baking", 45, 300, "challenger 12 req")


def test_on_a_terminal_a_live_line_shows_the_state_the_bar_and_the_elapsed_time() -> None:
    screen = io.StringIO()
    with progress_display(console=Console(file=screen, force_terminal=True, width=140)) as show:
        show(Progress("endpoint ab", "Updating", detail="config ab-2"))
        show(BAKE)
        time.sleep(0.2)  # a refresh or two of the live display
        show(Progress("endpoint ab", "InService", done=True))
    output = screen.getvalue()
    assert "\x1b[" in output and "\r" in output  # drawn and redrawn in place
    assert "endpoint ab: Updating" in output and "config ab-2" in output
    assert "shift ab: challenger at 10%: baking" in output and " 15%" in output and "challenger 12 req" in output
    assert "endpoint ab: InService" in output and "0:00:00" in output  # rich's elapsed-time column


def test_a_command_that_reports_nothing_draws_nothing() -> None:
    screen = io.StringIO()
    with progress_display(console=Console(file=screen, force_terminal=True)):
        pass
    assert screen.getvalue() == ""


@click.command()
@click.option("--plain/--quiet", default=True)
def waits(plain: bool) -> None:
    """A command reporting a task through the display, as `mlops endpoint deploy` does."""
    with progress_display(plain=plain) as show:
        show(Progress("endpoint ab", "Creating"))
        show(Progress("endpoint ab", "Creating"))  # nothing new within the minute: no line
        show(Progress("endpoint ab", "InService", done=True))
    click.echo("result")


def test_off_a_terminal_each_change_of_state_is_one_plain_line_on_stderr() -> None:
    result = CliRunner().invoke(waits)
    assert result.exit_code == 0 and result.stdout == "result\n"
    assert result.stderr_bytes == b"endpoint ab: Creating (0s)\nendpoint ab: InService (done in 0s)\n"


def test_a_command_with_its_own_lines_can_leave_plain_progress_out() -> None:
    result = CliRunner().invoke(waits, ["--quiet"])
    assert result.exit_code == 0 and result.stderr_bytes == b""
