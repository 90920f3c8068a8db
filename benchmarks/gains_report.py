"""The headline, Markdown table and plot of ``benchmarks/optimizer_gains.py``'s result."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean
from typing import Any


def _ci_above_zero(d: dict[str, Any]) -> bool:
    return d["ci95"][0] > 0


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """Per task: gains whose paired 95% CI is above 0, and method means at each budget."""
    out: dict[str, Any] = {"wall_s": result.get("wall_s"), "tasks": {}}
    wins_over_baseline = set()
    for block in result["tasks"]:
        rows = block["rows"]
        base = next(r for r in rows if r["method"] == "baseline")
        ref = next(r for r in rows if r["method"] == "reference")
        means: dict[str, dict[int, float]] = defaultdict(dict)
        groups: dict[tuple[str, int], list[float]] = defaultdict(list)
        for r in rows:
            if r["budget"] is not None:
                groups[(r["method"], r["budget"])].append(r["heldout"])
        for (m, b), vals in groups.items():
            means[m][b] = round(fmean(vals), 3)
        significant = [
            {"method": r["method"], "seed": r["seed"], "budget": r["budget"],
             "diff": round(r["vs_baseline"]["diff"], 3),
             "ci95": [round(x, 3) for x in r["vs_baseline"]["ci95"]]}
            for r in rows if r["budget"] is not None and _ci_above_zero(r["vs_baseline"])
        ]  # fmt: skip
        beats_ref = [
            {"method": r["method"], "seed": r["seed"], "budget": r["budget"],
             "diff": round(r["vs_reference"]["diff"], 3),
             "ci95": [round(x, 3) for x in r["vs_reference"]["ci95"]]}
            for r in rows if r["budget"] is not None and _ci_above_zero(r["vs_reference"])
        ]  # fmt: skip
        if significant:
            wins_over_baseline.add(block["task"])
        out["tasks"][block["task"]] = {
            "n_test": block["n_test"], "baseline": round(base["heldout"], 3),
            "best_reference": round(ref["heldout"], 3),
            "majority_label_accuracy": block["majority_label_accuracy"],
            "mean_heldout_by_method_and_budget": means,
            "gains_over_baseline_ci_above_0": significant,
            "gains_over_best_reference_ci_above_0": beats_ref,
        }  # fmt: skip
    out["tasks_with_a_significant_gain_over_baseline"] = sorted(wins_over_baseline)
    return out


def markdown(result: dict[str, Any]) -> str:
    """One row per task, method, budget and seed."""
    lines = ["| task | method | budget | seed | calls | val | held-out [95% CI] | strict | "
             "Δ vs baseline [95% CI] | Δ vs best reference [95% CI] |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for block in result["tasks"]:
        for r in block["rows"]:
            lo, hi = r["ci95"]
            b, rb = r["vs_baseline"], r["vs_reference"]
            lines.append(
                f"| {r['task']} | {r['method']} | {r['budget'] or '—'} | "
                f"{'—' if r['seed'] is None else r['seed']} | {r['llm_calls']} | "
                f"{r['validation']:.2f} | {r['heldout']:.3f} [{lo:.3f}, {hi:.3f}] | "
                f"{r['strict']:.3f} | {b['diff']:+.3f} [{b['ci95'][0]:+.3f}, {b['ci95'][1]:+.3f}] | "
                f"{rb['diff']:+.3f} [{rb['ci95'][0]:+.3f}, {rb['ci95'][1]:+.3f}] |")
    notes = [f"- {b['task']}: n_test {b['n_test']}, n_val {b['n_val']}, majority-label accuracy "
             f"{b['majority_label_accuracy']}, best reference: {b['best_reference']!r}"
             for b in result["tasks"]]
    return "\n".join(lines + [""] + notes) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """Best-so-far validation accuracy against LLM calls, one line per method run, per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = result["tasks"]
    fig, axes = plt.subplots(1, len(blocks), figsize=(4.5 * len(blocks), 3.6), squeeze=False)
    colors = {"random": "tab:gray", "ape": "tab:green", "opro": "tab:blue", "protegi": "tab:red",
              "fewshot": "tab:orange", "ecoflow": "tab:cyan"}
    for ax, block in zip(axes[0], blocks, strict=True):
        for name, points in block["curves"].items():
            if not points:
                continue
            method = name.split("/")[0]
            xs, ys = zip(*points, strict=True)
            ax.step(xs, ys, where="post", color=colors.get(method), alpha=0.8,
                    label=method if name.endswith("/s0") else None)
        base = next(r for r in block["rows"] if r["method"] == "baseline")["validation"]
        ref = next(r for r in block["rows"] if r["method"] == "reference")["validation"]
        ax.axhline(base, color="black", ls=":", label="baseline")
        ax.axhline(ref, color="purple", ls="--", label="best reference")
        ax.set_title(block["task"])
        ax.set_xlabel("LLM calls")
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("best-so-far validation accuracy")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def merge(paths: list[Path]) -> dict[str, Any]:
    """One result from several runs' JSON files (a task in a later file replaces an earlier
    one): blocks in first-seen task order, each file's args and provenance kept."""
    import json

    blocks: dict[str, dict[str, Any]] = {}
    runs = []
    for path in paths:
        data = json.loads(path.read_text())
        for block in data["tasks"]:
            blocks[block["task"]] = block
        runs.append({"file": path.name, "tasks": [b["task"] for b in data["tasks"]],
                     "args": data.get("args"),
                     # a run stopped between tasks has no total: its finished tasks' sum
                     "wall_s": data.get("wall_s") or round(sum(b.get("wall_s") or 0
                                                               for b in data["tasks"]), 1),
                     "provenance": data.get("provenance")})
    wall = [r["wall_s"] for r in runs]
    return {"tasks": list(blocks.values()), "runs": runs,
            "wall_s": round(sum(wall), 1) if None not in wall else None}


def main() -> None:
    """``python benchmarks/gains_report.py RUN.json ... --out benchmarks/data/optimizer_gains.json``:
    merge per-task runs into one result with its headline, table and plot."""
    import argparse
    import json

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("benchmarks/data/optimizer_gains.json"))
    args = p.parse_args()
    missing = [str(r) for r in args.runs if not r.is_file()]
    if missing:
        raise SystemExit(f"no such result file: {', '.join(missing)}")
    result = merge(args.runs)
    result["headline"] = headline(result)
    args.out.write_text(json.dumps(result, indent=1))
    args.out.with_suffix(".md").write_text(markdown(result))
    plot(result, args.out.with_suffix(".png"))
    print(json.dumps(result["headline"]))


if __name__ == "__main__":
    main()
