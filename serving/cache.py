"""The shared response cache: one answer per (model, prompt, every sampling parameter).

Keys are SHA-256 of canonical JSON, values the endpoint's JSON response. Two backends:

- :class:`SqliteCache` — a WAL-mode SQLite file (``$RAYOPT_CACHE_DIR/responses.sqlite``)
  shared by every process on the machine and persistent across runs.
- :class:`RayActorCache` — a named, detached Ray actor holding a :class:`SqliteCache` on the
  node that first created it, so Ray tasks on every node of a cluster share one cache.

Only reproducible calls are cached: greedy ones (``temperature == 0``) and sampled ones
with a ``seed`` (the engine makes a seeded request reproducible whatever it is batched with).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol


class ResponseCache(Protocol):
    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, value: dict) -> None: ...


def cache_key(kind: str, model: str, payload: dict[str, Any]) -> str:
    """Canonical key of a request: endpoint kind, model, full prompt/messages and parameters."""
    blob = json.dumps({"kind": kind, "model": model, "payload": payload}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def is_reproducible(params: dict[str, Any]) -> bool:
    """Greedy calls and seeded sampled calls give the same answer every time."""
    return float(params.get("temperature", 1.0)) == 0.0 or params.get("seed") is not None


def thread_connection(local: threading.local, path: Path) -> sqlite3.Connection:
    """This thread's connection to a WAL-mode SQLite file shared by many processes."""
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        local.conn = conn
    return conn


class SqliteCache:
    """A process- and thread-safe persistent cache in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS responses "
                         "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        return thread_connection(self._local, self.path)

    def get(self, key: str) -> dict | None:
        row = self._conn().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        self._conn().execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                             (key, json.dumps(value, ensure_ascii=False), time.time()))

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def __getstate__(self) -> dict:  # picklable into Ray tasks: reconnect on the other side
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path, self._local = state["path"], threading.local()


class _CacheActor:
    def __init__(self, path: str):
        self.cache = SqliteCache(path)

    def get(self, key: str) -> dict | None:
        return self.cache.get(key)

    def put(self, key: str, value: dict) -> None:
        self.cache.put(key, value)


class RayActorCache:
    """A cluster-wide cache: a detached actor named ``rayopt_response_cache``."""

    NAME = "rayopt_response_cache"

    def __init__(self, path: str | Path):
        import ray

        from serving.cluster import NAMESPACE

        self._actor = ray.remote(num_cpus=0)(_CacheActor).options(
            name=self.NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        ).remote(str(path))

    def get(self, key: str) -> dict | None:
        import ray

        return ray.get(self._actor.get.remote(key))

    def put(self, key: str, value: dict) -> None:
        self._actor.put.remote(key, value)
