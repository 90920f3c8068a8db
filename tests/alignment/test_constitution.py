"""The constitution file: the shipped one loads; malformed ones are rejected naming the field."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
import yaml

from alignment.constitution import CURRICULUM, ConstitutionError, load_constitution
from tests.alignment.conftest import CONSTITUTION_PATH

GOOD: dict[str, Any] = {
    "principles": [
        {"name": "honest", "critique_request": "c1", "revision_request": "r1",
         "comparison": "q1"},
        {"name": "kind", "critique_request": "c2", "revision_request": "r2", "comparison": "q2"},
    ],
    "stages": [
        {"name": "explicit", "description": "d", "seed_tasks": ["Do x now.", "Do y now."]},
        {"name": "implicit", "description": "d", "seed_tasks": ["Why x?", "Why y?"]},
    ],
}


def write(tmp_path, data: Any) -> str:
    path = tmp_path / "constitution.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_shipped_constitution_loads():
    c = load_constitution(CONSTITUTION_PATH)
    assert 8 <= len(c.principles) <= 12
    assert [s.name for s in c.stages] == list(CURRICULUM)
    assert c.principle("honest").critique_request.startswith("Point out")


def test_good_file_and_lookups(tmp_path):
    c = load_constitution(write(tmp_path, GOOD))
    assert c.stage("implicit").seed_tasks == ["Why x?", "Why y?"]
    assert c.principle("kind").revision_request == "r2"
    with pytest.raises(KeyError, match="no stage `revision`"):
        c.stage("revision")
    first = [c.sample_principle(random.Random(3)).name for _ in range(2)]
    assert first[0] == first[1]  # same seed, same draw


def _set(data: dict, path: list, value: Any) -> dict:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize("path, value, fragment", [
    (["principles"], [], "`principles` is empty"),
    (["principles", 1, "critique_request"], "  ", "`principles[1].critique_request` is empty"),
    (["principles", 1, "name"], "honest", "`principles[1].name` repeats `honest`"),
    (["principles", 0, "revision_request"], _DELETE, "revision_request"),
    (["principles", 0, "critique"], "x", "unknown config key `principles[0].critique`"),
    (["principles", 0, "comparison"], 3, "`principles[0].comparison` must be a str"),
    (["stages"], [], "`stages` is empty"),
    (["stages", 0, "name"], "bogus", "`stages[0].name` is `bogus`"),
    (["stages", 1, "name"], "explicit", "`stages[1].name` `explicit` is out of curriculum order"),
    (["stages", 0, "seed_tasks"], ["Only one."], "`stages[0].seed_tasks` has 1 task(s)"),
    (["stages", 1, "seed_tasks", 1], "Why x?", "`stages[1].seed_tasks[1]` repeats"),
    (["stages", 0, "seed_tasks"], "Do x now.", "`stages[0].seed_tasks` must be a list"),
])
def test_malformed_is_rejected_naming_the_field(tmp_path, path, value, fragment):
    with pytest.raises(ConstitutionError) as info:
        load_constitution(write(tmp_path, _set(GOOD, path, value)))
    assert fragment in str(info.value)


def test_not_a_mapping_and_missing_file(tmp_path):
    with pytest.raises(ConstitutionError, match="mapping at the top level"):
        load_constitution(write(tmp_path, ["a", "b"]))
    with pytest.raises(ConstitutionError, match="does not exist"):
        load_constitution(tmp_path / "nope.yaml")
