"""serving.cluster: what a local Ray inherits."""

from __future__ import annotations

import os


def test_serve_request_lines_go_to_files_unless_asked(monkeypatch):
    from serving.cluster import quiet_serve_logs

    monkeypatch.delenv("RAY_SERVE_LOG_TO_STDERR", raising=False)
    quiet_serve_logs()
    assert os.environ["RAY_SERVE_LOG_TO_STDERR"] == "0"
    monkeypatch.setenv("RAY_SERVE_LOG_TO_STDERR", "1")
    quiet_serve_logs()
    assert os.environ["RAY_SERVE_LOG_TO_STDERR"] == "1"
