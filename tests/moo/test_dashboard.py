"""The Pareto dashboard: JSON endpoints on good and broken folders, and the page in a real
headless browser (Debian's chromium) with a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from moo.dashboard import build_app
from moo.report import write_pareto_artifacts
from tests.conftest import free_port
from tests.moo.synthetic import write_experiment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    """Runs with a Pareto report: good, running (a torn tail written since the report),
    broken (a bad line since), a promptopt sweep, and a run of a package the dashboard has
    never heard of; not listed: a promptopt run with no report and a compress search that
    has not finished a trial yet."""
    root = tmp_path / "results"
    write_pareto_artifacts(write_experiment(root / "compress" / "good"))
    write_pareto_artifacts(write_experiment(root / "compress" / "running"))
    write_experiment(root / "compress" / "running", torn=True)
    broken = write_experiment(root / "compress" / "broken")
    write_pareto_artifacts(broken)
    (broken / "events.jsonl").write_text('{"trial_id": 1}\n{not json\n{"trial_id": 2}\n')
    sweep = write_experiment(root / "promptopt" / "sweep")
    write_pareto_artifacts(sweep)
    (sweep / "config.yaml").unlink()  # promptopt configs have no objectives: pareto.json does
    write_pareto_artifacts(write_experiment(root / "newpkg" / "run"))
    (root / "promptopt" / "opro-run").mkdir()
    (root / "promptopt" / "opro-run" / "events.jsonl").write_text("{}\n")
    write_experiment(root / "compress" / "starting")
    return root


def test_api_lists_and_explains_every_folder(results: Path) -> None:
    client = TestClient(build_app(results))
    listed = {e["id"]: e for e in client.get("/api/experiments").json()["experiments"]}
    assert set(listed) == {
        "compress/good",
        "compress/running",
        "compress/broken",
        "promptopt/sweep",
        "newpkg/run",
    }
    assert listed["compress/broken"]["status"] == "error"
    assert listed["promptopt/sweep"]["hypervolume"] == pytest.approx(0.41)

    running = client.get("/api/experiments/compress/running").json()
    assert running["status"] == "ok" and running["summary"]["n_trials"] == 6
    assert any("torn line" in p for p in running["problems"])
    starting = client.get("/api/experiments/compress/starting").json()  # by URL: explained
    assert any("no pareto.json" in p for p in starting["problems"])
    assert [t["trial_id"] for t in running["summary"]["front_trials"]] == ["t0", "t4", "t5"]
    assert len(running["figures"]) == 2  # pairs + hypervolume curve

    broken = client.get("/api/experiments/compress/broken")
    assert (
        broken.status_code == 200 and "events.jsonl:2 is not valid JSON" in broken.json()["error"]
    )
    assert client.get("/api/experiments/compress/nope").status_code == 404
    assert client.get("/api/experiments/other/good").status_code == 404
    assert client.get("/static/plotly.min.js").status_code == 200


def test_running_search_is_picked_up_on_next_poll(results: Path) -> None:
    client = TestClient(build_app(results))
    folder = results / "compress" / "running"
    before = client.get("/api/experiments/compress/running").json()["summary"]
    with (folder / "events.jsonl").open("a") as f:  # the writer finishes its line, adds one
        f.write('fig": {}, "metrics": {"acc": 0.9, "lat": 0.4}}\n')
    after = client.get("/api/experiments/compress/running").json()
    assert after["summary"]["n_trials"] == before["n_trials"] + 1
    assert after["summary"]["hypervolume"] > before["hypervolume"]
    assert not any("torn" in p for p in after["problems"])


def _chromium(url: str, *args: str, tmp: Path) -> subprocess.CompletedProcess:
    profile = tmp / f"chromium-profile-{time.monotonic_ns()}"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=8000",
           *args, url]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_dashboard_in_headless_chromium(results: Path, tmp_path: Path) -> None:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(results), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/?exp=compress/running"
        dom = _chromium(url, "--dump-dom", tmp=tmp_path).stdout
        assert 'class="main-svg"' in dom  # plotly drew the figures
        for name in ("compress/good", "compress/running", "compress/broken", "promptopt/sweep"):
            assert name in dom
        assert "torn line" in dom and "Pareto front" in dom
        broken = _chromium(url.replace("running", "broken"), "--dump-dom", tmp=tmp_path).stdout
        assert "cannot read this experiment" in broken
        shot = tmp_path / "dashboard.png"
        _chromium(url, f"--screenshot={shot}", "--window-size=1280,900", tmp=tmp_path)
        assert shot.stat().st_size > 20_000
        if os.environ.get("RAYOPT_SAVE_SCREENSHOT"):  # e.g. results/compress/dashboard.png
            shutil.copy(shot, os.environ["RAYOPT_SAVE_SCREENSHOT"])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
