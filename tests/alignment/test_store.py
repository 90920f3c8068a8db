"""The stage store: content keys, resume skips finished and skipped items, the report."""

from __future__ import annotations

import pytest

from alignment.store import StageStore, StepReport, content_key


def test_content_key_is_stable_and_ordered():
    assert content_key("a", {"x": 1, "y": 2}) == content_key("a", {"y": 2, "x": 1})
    assert content_key("a", "b") != content_key("b", "a")
    assert len(content_key("a")) == 64


class FakeCrash(Exception):
    """Stands in for a killed worker."""


def run_step(store: StageStore, items: list[str], calls: list[str], crash_after: int | None):
    """Upper-cases items; 'bad' ones are skipped; raises after ``crash_after`` items."""
    for n, item in enumerate(store.pending("responses", items, content_key)):
        if crash_after is not None and n == crash_after:
            raise FakeCrash
        calls.append(item)
        if item.startswith("bad"):
            store.skip("responses", content_key(item), "empty_response")
        else:
            store.append("responses", content_key(item), {"item": item, "out": item.upper()})
    store.mark_done("responses")


def test_resume_skips_finished_and_skipped_items(tmp_path):
    items = ["a", "bad1", "b", "c"]
    calls: list[str] = []
    with pytest.raises(FakeCrash):
        run_step(StageStore(tmp_path, "explicit"), items, calls, crash_after=2)
    assert calls == ["a", "bad1"]
    store = StageStore(tmp_path, "explicit")  # a rerun: a fresh object on the same folder
    assert not store.is_done("responses")
    run_step(store, items, calls, crash_after=None)
    assert calls == ["a", "bad1", "b", "c"]  # nothing done twice
    assert [r["out"] for r in store.records("responses")] == ["A", "B", "C"]
    assert store.is_done("responses")
    run_step(store, items, calls, crash_after=None)
    assert calls == ["a", "bad1", "b", "c"]  # a finished step does no work


def test_report_counts_and_manifest(tmp_path):
    store = StageStore(tmp_path, "implicit")
    store.append("instructions", content_key("x"), {"instruction": "x"})
    store.add_counts("instructions", {"duplicate": 2, "too_short": 0})
    store.add_counts("instructions", {"duplicate": 1, "bad_keyword": 1})
    store.skip("pairs", content_key("p"), "identical")
    store.skip("pairs", content_key("p"), "identical")  # same key twice counts once
    store.mark_done("instructions")
    report = store.report()
    assert report.steps == {
        "instructions": StepReport(1, {"bad_keyword": 1, "duplicate": 3}, True),
        "pairs": StepReport(0, {"identical": 1}, False),
    }
    assert report.skipped() == {"instructions/duplicate": 3, "instructions/bad_keyword": 1,
                                "pairs/identical": 1}
    manifest = (tmp_path / "implicit" / "manifest.json").read_text()
    assert '"done": [\n    "instructions"\n  ]' in manifest and '"duplicate": 3' in manifest


def test_torn_last_line_is_dropped_and_cut_before_the_next_append(tmp_path):
    store = StageStore(tmp_path, "explicit")
    store.append("responses", "k1", {"v": 1})
    path = tmp_path / "explicit" / "responses.jsonl"
    with path.open("a") as f:
        f.write('{"key": "k2", "sta')  # killed mid-write
    resumed = StageStore(tmp_path, "explicit")
    assert resumed.records("responses") == [{"v": 1}] and resumed.keys("responses") == {"k1"}
    resumed.append("responses", "k3", {"v": 3})
    assert resumed.records("responses") == [{"v": 1}, {"v": 3}]
    assert len(path.read_text().splitlines()) == 2


def test_a_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "explicit" / "responses.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('not json\n{"key": "k", "status": "ok", "record": {}}\n')
    with pytest.raises(ValueError, match="responses.jsonl:1 is not valid JSON"):
        StageStore(tmp_path, "explicit").records("responses")


def test_step_names_must_be_identifiers(tmp_path):
    with pytest.raises(ValueError, match="plain identifier"):
        StageStore(tmp_path, "s").append("../x", "k", {})
