"""`mlops evaluate` beside the hand-written held-out set, its confusion report, and the set's refusals."""

from __future__ import annotations

import json
from pathlib import Path

from ml.data import Example, load_examples
from ml.evaluation import confused_pairs, format_report
from tests.conftest import ROOT, run_cli

NATURAL = ROOT / "data" / "natural_prompts.jsonl"


def test_confused_pairs_ranks_mistakes_with_their_prompts() -> None:
    examples = [
        Example("why is the sky blue", "question_answering"),
        Example("my wifi drops every hour", "problem_solving"),
        Example("printer says offline", "problem_solving"),
        Example("if A > B and B > C, is A > C", "reasoning"),
        Example("hi there", "conversation"),
    ]
    predicted = ["question_answering", "question_answering", "question_answering", "problem_solving", "conversation"]
    pairs = confused_pairs(examples, predicted, top=5, per_pair=1)
    assert pairs == [
        {
            "true": "problem_solving",
            "predicted": "question_answering",
            "count": 2,
            "examples": ["my wifi drops every hour"],
        },
        {"true": "reasoning", "predicted": "problem_solving", "count": 1, "examples": ["if A > B and B > C, is A > C"]},
    ]
    assert confused_pairs(examples, predicted, top=1)[0]["count"] == 2
    assert confused_pairs(examples[:1], ["question_answering"]) == []


def test_evaluate_reports_the_natural_set_beside_the_split_with_confusions(
    tiny_model: Path, small_dataset: Path
) -> None:
    proc = run_cli("evaluate", "--model", str(tiny_model), "--data", str(small_dataset), "--confusions", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["dataset"] == "small.jsonl:test"
    natural = report["natural"]
    assert natural["dataset"] == "natural_prompts.jsonl:all"
    assert natural["num_examples"] == len(load_examples(NATURAL))
    for section in (report, natural):
        assert 0.0 <= section["metrics"]["macro_f1"]["value"] <= 1.0
        pairs = section["confusions"]
        assert len(pairs) <= 3 and [p["count"] for p in pairs] == sorted((p["count"] for p in pairs), reverse=True)
        assert all(p["true"] != p["predicted"] and 1 <= len(p["examples"]) <= 3 for p in pairs)
    # A tiny model trained for seconds confuses some hand-written prompts: the report names them.
    assert natural["confusions"]
    text = format_report(report)
    assert "evaluation on small.jsonl:test" in text and "evaluation on natural_prompts.jsonl:all" in text
    top = natural["confusions"][0]
    assert f"{top['true']} -> {top['predicted']}: {top['count']}" in text


def test_evaluate_no_natural_and_the_set_itself(tiny_model: Path, small_dataset: Path) -> None:
    alone = run_cli("evaluate", "--model", str(tiny_model), "--data", str(small_dataset), "--no-natural", "--json")
    assert alone.returncode == 0, alone.stderr
    assert "natural" not in json.loads(alone.stdout) and "confusions" not in json.loads(alone.stdout)
    itself = run_cli("evaluate", "--model", str(tiny_model), "--data", str(NATURAL), "--split", "all", "--json")
    assert itself.returncode == 0, itself.stderr
    assert "natural" not in json.loads(itself.stdout)  # not evaluated twice


def test_natural_set_with_an_unknown_intent_is_refused(tiny_model: Path, small_dataset: Path, tmp_path: Path) -> None:
    bad = tmp_path / "natural.jsonl"
    bad.write_text(
        json.dumps({"text": "plz fix my printer", "intent": "problem_solving"})
        + "\n"
        + json.dumps({"text": "lol ok", "intent": "chitchat"})
        + "\n"
    )
    proc = run_cli("evaluate", "--model", str(tiny_model), "--data", str(small_dataset), "--natural", str(bad))
    assert proc.returncode == 1
    assert "natural.jsonl:2: intent 'chitchat' is not in the taxonomy" in proc.stderr and "conversation" in proc.stderr
    assert not proc.stdout


def test_natural_set_with_a_training_prompt_is_refused(tiny_model: Path, small_dataset: Path, tmp_path: Path) -> None:
    trained = load_examples(small_dataset)[7]
    leaky = tmp_path / "natural.jsonl"
    rows = [
        {"text": "plz fix my printer", "intent": "problem_solving"},
        {"text": "  " + trained.text.upper() + " ", "intent": trained.intent},  # the same prompt, differently typed
    ]
    leaky.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = run_cli("evaluate", "--model", str(tiny_model), "--data", str(small_dataset), "--natural", str(leaky))
    assert proc.returncode == 1
    assert "1 prompt(s) are also in the training data" in proc.stderr and "a held-out set must be unseen" in proc.stderr
    missing = run_cli("evaluate", "--model", str(tiny_model), "--natural", str(tmp_path / "absent.jsonl"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
