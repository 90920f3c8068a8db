"""Per-stage data on disk: append-only JSONL keyed by content hash, plus a manifest.

A stage folder holds one ``<step>.jsonl`` per step (``instructions``, ``responses``,
``revisions``, ``judgments``, ``pairs``...) and ``manifest.json``. Every line is one of::

    {"key": "<sha256>", "status": "ok", "record": {...}}      a finished item
    {"key": "<sha256>", "status": "skipped", "reason": "..."}  an item skipped for good
    {"status": "counts", "skipped": {"duplicate": 3}}          skips with no item key

The key is the hash of the item's inputs, so a rerun asks :meth:`StageStore.pending` for the
items not yet keyed and does only those; a step marked done is not rerun at all. Lines are
flushed and fsynced; a torn last line (a killed run) is ignored when read and cut off
before the next append, never a crash. The JSONL
files are the source of truth; the manifest is their summary plus the ``done`` flags.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from serving.runs import append_jsonl, read_jsonl, repair_torn_tail, write_json_atomic

log = logging.getLogger(__name__)
T = TypeVar("T")


def content_key(*parts: Any) -> str:
    """A stable hash of ``parts`` (any JSON-able values; order matters)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class StepReport:
    """One step's totals: finished records, skips by reason, whether it is done."""

    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    done: bool = False


@dataclass
class StageReport:
    """A stage's totals by step (what the stage report table shows)."""

    stage: str
    steps: dict[str, StepReport] = field(default_factory=dict)

    def skipped(self) -> Counter[str]:
        """Skips by ``step/reason`` across all steps."""
        return Counter({f"{step}/{reason}": n for step, rep in self.steps.items()
                        for reason, n in rep.skipped.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StageStore:
    """The data of one curriculum stage.

    Args:
        root: the run's data folder (e.g. ``results/alignment/<run>/data``).
        stage: the stage name; its folder is ``root / stage``.
    """

    def __init__(self, root: str | Path, stage: str):
        self.stage = stage
        self.path = Path(root) / stage
        self.path.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.path / "manifest.json"
        self._repaired: set[str] = set()

    def _file(self, step: str) -> Path:
        if not step.isidentifier():
            raise ValueError(f"step name `{step}` must be a plain identifier (e.g. `pairs`).")
        return self.path / f"{step}.jsonl"

    def _lines(self, step: str) -> Iterator[dict[str, Any]]:
        return read_jsonl(self._file(step))

    def _append(self, step: str, line: Mapping[str, Any]) -> None:
        if step not in self._repaired:  # cut a torn last line before the first append
            repair_torn_tail(self._file(step))
            self._repaired.add(step)
        append_jsonl(self._file(step), dict(line))

    def append(self, step: str, key: str, record: Mapping[str, Any]) -> None:
        """Write one finished item."""
        self._append(step, {"key": key, "status": "ok", "record": dict(record)})

    def skip(self, step: str, key: str, reason: str) -> None:
        """Write one item skipped for good (a rerun will not retry it)."""
        self._append(step, {"key": key, "status": "skipped", "reason": reason})

    def add_counts(self, step: str, skipped: Mapping[str, int]) -> None:
        """Write skip counts that belong to no item (e.g. rejected Self-Instruct candidates)."""
        counts = {k: int(v) for k, v in skipped.items() if v}
        if counts:
            self._append(step, {"status": "counts", "skipped": counts})

    def keys(self, step: str) -> set[str]:
        """Keys of every item written (finished or skipped)."""
        return {line["key"] for line in self._lines(step) if "key" in line}

    def records(self, step: str) -> list[dict[str, Any]]:
        """The finished records, in the order written (the first one per key)."""
        seen: set[str] = set()
        out = []
        for line in self._lines(step):
            if line["status"] == "ok" and line["key"] not in seen:
                seen.add(line["key"])
                out.append(line["record"])
        return out

    def pending(self, step: str, items: Iterable[T], key: Callable[[T], str]) -> list[T]:
        """The items whose key is not yet written (all of them on a fresh run)."""
        done = self.keys(step)
        return [item for item in items if key(item) not in done]

    def _done(self) -> list[str]:
        if not self.manifest_path.exists():
            return []
        return list(json.loads(self.manifest_path.read_text(encoding="utf-8"))["done"])

    def write_manifest(self, done: list[str] | None = None) -> None:
        """Rewrite ``manifest.json`` (atomically): the done steps and the current totals."""
        done = self._done() if done is None else done
        data = {"done": done, **self._report(set(done)).to_dict()}
        write_json_atomic(self.manifest_path, data)

    def mark_done(self, step: str) -> None:
        """Record that ``step`` finished; :meth:`is_done` is then True on every rerun."""
        done = self._done()
        self.write_manifest(done if step in done else [*done, step])

    def is_done(self, step: str) -> bool:
        return step in self._done()

    def report(self) -> StageReport:
        """Totals per step, replayed from the JSONL files."""
        return self._report(set(self._done()))

    def _report(self, done: set[str]) -> StageReport:
        report = StageReport(self.stage)
        for path in sorted(self.path.glob("*.jsonl")):
            step, skipped = path.stem, Counter[str]()
            keyed: set[str] = set()
            for line in self._lines(step):
                if line["status"] == "counts":
                    skipped.update(line["skipped"])
                elif line["key"] not in keyed:
                    keyed.add(line["key"])
                    if line["status"] == "skipped":
                        skipped[line["reason"]] += 1
            ok = len(self.records(step))
            report.steps[step] = StepReport(ok, dict(sorted(skipped.items())), step in done)
        return report
