"""GSM8K loading (clear errors; the real folder when GSM8K_DIR is set) and prompt formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from promptopt.tasks import Example, PromptFormat
from promptopt.tasks.gsm8k import load_gsm8k, parse_gold


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"question": "Janet has 3 ducks. How many?", "answer": "She has 3.\n#### 3"},
    {"question": "A house costs $1,080. Price?", "answer": "It is 1,080.\n#### 1,080"},
    {"question": "It drops 10 degrees from 0.", "answer": "0-10=-10\n#### -10"},
]


def test_parse_gold() -> None:
    assert parse_gold("work\n#### 1,080") == "1080"
    assert parse_gold("a #### b\n#### -3") == "-3"
    with pytest.raises(ValueError, match="no `#### N`"):
        parse_gold("just text")
    with pytest.raises(ValueError, match="not a number"):
        parse_gold("#### many")


def test_load_folder(tmp_path: Path) -> None:
    _write(tmp_path, "train.jsonl", ROWS)
    examples = load_gsm8k("train", tmp_path)
    assert examples[1] == Example("train-1", ROWS[1]["question"], ROWS[1]["answer"], "1080")
    assert [e.gold for e in examples] == ["3", "1080", "-10"]


def test_load_reads_gsm8k_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "test.jsonl", ROWS[:2])
    monkeypatch.setenv("GSM8K_DIR", str(tmp_path))
    assert [e.id for e in load_gsm8k("test")] == ["test-0", "test-1"]


def test_missing_folder_names_path_and_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist: set GSM8K_DIR"):
        load_gsm8k("train", missing)


def test_missing_split_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"test\.jsonl does not exist"):
        load_gsm8k("test", tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train\.jsonl is empty"):
        load_gsm8k("train", tmp_path)


@pytest.mark.parametrize(
    "bad_line",
    ['{"question": "q"', '{"question": "q"}', '{"question": "q", "answer": "no gold"}', "[1, 2]"],
)
def test_malformed_line_names_line_number(tmp_path: Path, bad_line: str) -> None:
    path = _write(tmp_path, "train.jsonl", ROWS[:2])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(bad_line + "\n")
    with pytest.raises(ValueError, match=r"train\.jsonl:3: malformed GSM8K line"):
        load_gsm8k("train", tmp_path)


def test_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`split` must be one of"):
        load_gsm8k("validation", tmp_path)


def test_offline_without_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GSM8K_DIR", raising=False)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="hub is offline: set GSM8K_DIR"):
        load_gsm8k("train")


@pytest.mark.skipif(
    not os.environ.get("GSM8K_DIR"),
    reason="GSM8K_DIR is not set (e.g. GSM8K_DIR=../shared/data/gsm8k): real-data counts skipped",
)
def test_real_gsm8k_counts() -> None:
    train, test = load_gsm8k("train"), load_gsm8k("test")
    assert (len(train), len(test)) == (7473, 1319)
    assert test[0].gold == "18" and test[0].id == "test-0"
    assert len({e.id for e in train}) == 7473
    assert all("," not in e.gold for e in train + test)  # "#### 1,080" becomes "1080"


Q = "How many?"
INSTR = "Think."


@pytest.mark.parametrize(
    ("position", "include_qa", "instruction", "expected"),
    [
        ("Q_begin", True, INSTR, "Q: Think.\nHow many?\n\nA:"),
        ("Q_end", True, INSTR, "Q: How many?\nThink.\n\nA:"),
        ("A_begin", True, INSTR, "Q: How many?\n\nA: Think."),
        ("Q_begin", True, "", "Q: How many?\n\nA:"),
        ("Q_end", True, "", "Q: How many?\n\nA:"),
        ("A_begin", True, "", "Q: How many?\n\nA:"),
        ("Q_begin", False, INSTR, "Think.\nHow many?"),
        ("Q_end", False, INSTR, "How many?\nThink."),
        ("Q_end", False, "", "How many?"),
    ],
)
def test_prompt_formats_match_opro(
    position: str, include_qa: bool, instruction: str, expected: str
) -> None:
    assert PromptFormat(position, include_qa).render(Q, instruction) == expected  # type: ignore[arg-type]


def test_default_format_and_chat_message() -> None:
    fmt = PromptFormat()
    assert (fmt.position, fmt.include_qa) == ("Q_end", True)
    assert fmt.messages(Q, INSTR) == [{"role": "user", "content": "Q: How many?\nThink.\n\nA:"}]


def test_bad_formats_rejected() -> None:
    with pytest.raises(ValueError, match="`position` must be one of"):
        PromptFormat("before_A")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="A_begin"):
        PromptFormat("A_begin", include_qa=False)
