"""Run folders: ``results/<package>/<run-name>/`` with config, append-only events, summary.

Every optimizer writes one line per evaluation, trial or step to ``events.jsonl`` (flushed
and fsynced, so a killed run loses at most the line being written) and replays it on
resume; a run started again with the same command continues where it stopped. A torn last
line (the process died mid-write) is dropped with a warning, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from serving.config import dump_config, to_dict

log = logging.getLogger(__name__)


def repair_torn_tail(path: Path) -> None:
    """Cut a partial last line (a process died mid-write) so the next append starts clean."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        log.warning("%s: cutting a torn last line (%d bytes) left by a killed run", path, len(data) - keep)
        with path.open("r+b") as f:
            f.truncate(keep)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line, flushed and fsynced (callers serialize concurrent writers)."""
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` through a temporary file: readers never see half."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSONL file in order; a torn last line is skipped with a warning."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()  # torn UTF-8 too
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                log.warning("%s: dropping a torn last line (the run was killed mid-write)", path)
                continue
            raise ValueError(f"{path}:{i + 1} is not valid JSON (edited by hand?)") from None


def attach_run_log(run: RunDir, events: logging.Logger) -> logging.Handler:
    """Send INFO logs and every ``events`` line in full to ``run.log`` in the run folder.

    ``events`` lines carry whole prompts, so they go to the file only, never the console.
    One run per process logs at a time: a later call moves the file to the new run.
    """
    root = logging.getLogger()
    for logger in (root, events):
        for old in [h for h in logger.handlers if getattr(h, "_rayopt_run_log", False)]:
            logger.removeHandler(old)
            old.close()
    handler = logging.FileHandler(run.path / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    handler._rayopt_run_log = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    events.propagate = False
    events.setLevel(logging.INFO)
    events.addHandler(handler)
    return handler


def results_root() -> Path:
    """``$RAYOPT_RESULTS_DIR`` or ``./results``."""
    return Path(os.environ.get("RAYOPT_RESULTS_DIR", "results"))


class RunDir:
    """One run's folder.

    Args:
        package: ``promptopt``, ``ecoflow``, ``compress`` or ``alignment``.
        name: the run name (the resume key: same name, same folder).
        root: default :func:`results_root`.
    """

    def __init__(self, package: str, name: str, root: str | Path | None = None):
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"run name `{name}` must be a plain folder name (no `/`, not hidden).")
        self.path = Path(root or results_root()) / package / name
        self.path.mkdir(parents=True, exist_ok=True)
        self.events_path = self.path / "events.jsonl"
        self._lock = threading.Lock()
        repair_torn_tail(self.events_path)

    def save_config(self, config: Any) -> None:
        """Write ``config.yaml``; a resumed run must use the same config (checked)."""
        path = self.path / "config.yaml"
        if path.exists():
            import yaml

            old = _identity(yaml.safe_load(path.read_text()))
            new = _identity(json.loads(json.dumps(to_dict(config))))
            if old != new:
                changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise ValueError(f"{self.path} holds a run with a different config (changed: "
                                 f"{', '.join(changed)}); use another run name or the same config.")
            return
        dump_config(config, path)

    def append(self, event: dict[str, Any]) -> None:
        """Append one event as a JSON line (thread-safe, durable)."""
        with self._lock:
            append_jsonl(self.events_path, event)

    def events(self) -> Iterator[dict[str, Any]]:
        """Replay ``events.jsonl`` in order (a torn final line is skipped with a warning)."""
        return read_jsonl(self.events_path)

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``name`` (e.g. ``summary.json``) atomically."""
        return write_json_atomic(self.path / name, data)


# Where the endpoint listens and whether bars are drawn do not change a run's results: a run
# resumed on another port (RAYOPT_HTTP_PORT) or without progress bars is the same run.
NOT_PART_OF_A_RUN = (("serving", "host"), ("serving", "port"), ("progress",))


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without the keys of :data:`NOT_PART_OF_A_RUN`."""
    out = dict(config)
    for *parents, key in NOT_PART_OF_A_RUN:
        node = out
        for parent in parents:
            if not isinstance(node.get(parent), dict):
                break
            node[parent] = node = dict(node[parent])
        else:
            node.pop(key, None)
    return out
