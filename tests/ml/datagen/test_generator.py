"""The generator (ml.datagen.generator) and the CLI of the DVC stage."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

import ml.datagen
from ml.datagen import generate, write_jsonl
from ml.datagen.__main__ import main
from ml.datagen.engine import TemplateError, frames
from ml.datagen.generator import dedup_key
from ml.datagen.intents import SPECS


def test_the_package_exports_only_what_callers_use() -> None:
    assert ml.datagen.__all__ == ["generate", "write_jsonl"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Hello,   World?!", "hello, world"),
        ("  What is DNA\t?\n", "what is dna"),
        ("Tell me more…", "tell me more"),
        ("Wait... what?", "wait... what"),  # only trailing punctuation goes
    ],
)
def test_dedup_key(text: str, key: str) -> None:
    assert dedup_key(text) == key


def test_no_two_generated_prompts_share_a_dedup_key() -> None:
    rows = generate(seed=3, per_intent=60)
    assert len(rows) == 600 and len({dedup_key(r["text"]) for r in rows}) == 600


def test_a_bad_template_fails_before_anything_is_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SPECS["problem_solving"]
    broken = dataclasses.replace(spec, frames=spec.frames + frames((0, "Fix my {devise}.")))
    monkeypatch.setitem(SPECS, "problem_solving", broken)
    with pytest.raises(TemplateError, match=r"\{devise\}"):
        generate(seed=1, per_intent=1)


def test_the_cli_writes_what_generate_returns(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    assert main(["--out", str(out), "--seed", "5", "--per-intent", "4"]) == 0
    write_jsonl(generate(seed=5, per_intent=4), tmp_path / "api.jsonl")
    assert out.read_bytes() == (tmp_path / "api.jsonl").read_bytes()


def test_the_cli_reports_a_bad_template_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spec = SPECS["translation"]
    monkeypatch.setitem(SPECS, "translation", dataclasses.replace(spec, frames=frames((0, "Say {Word}."))))
    with caplog.at_level(logging.ERROR):
        assert main(["--out", str(tmp_path / "x.jsonl"), "--per-intent", "1"]) == 2
    assert "'Say {Word}.'" in caplog.text and "stray" in caplog.text
    assert not (tmp_path / "x.jsonl").exists()


def test_the_stage_appends_feedback_rows_after_the_generated_ones(tmp_path: Path) -> None:
    generated = generate(seed=5, per_intent=4)
    feedback = tmp_path / "feedback.jsonl"
    rows = [
        {"text": "plan my week around two exams", "intent": "task_planning", "source": "review"},
        # A prompt the generator writes too (other case): dropped, the generated row wins.
        {"text": generated[0]["text"].upper(), "intent": "reasoning", "source": "review"},
        {"text": "ciao means what", "intent": "translation", "complexity": "simple", "source": "review"},
    ]
    feedback.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    out, alone = tmp_path / "out.jsonl", tmp_path / "alone.jsonl"
    assert main(["--out", str(out), "--seed", "5", "--per-intent", "4", "--feedback", str(feedback)]) == 0
    write_jsonl(generated, alone)
    lines = out.read_text().splitlines()
    assert out.read_bytes().startswith(alone.read_bytes())
    assert [json.loads(line) for line in lines[len(generated) :]] == [rows[0], rows[2]]
    feedback.write_text("")
    assert main(["--out", str(out), "--seed", "5", "--per-intent", "4", "--feedback", str(feedback)]) == 0
    assert out.read_bytes() == alone.read_bytes()


@pytest.mark.parametrize(
    "line",
    ['{"text": "hi", "intent": "gossip", "source": "r"}', '{"text": "hi", "intent": "conversation"}', "[1]", "{"],
)
def test_the_stage_refuses_a_bad_feedback_row(tmp_path: Path, line: str) -> None:
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(line + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["--out", str(out), "--seed", "5", "--per-intent", "1", "--feedback", str(feedback)]) == 2
    assert not out.exists()
