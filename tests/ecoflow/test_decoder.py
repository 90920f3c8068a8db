"""Retrieve-and-rewrite with a scripted LLM and the hash encoder."""

from __future__ import annotations

import pytest
import torch

from ecoflow.decoder import HEADER, RetrieveRewriteDecoder, clean_candidate, factory, task_header
from serving.fakes import FakeHashEncoder, FakeScriptedLLM

BANK = ["add the apples", "count the oranges", "check the sum twice", "divide the cake"]


def test_clean_candidate_strips_labels_markers_and_quotes():
    assert clean_candidate('  1. "Count carefully."\nmore') == "Count carefully."
    assert clean_candidate("Instruction: add them up") == "add them up"
    assert clean_candidate("- \n\n") == ""
    # SmolLM2's habits: a preamble line, then rambling
    assert clean_candidate("Here's a new instruction that combines their ideas:\n"
                           "Add it up. Check it. Then more. And more.") == "Add it up. Check it."
    assert clean_candidate("Here's one:") == ""


def test_copies_of_listed_texts_and_junk_fall_back_to_the_nearest_text():
    encoder = FakeHashEncoder(dim=32)
    llm = FakeScriptedLLM(["divide the cake", "Sure:", ""])  # a copy, a preamble, nothing
    decoder = RetrieveRewriteDecoder(encoder, llm, BANK, k=1, num_candidates=3)
    [out] = decoder.decode_with_report(encoder.encode(["divide the cake"]))
    assert out.text == "divide the cake" and out.candidates == (("divide the cake", out.cosine),)
    assert out.replies == ("divide the cake", "Sure:", "")  # logged as they came


def test_decoder_keeps_the_candidate_closest_to_the_target():
    encoder = FakeHashEncoder(dim=32)
    llm = FakeScriptedLLM(["divide the cake slowly", "check the sum twice please",
                           "Instruction: add the apples now"])
    decoder = RetrieveRewriteDecoder(encoder, llm, BANK, k=2, num_candidates=3, seed=5)
    target = torch.tensor(encoder.encode(["add the apples now"]))
    [out] = decoder.decode_with_report(target * 3.0)  # scale does not matter (cosine)

    assert out.text == "add the apples now"
    assert out.cosine == pytest.approx(1.0, abs=1e-6)
    assert out.neighbours[0] == "add the apples"
    assert [c for c, _ in out.candidates] == ["divide the cake slowly", "check the sum twice please",
                                              "add the apples now"]
    assert max(cos for _, cos in out.candidates) == out.cosine
    prompt, params = llm.calls[0]
    # a list to continue, nearest neighbour last, open for the next item
    assert prompt == HEADER + f"- {out.neighbours[1]}\n- add the apples\n-"
    assert params["n"] == 3 and params["seed"] == 5  # seeded sampling: reproducible, cacheable
    assert params["stop"] == ["\n"]


def test_decode_batch_options_and_fallback_to_the_nearest_text():
    encoder = FakeHashEncoder(dim=32)
    decoder = RetrieveRewriteDecoder(encoder, FakeScriptedLLM(["   "]), BANK, k=1)
    vectors = encoder.encode(["count the oranges", "divide the cake"])
    assert decoder.decode(vectors, seed=1, num_candidates=2) == ["count the oranges",
                                                                 "divide the cake"]
    assert decoder.llm.calls[0][1]["n"] == 2
    with pytest.raises(ValueError, match="batch x 32"):
        decoder.decode([[1.0, 2.0]])


def test_factory_reads_a_text_bank(tmp_path, monkeypatch):
    path = tmp_path / "bank.txt"
    path.write_text("\n".join(BANK))
    decoder = factory(FakeHashEncoder(dim=8), bank_path=str(path),
                      llm_base_url="http://127.0.0.1:9/v1", llm_model="m", k=2)
    assert decoder.bank == BANK and decoder.k == 2


def test_the_list_header_names_the_task_kind_not_math():
    assert "math" not in HEADER.lower()
    assert task_header("sentiment classifier") == "Instructions for a sentiment classifier, one per line:\n"
    assert task_header("antonym writer").startswith("Instructions for an antonym writer")
    assert task_header(None) == task_header("  ") == HEADER
    encoder = FakeHashEncoder(dim=8)
    llm = FakeScriptedLLM(["Say it."])
    header = task_header("pluralizer")
    RetrieveRewriteDecoder(encoder, llm, BANK, k=1, header=header).decode(encoder.encode(["x"]))
    assert llm.calls[0][0].startswith(header + "- ")
