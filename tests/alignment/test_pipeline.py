"""The pipeline rejects bad configs before any work, and resumes from what is on disk."""

from __future__ import annotations

import pytest

from alignment.config import AlignmentConfig, EvalSettings
from alignment.pipeline import Pipeline
from serving.config import ConfigError


def test_bad_stage_or_principle_is_rejected_before_work(tmp_path):
    with pytest.raises(ConfigError, match="`stages` names `nope`"):
        Pipeline(AlignmentConfig(stages=["nope"]), root=tmp_path)
    with pytest.raises(KeyError, match="no principle `kindness`"):
        Pipeline(AlignmentConfig(eval=EvalSettings(judge_principle="kindness")), root=tmp_path)
    assert not (tmp_path / "alignment").exists()  # nothing written
    pipeline = Pipeline(AlignmentConfig(run_name="ok", stages=["explicit"]), root=tmp_path)
    with pytest.raises(ConfigError, match="out of range"):
        pipeline.stages(2)
    with pytest.raises(RuntimeError, match="no finished data"):
        pipeline.train(0)  # nothing generated yet: a clear error, no training started


def test_a_changed_config_is_not_mixed_into_an_old_run(tmp_path):
    Pipeline(AlignmentConfig(run_name="r", stages=["explicit"]), root=tmp_path)
    with pytest.raises(ValueError, match="different config"):
        Pipeline(AlignmentConfig(run_name="r", stages=["explicit", "implicit"]), root=tmp_path)
