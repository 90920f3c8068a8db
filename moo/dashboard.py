"""A small web dashboard of Pareto fronts: any run that writes a Pareto report.

    python -m compress dashboard --results-dir results --port 8050

It lists every run folder ``results/<package>/<name>/`` that holds a ``pareto.json``
(:func:`moo.report.write_pareto_artifacts`: a compress search writes one after each trial, a
promptopt sweep when it ends), without knowing any package's layout, and shows the selected
experiment's Pareto front (plotly, served locally: no CDN) and its hypervolume against trials. The page polls a JSON
endpoint every few seconds, so a running search's front grows as trials finish. An
experiment whose files are torn, malformed or missing is listed with what is wrong; no
request answers 500.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import plotly
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

from moo.figures import figures
from moo.report import front_trials, json_dumps, load_experiment
from serving.runs import results_root

log = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("dashboard.html")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
WATCHED = ("events.jsonl", "pareto.json", "config.yaml")


def is_experiment(folder: Path) -> bool:
    """A run folder with a Pareto report (what every multi-objective run writes)."""
    return folder.is_dir() and not folder.name.startswith(".") and (folder / "pareto.json").exists()


def _stamp(folder: Path) -> tuple:
    """Changes whenever a watched file is written (the cache key of a folder's state)."""
    out = []
    for name in WATCHED:
        try:
            st = (folder / name).stat()
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def inspect_folder(folder: Path) -> dict[str, Any]:
    """The dashboard's view of one experiment folder; never raises.

    Returns:
        ``status`` ("ok", "empty" or "error"), ``problems`` (human-readable notes: a torn
        last line, a missing ``pareto.json``, ...), and on success ``summary`` (without the
        per-trial rows' bulk) and ``figures`` (plotly JSON).
    """
    problems: list[str] = []
    events = folder / "events.jsonl"
    if not events.exists():
        problems.append("no events.jsonl (no trial has finished yet)")
    elif events.stat().st_size and not events.read_bytes().endswith(b"\n"):
        problems.append(
            "events.jsonl ends in a torn line (a run killed mid-write, or writing right "
            "now); it is left out"
        )
    if not (folder / "pareto.json").exists():
        problems.append("no pareto.json yet (search running, or its report was not written)")
    try:
        summary = load_experiment(folder)
    except Exception as exc:  # noqa: BLE001 -- any broken file is shown, not raised
        log.warning("%s: cannot be read: %s", folder, exc)
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}", "problems": problems}
    if summary["n_trials"] - summary["n_failed"] == 0:
        return {"status": "empty", "problems": problems, "summary": _light(summary)}
    title = f"{folder.parent.name}/{folder.name}"
    figs = [f.to_plotly_json() for f in figures(summary, title)]
    return {"status": "ok", "problems": problems, "summary": _light(summary), "figures": figs}


def _light(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with front trials only (the figures already carry every point)."""
    keep = {k: v for k, v in summary.items() if k != "trials"}
    return {**keep, "front_trials": front_trials(summary)}


class Experiments:
    """Experiment folders under ``results_dir``, each inspected once per change."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = results_dir
        self._cache: dict[Path, tuple[tuple, dict[str, Any]]] = {}

    def listing(self) -> list[dict[str, Any]]:
        out = []
        root = self.results_dir
        packages = sorted(p.name for p in (root.iterdir() if root.is_dir() else ())
                          if p.is_dir() and not p.name.startswith("."))
        for package in packages:
            for folder in sorted((self.results_dir / package).iterdir()):
                if not is_experiment(folder):
                    continue
                try:
                    state = self.state(package, folder.name)
                except HTTPException:  # deleted since iterdir (a run restarted from scratch)
                    continue
                summary = state.get("summary") or {}
                out.append({
                    "id": f"{package}/{folder.name}",
                    "package": package,
                    "name": folder.name,
                    "status": state["status"],
                    "n_trials": summary.get("n_trials"),
                    "hypervolume": summary.get("hypervolume"),
                })  # fmt: skip
        return out

    def state(self, package: str, name: str) -> dict[str, Any]:
        folder = self.results_dir / package / name
        if any("/" in part or part.startswith(".") for part in (package, name)) or not folder.is_dir():
            raise HTTPException(404, f"no experiment {package}/{name}")
        stamp = _stamp(folder)
        cached = self._cache.get(folder)
        if cached is None or cached[0] != stamp:
            cached = (stamp, inspect_folder(folder))
            self._cache[folder] = cached
        return cached[1]


def _json(data: Any) -> Response:
    # json_dumps: strict JSON, since the browser's JSON.parse rejects NaN/Infinity.
    return Response(json_dumps(data), media_type="application/json")


def build_app(results_dir: str | Path | None = None) -> FastAPI:
    """The dashboard as an ASGI app (uvicorn, or ``serve.ingress`` for a Serve app)."""
    experiments = Experiments(Path(results_dir or results_root()))
    app = FastAPI(title="rayopt Pareto dashboard")

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get("/static/plotly.min.js")
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="application/javascript")

    @app.get("/api/experiments")
    def listing() -> Response:
        listed = experiments.listing()
        return _json({"results_dir": str(experiments.results_dir), "experiments": listed})

    @app.get("/api/experiments/{package}/{name}")
    def state(package: str, name: str) -> Response:
        return _json({"id": f"{package}/{name}", **experiments.state(package, name)})

    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m compress dashboard [--results-dir D] [--host H] [--port P]``."""
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m compress dashboard", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--results-dir", default=str(results_root()), help="results folder (<package>/<name>/ runs)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: local only)")
    parser.add_argument("--port", type=int, default=8050)
    args = parser.parse_args(argv)
    if not Path(args.results_dir).is_dir():
        parser.error(f"--results-dir {args.results_dir} does not exist; run a search first.")
    print(f"dashboard: http://{args.host}:{args.port}/ (results: {args.results_dir})", flush=True)
    uvicorn.run(build_app(args.results_dir), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
