from dataclasses import dataclass, field

import pytest

from serving.runs import RunDir


@dataclass
class Cfg:
    steps: int = 3


def test_events_append_and_replay_with_torn_tail(tmp_path):
    run = RunDir("promptopt", "r1", root=tmp_path)
    run.save_config(Cfg())
    run.append({"i": 1, "text": "ünïcode"})
    run.append({"i": 2})
    with run.events_path.open("a") as f:
        f.write('{"i": 3, "te')  # killed mid-write
    assert list(run.events()) == [{"i": 1, "text": "ünïcode"}, {"i": 2}]
    resumed = RunDir("promptopt", "r1", root=tmp_path)  # a resumed run repairs, then appends
    resumed.append({"i": 3})
    assert [e["i"] for e in resumed.events()] == [1, 2, 3]
    assert (tmp_path / "promptopt" / "r1" / "config.yaml").read_text() == "steps: 3\n"


def test_resume_requires_the_same_config(tmp_path):
    RunDir("ecoflow", "r", root=tmp_path).save_config(Cfg(3))
    RunDir("ecoflow", "r", root=tmp_path).save_config(Cfg(3))  # same: fine
    with pytest.raises(ValueError, match="changed: steps"):
        RunDir("ecoflow", "r", root=tmp_path).save_config(Cfg(4))


def test_a_run_resumed_on_another_port_is_the_same_run(tmp_path):
    from serving.settings import ServingConfig

    @dataclass
    class WithServing:
        steps: int = 3
        progress: bool = True
        serving: ServingConfig = field(default_factory=ServingConfig)

    RunDir("ecoflow", "p", root=tmp_path).save_config(WithServing(serving=ServingConfig(port=8001)))
    RunDir("ecoflow", "p", root=tmp_path).save_config(
        WithServing(progress=False, serving=ServingConfig(port=8002)))  # fmt: skip
    with pytest.raises(ValueError, match="changed: serving"):
        changed = ServingConfig(port=8002)
        changed.llm.max_batch_size = 4
        RunDir("ecoflow", "p", root=tmp_path).save_config(WithServing(serving=changed))


def test_bad_names_and_corrupt_middle_line(tmp_path):
    with pytest.raises(ValueError, match="plain folder name"):
        RunDir("x", "../escape", root=tmp_path)
    run = RunDir("x", "r", root=tmp_path)
    run.events_path.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(ValueError, match="events.jsonl:2"):
        list(run.events())
    assert run.write_json("summary.json", {"ok": True}).read_text() == '{\n  "ok": true\n}'
