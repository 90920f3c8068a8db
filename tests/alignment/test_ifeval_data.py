"""The IFEval folder, the seeded subset, and the offline NLTK data."""

from __future__ import annotations

import pytest

from alignment.ifeval.data import ENV_VAR, load_items, resolve_dir, subset
from alignment.ifeval.offline import FILES, write_punkt_tab
from serving.config import ConfigError


def test_load_and_subset(ifeval_dir):
    items = load_items(ifeval_dir)
    assert [i.key for i in items] == [7, 3, 11, 5]  # file order
    assert items[2].constraints[0].kwargs == {"end_phrase": "Any other questions?"}  # None dropped
    first = subset(items, 2, seed=0)
    assert [i.key for i in first] == sorted(i.key for i in first)  # key order
    assert first == subset(list(reversed(items)), 2, seed=0)  # independent of file order
    assert {i.key for i in subset(items, 4, seed=1)} == {3, 5, 7, 11}
    with pytest.raises(ConfigError, match=r"`eval.ifeval_n` must be in \[1, 4\], got 5"):
        subset(items, 5, seed=0)


def test_resolve_dir_from_setting_or_env(ifeval_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="set `IFEVAL_DIR="):
        resolve_dir("")
    with pytest.raises(ConfigError, match="has no `input_data.jsonl`"):
        resolve_dir(str(tmp_path))
    monkeypatch.setenv(ENV_VAR, str(ifeval_dir))
    assert resolve_dir("") == ifeval_dir
    assert resolve_dir(str(ifeval_dir)) == ifeval_dir


def test_a_malformed_line_is_named(tmp_path):
    (tmp_path / "input_data.jsonl").write_text('{"key": 1, "prompt": "p", "instruction_id_list": '
                                                '["punctuation:no_comma"], "kwargs": []}\n')
    with pytest.raises(ValueError, match=r"input_data.jsonl:1: .*one `kwargs` mapping"):
        load_items(tmp_path)


def test_the_real_ifeval_subset(shared_ifeval):
    items = load_items(shared_ifeval)
    assert len(items) == 541 and len({i.key for i in items}) == 541
    chosen = subset(items, 300, seed=0)
    assert len(chosen) == 300 and chosen == subset(items, 300, seed=0)


def test_punkt_tab_written_offline_is_nltks_model(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path), *nltk.data.path])  # NLTK reads only there
    from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params
    from punkt.data import english

    folder = write_punkt_tab(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    from nltk.data import FileSystemPathPointer

    params = load_punkt_params(FileSystemPathPointer(str(folder)))  # NLTK's punkt_tab reader
    assert params.abbrev_types == set(english.ABBREV_TYPES)
    assert params.collocations == set(english.COLLOCATIONS)
    assert params.sent_starters == set(english.SENT_STARTERS)
    assert dict(params.ortho_context) == english.ORTHO_CONTEXT
    text = "Mr. Smith arrived at 5 p.m. on Jan. 3rd. He left early! Did he?"
    assert len(PunktSentenceTokenizer(params).tokenize(text)) == 3  # "Mr.", "p.m.", "Jan." kept
    assert write_punkt_tab(tmp_path) == folder  # a second call keeps the copy
