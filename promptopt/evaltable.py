"""The persistent evaluation table: one row per (model, sampling params, format, instruction,
example id).

:class:`~promptopt.scoring.LLMScorer` takes any mutable mapping as its table; this one keeps
the rows in a WAL-mode SQLite file, so every optimizer, every Tune trial and every resumed run
on the machine shares them and none pays twice for the same evaluation. No ``ray`` here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from promptopt.protocols import Outcome
from promptopt.scoring import EvalKey
from serving.cache import thread_connection

_COLUMNS = ("model", "params", "format", "instruction", "example_id")
# v2: predictions are text (labels, words) and the strict score is stored; the v1 table
# ("evaluations", numeric predictions) of an older cache is left alone.
_TABLE = "outcomes_v2"


class SqliteEvalTable(MutableMapping[EvalKey, Outcome]):
    """A :class:`MutableMapping` from evaluation keys to :class:`Outcome` rows in SQLite.

    Safe to share between threads and processes (one connection per thread, WAL journal).
    Picklable: a copy in another process reconnects to the same file.

    Args:
        path: the SQLite file (created with its folder when missing).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} (model TEXT, params TEXT, format TEXT, "
            "instruction TEXT, example_id TEXT, correct INTEGER NOT NULL, output TEXT NOT NULL, "
            "prediction TEXT, strict INTEGER NOT NULL, "
            "PRIMARY KEY (model, params, format, instruction, example_id))"
        )

    def _conn(self) -> sqlite3.Connection:
        return thread_connection(self._local, self.path)

    def __getitem__(self, key: EvalKey) -> Outcome:
        where = " AND ".join(f"{c} = ?" for c in _COLUMNS)
        row = (
            self._conn()
            .execute(f"SELECT correct, output, prediction, strict FROM {_TABLE} WHERE {where}", key)
            .fetchone()
        )
        if row is None:
            raise KeyError(key)
        return Outcome(key[4], bool(row[0]), row[1], row[2], bool(row[3]))

    def __setitem__(self, key: EvalKey, outcome: Outcome) -> None:
        self._conn().execute(
            f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, int(outcome.correct), outcome.output, outcome.prediction, int(outcome.strict)),
        )

    def __delitem__(self, key: EvalKey) -> None:
        where = " AND ".join(f"{c} = ?" for c in _COLUMNS)
        if self._conn().execute(f"DELETE FROM {_TABLE} WHERE {where}", key).rowcount == 0:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != len(_COLUMNS):
            return False
        where = " AND ".join(f"{c} = ?" for c in _COLUMNS)
        sql = f"SELECT 1 FROM {_TABLE} WHERE {where}"
        return self._conn().execute(sql, key).fetchone() is not None

    def __iter__(self) -> Iterator[EvalKey]:
        rows = self._conn().execute(f"SELECT {', '.join(_COLUMNS)} FROM {_TABLE}").fetchall()
        return iter([tuple(r) for r in rows])

    def __len__(self) -> int:
        return self._conn().execute(f"SELECT COUNT(*) FROM {_TABLE}").fetchone()[0]

    def __getstate__(self) -> dict:
        return {"path": str(self.path)}

    def __setstate__(self, state: dict) -> None:
        self.path, self._local = Path(state["path"]), threading.local()

    def __repr__(self) -> str:
        return f"SqliteEvalTable({json.dumps(str(self.path))}, rows={len(self)})"
