"""The task registry on the real data (shared/data) and on small files: splits, formats,
baselines and references, and every bad input named before any LLM call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptopt.tasks import TASK_NAMES, Template, load_task
from promptopt.tasks.bbh import LABELS as BBH
from promptopt.tasks.induction import SPECS as INDUCTION
from tests.conftest import BBH_DIR, GSM8K_DIR, INDUCTION_DIR


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown task 'sentimental'; known tasks: gsm8k, sentiment"):
        load_task("sentimental")


@pytest.mark.parametrize("name", sorted(INDUCTION))
def test_induction_task_splits_are_disjoint_fixed_and_hold_the_papers_test(name: str) -> None:
    task = load_task(name, INDUCTION_DIR)
    split = task.splits(train_size=50, val_size=20, test_size=300, seed=0)
    assert (len(split.train), len(split.validation), len(split.test)) == (50, 20, 300)
    inputs = [{e.question for e in s} for s in (split.train, split.validation, split.test)]
    assert not (inputs[0] & inputs[1] or inputs[0] & inputs[2] or inputs[1] & inputs[2])
    assert sum(e.id.startswith(f"{name}/execute-") for e in split.test) == 100
    again = task.splits(train_size=10, val_size=5, test_size=300, seed=0)
    assert [e.id for e in again.test] == [e.id for e in split.test]  # test depends on seed only
    assert [e.id for e in task.splits(50, 20, 300, seed=1).test] != [e.id for e in split.test]
    people = json.loads((Path(INDUCTION_DIR) / "annotations" / f"{name}.json").read_text())
    assert task.baseline == people["annotations"][0].strip()
    assert len(task.references) >= 4 and task.baseline in task.references
    assert isinstance(task.prompt_format, Template)


def test_sentiment_prompt_and_majority_label() -> None:
    task = load_task("sentiment", INDUCTION_DIR)
    assert task.prompt_format.render("Great film.", "Answer positive or negative.") == (
        "Answer positive or negative.\n\nInput: Great film.\nOutput:")
    assert task.prompt_format.render("Great film.", "") == "Input: Great film.\nOutput:"
    assert task.prompt_format.exemplar("Great film.").startswith("<INS>\n\nInput: Great film.")
    test = task.splits(20, 20, 300).test
    majority = task.majority_accuracy(test)
    assert majority is not None and 0.5 <= majority < 0.7
    assert load_task("sum", INDUCTION_DIR).majority_accuracy(test) is None


@pytest.mark.parametrize("name", sorted(BBH))
def test_bbh_tasks_load_and_refuse_a_held_out_split_the_data_cannot_give(name: str) -> None:
    task = load_task(name, BBH_DIR)
    assert task.labels == BBH[name] and task.references == ()
    split = task.splits(train_size=20, val_size=20, test_size=100)
    assert len(split.test) == 100 and {e.gold for e in split.test} <= set(task.labels)
    with pytest.raises(ValueError, match=rf"task `{name}` has 0 test-pool and \d+ pool examples"):
        task.splits(train_size=20, val_size=20, test_size=300)


def test_gsm8k_draws_the_samples_it_always_did() -> None:
    import random

    task = load_task("gsm8k", GSM8K_DIR)
    split = task.splits(train_size=16, val_size=4, test_size=50, seed=0)
    order = random.Random(0).sample(range(len(task.pool)), len(task.pool))
    assert [e.id for e in split.train] == [task.pool[i].id for i in order[:16]]
    assert [e.id for e in split.test] == [e.id for e in random.Random(1).sample(task.test_pool, 50)]
    assert task.baseline == "Let's solve the problem." and task.max_tokens == 400


def test_every_registered_name_loads_or_needs_its_file() -> None:
    assert TASK_NAMES[0] == "gsm8k" and TASK_NAMES[-1] == "jsonl" and len(TASK_NAMES) == 16
    with pytest.raises(ValueError, match="needs `task.data_dir`"):
        load_task("jsonl")


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_jsonl_task_from_a_file_and_from_a_folder(tmp_path: Path) -> None:
    rows = [{"input": f"item {i}", "target": "yes" if i % 3 else "no"} for i in range(40)]
    task = load_task("jsonl", _jsonl(tmp_path / "mine.jsonl", rows), scorer="label",
                     labels=["yes", "no"])
    assert task.name == "jsonl:mine" and task.labels == ("yes", "no")
    split = task.splits(train_size=10, val_size=10, test_size=20)
    assert len({e.id for e in split.train + split.validation + split.test}) == 40
    folder = tmp_path / "qa"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", rows[:30])
    _jsonl(folder / "test.jsonl", [{"input": "q", "target": 7}])
    task = load_task("jsonl", folder, scorer="number", template="Q: {input}\n{instruction}\nA:")
    assert task.splits(5, 5, 1).test[0].gold == "7"
    assert task.prompt_format.render("q", "Think.") == "Q: q\nThink.\nA:"


@pytest.mark.parametrize(("rows", "scorer", "labels", "message"), [
    ([{"input": "a"}], "exact", None, r"bad.jsonl:1: malformed task line \(KeyError"),
    (['{"input": "a", "target": "b"', ], "exact", None, r"bad.jsonl:1: malformed task line"),
    ([{"input": ["a"], "target": "b"}], "exact", None, r"bad.jsonl:1: malformed task line"),
    ([], "exact", None, "is empty"),
    ([{"input": "a", "target": "maybe"}], "label", ["yes", "no"],
     r"targets \['maybe'\] are outside the declared label set"),
    ([{"input": "a", "target": "b"}], "regex", None, "unknown scorer 'regex'"),
])  # fmt: skip
def test_jsonl_bad_data_is_a_clear_error(tmp_path: Path, rows, scorer, labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_task("jsonl", _jsonl(tmp_path / "bad.jsonl", rows), scorer=scorer, labels=labels)


def test_missing_data_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTRUCTION_INDUCTION_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="INSTRUCTION_INDUCTION_DIR"):
        load_task("sentiment")
    with pytest.raises(FileNotFoundError, match="not an instruction-induction folder"):
        load_task("sentiment", tmp_path)
    with pytest.raises(FileNotFoundError, match="BBH file"):
        load_task("snarks", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_task("jsonl", tmp_path / "nope.jsonl", scorer="exact")
