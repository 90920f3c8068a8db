"""The per-run report: base vs each stage on IFEval (with intervals), a table and a plot.

Rows come from ``baseline.json`` and each stage's ``eval.json``; per-prompt data (responses,
verdicts, 0/1 vectors) stays in those files and is left out of ``report.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alignment.ifeval.score import METRICS

BULKY = ("ifeval_responses", "ifeval_verdicts", "ifeval_vectors", "ifeval_keys")
LABELS = {"prompt_strict": "prompt strict", "prompt_loose": "prompt loose",
          "inst_strict": "instruction strict", "inst_loose": "instruction loose"}


def slim(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its per-prompt data."""
    return {k: v for k, v in row.items() if k not in BULKY}


def _num(v: Any) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _acc(row: dict[str, Any], metric: str) -> str:
    a = (row.get("ifeval") or {}).get(metric)
    return "—" if a is None else f"{a['value']:.3f} [{a['low']:.3f}, {a['high']:.3f}]"


def _diff(row: dict[str, Any], metric: str) -> str:
    d = (row.get("vs_base") or {}).get(metric)
    return "—" if d is None else f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown: IFEval accuracies (95% Wilson intervals) per row, the stage-minus-base
    differences (95% paired-bootstrap intervals), and the training numbers."""
    n = next((r["ifeval"]["prompt_strict"]["n"] for r in rows if r.get("ifeval")), 0)
    head = "| stage | " + " | ".join(LABELS[m] for m in METRICS) + " |"
    lines = [f"IFEval on {n} held-out prompts (lm-eval's checker), accuracy [95% Wilson CI]:", "",
             head, "|" + "---|" * (len(METRICS) + 1)]
    lines += ["| " + " | ".join([r["stage"], *(_acc(r, m) for m in METRICS)]) + " |" for r in rows]
    stages = [r for r in rows if r.get("vs_base")]
    if stages:
        lines += ["", "Stage minus base [95% paired-bootstrap CI]:", "", head,
                  "|" + "---|" * (len(METRICS) + 1)]
        lines += ["| " + " | ".join([r["stage"], *(_diff(r, m) for m in METRICS)]) + " |"
                  for r in stages]
    keys = ("win_rate", "reward_accuracy", "reward_margin", "sft_rows", "sft_loss", "dpo_loss",
            "pairs", "train_pairs", "skipped", "checker_errors")
    lines += ["", "| stage | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
              "|" + "---|" * (len(keys) + 1)]
    lines += ["| " + " | ".join([r["stage"], *(_num(r.get(k)) for k in keys)]) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[dict[str, Any]], path: str) -> None:
    """Grouped bars of the four IFEval accuracies per row, with their Wilson intervals (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(METRICS)
    for k, metric in enumerate(METRICS):
        accs = [(r.get("ifeval") or {}).get(metric) for r in rows]
        values = [a["value"] if a else 0.0 for a in accs]
        errors = [[a["value"] - a["low"] if a else 0.0 for a in accs],
                  [a["high"] - a["value"] if a else 0.0 for a in accs]]
        ax.bar([i + k * width for i in range(len(rows))], values, width, yerr=errors,
               capsize=2, label=LABELS[metric])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["stage"] for r in rows])
    ax.set_ylim(0, 1)
    ax.set_ylabel("IFEval accuracy")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("alignment: IFEval, base vs stages (95% Wilson intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
