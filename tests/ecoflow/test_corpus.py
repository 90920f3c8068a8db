"""Corpus building and its save/load round trip, with the fake hash encoder."""

from __future__ import annotations

import pytest
import torch

from ecoflow.bank import bank
from ecoflow.corpus import Corpus, build_corpus, collect_texts, question_sentences
from serving.fakes import FakeHashEncoder


def test_bank_is_large_unique_and_ordered():
    texts = bank()
    assert len(texts) >= 100
    assert len(set(texts)) == len(texts)
    assert bank(("format",))[0] == "Give only the final number as your answer."
    with pytest.raises(ValueError, match="unknown bank sections"):
        bank(("nope",))


def test_question_sentences_split_on_sentence_ends():
    q = "Tom has 3 apples. He buys 2 more! How many apples does Tom have now?"
    assert question_sentences(q) == ["Tom has 3 apples.", "He buys 2 more!",
                                     "How many apples does Tom have now?"]
    assert question_sentences("It costs $2.50 each. Ok.") == ["It costs $2.50 each."]


def test_collect_texts_from_bank_gsm8k_and_a_file(tmp_path):
    (tmp_path / "train.jsonl").write_text(
        '{"question": "Ann reads 5 pages a day. How many pages does she read in a week?",'
        ' "answer": "5 * 7 = 35\\n#### 35"}\n')
    user = tmp_path / "mine.txt"
    user.write_text("Solve it fast.\n\nGive only the final number as your answer.\n")
    pairs = collect_texts(gsm8k_dir=str(tmp_path), files=[str(user)])
    sources = dict(pairs)
    assert sources["Ann reads 5 pages a day."] == "gsm8k"
    assert sources["Solve it fast."] == str(user)
    assert sources["Give only the final number as your answer."] == "bank"  # first kept
    assert len(pairs) == len(bank()) + 3


def test_corpus_round_trip_keeps_vectors_texts_and_statistics(tmp_path):
    encoder = FakeHashEncoder(dim=8)
    pairs = [("a b c", "bank"), ("b c d", "bank"), ("x y", "f.txt"), ("a b c", "dup")]
    corpus = build_corpus(pairs, encoder, encoder_name="fake", batch_size=2)
    assert corpus.texts == ["a b c", "b c d", "x y"] and corpus.sources == ["bank", "bank", "f.txt"]
    assert torch.allclose(corpus.vectors[0], torch.tensor(encoder.encode(["a b c"])[0]))
    assert torch.allclose(corpus.mean, corpus.vectors.mean(0))
    assert torch.allclose(corpus.std, corpus.vectors.std(0).clamp_min(1e-6))

    loaded = Corpus.load(corpus.save(tmp_path / "corpus.pt"))
    assert loaded.texts == corpus.texts and loaded.sources == corpus.sources
    assert loaded.encoder == "fake" and loaded.dim == 8
    assert torch.equal(loaded.vectors, corpus.vectors) and torch.equal(loaded.std, corpus.std)


def test_build_corpus_rejects_nothing_and_wrong_sizes():
    with pytest.raises(ValueError, match="no texts"):
        build_corpus([], FakeHashEncoder())

    class Liar:
        dim = 4

        def encode(self, texts):
            return [[0.0] * 8 for _ in texts]

    with pytest.raises(ValueError, match="expected rows"):
        build_corpus([("a", "x")], Liar())


def test_corpus_metadata_round_trips_and_older_files_load(tmp_path):
    meta = {"task": "sentiment", "bank": "generic", "induced": {"requested": 4, "calls": 1}}
    corpus = build_corpus([("a b", "bank"), ("c d", "induced")], FakeHashEncoder(dim=4), meta=meta)
    assert Corpus.load(corpus.save(tmp_path / "corpus.pt")).meta == meta
    old = torch.load(tmp_path / "corpus.pt", weights_only=False)
    del old["meta"]  # written before corpora carried metadata
    torch.save(old, tmp_path / "old.pt")
    assert Corpus.load(tmp_path / "old.pt").meta == {}


def test_collect_texts_labels_induced_and_reference_texts_and_picks_the_bank():
    pairs = collect_texts(bank_kind="generic", induced=["Flip it.", "Answer with a single word."],
                          references=["Flip the word."])
    sources = dict(pairs)
    assert sources["Flip it."] == "induced" and sources["Flip the word."] == "references"
    assert sources["Answer with a single word."] == "bank"  # first occurrence kept
    assert len(pairs) == len(bank(kind="generic")) + 2
    assert "gsm8k" not in sources.values()  # no folder given: no GSM8K sentences
