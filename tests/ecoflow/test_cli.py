"""``python -m ecoflow`` on bad input: a clear message and an exit code, never a traceback."""

import pytest

from ecoflow.__main__ import brief, main


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def test_optimize_without_a_corpus_or_a_model_says_which_stage_to_run(results, capsys):
    assert main(["optimize", "--preset", "demo", "name=a"]) == 1
    assert "corpus.pt is missing: run `python -m ecoflow embed`" in capsys.readouterr().err
    assert main(["embed", "--preset", "tiny", "name=t"]) == 0  # fake encoder: no Serve needed
    capsys.readouterr()
    assert main(["validate", "--preset", "tiny", "name=t"]) == 1
    assert "model.pt is missing: run `python -m ecoflow train`" in capsys.readouterr().err


def test_an_empty_corpus_is_rejected(results, capsys, monkeypatch):
    monkeypatch.delenv("GSM8K_DIR", raising=False)  # no GSM8K sentences either: nothing to embed
    empty = results / "empty.txt"
    empty.write_text("\n  \n")
    code = main(["embed", "--preset", "tiny", "name=b", "embed.include_bank=false",
                 f"embed.files=[{empty}]"])
    assert code == 1 and "no texts to embed" in capsys.readouterr().err


def test_config_errors_name_the_key(results, capsys):
    assert main(["optimize", "--preset", "demo", "optimize.bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["optimize", "--preset", "demo", "optimize.evaluations=0"]) == 2
    assert "optimize.evaluations" in capsys.readouterr().err
    assert main(["optimize", "--preset", "nope"]) == 2
    assert "demo" in capsys.readouterr().err  # the error lists the presets


def test_missing_warm_start_file_is_a_clear_error(results, tmp_path):
    from ecoflow.optimize import read_jsonl_checked

    with pytest.raises(FileNotFoundError, match="warm_start"):
        read_jsonl_checked(str(tmp_path / "none.jsonl"))


def test_brief_drops_per_example_vectors():
    summary = {"heldout": {"results": {"best": {"accuracy": 0.1, "per_example": [0, 1]}}},
               "round_trip_cosine": {"mean": 0.8, "values": [0.8]}}
    assert brief(summary) == {"heldout": {"results": {"best": {"accuracy": 0.1}}},
                              "round_trip_cosine": {"mean": 0.8}}


def test_embed_on_another_task_uses_the_generic_bank_and_no_gsm8k(results, monkeypatch):
    from ecoflow.bank import bank
    from ecoflow.corpus import Corpus

    monkeypatch.setenv("GSM8K_DIR", str(results / "nowhere"))  # ignored off gsm8k
    assert main(["embed", "--preset", "tiny", "name=s", "task.name=sentiment",
                 "embed.induced=0"]) == 0  # no induction: no LLM, no task data needed
    corpus = Corpus.load(results / "results" / "ecoflow" / "s" / "corpus.pt")
    assert corpus.texts == bank(kind="generic") and set(corpus.sources) == {"bank"}
    assert corpus.meta["bank"] == "generic" and corpus.meta["induced"]["calls"] == 0
    assert corpus.meta["gsm8k_dir"] is None and corpus.meta["references"] == 0
