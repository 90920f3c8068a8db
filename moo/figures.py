"""Figures of an experiment summary (:func:`moo.report.experiment_summary`).

Plotly for the interactive views (every 2-D pair of objectives, a 3-D view with three or
more, hypervolume against trials), shared by ``pareto.html`` and the dashboard; matplotlib
for ``pareto.png`` (plotly's PNG export, kaleido 1.x, needs a Chrome download that an
offline machine cannot make). Dominated trials are grey, the front is highlighted (hollow:
on the front only within noise, see :mod:`moo.report`), error bars span +-2 SEM where
a trial has standard errors, and hovering a point shows its trial id and config. No ``ray``
here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

GREY, FRONT = "#b0b0b0", "#d62728"
WITHIN_NOISE = "front (within noise)"
Z = 2.0  # error bars: +-Z standard errors (the noise rule's margin)


def _groups(summary: dict[str, Any]) -> list[tuple[str, list[dict], dict[str, Any]]]:
    """``(label, trial rows, marker style)`` of the infeasible, dominated and front trials
    (front trials within noise in their own, hollow group)."""
    on, noisy = set(summary["front"]), set(summary.get("front_within_noise", ()))
    rows = [(i, t) for i, t in enumerate(summary["trials"]) if t["values"] is not None]
    feasible = [(i, t) for i, t in rows if t.get("feasible", True)]
    groups = [
        ("infeasible", [t for _, t in rows if not t.get("feasible", True)],
         {"color": GREY, "symbol": "x", "size": 7}),
        ("dominated", [t for i, t in feasible if i not in on], {"color": GREY, "size": 7}),
        ("Pareto front", [t for i, t in feasible if i in on and i not in noisy],
         {"color": FRONT, "size": 9}),
        (WITHIN_NOISE, [t for i, t in feasible if i in noisy],
         {"color": FRONT, "symbol": "circle-open", "size": 9}),
    ]  # fmt: skip
    return [g for g in groups if g[1] or g[0] not in ("infeasible", WITHIN_NOISE)]


def _bars(group: list[dict], k: int) -> list[float]:
    """+-Z SEM of objective ``k`` per trial (0 where unknown)."""
    return [Z * ((t.get("sems") or [None] * (k + 1))[k] or 0.0) for t in group]


def _error(group: list[dict], k: int) -> dict[str, Any] | None:
    bars = _bars(group, k)
    return {"type": "data", "array": bars, "visible": True, "thickness": 1} if any(bars) else None


def _hover(t: dict[str, Any]) -> str:
    lines = [f"trial {t['trial_id']}", *(f"{k}={json.dumps(v)}" for k, v in t["params"].items())]
    lines += [f"violates {v}" for v in t.get("violated") or ()]
    if t.get("within_noise_of"):
        lines.append("within noise of " + ", ".join(t["within_noise_of"]))
    return "<br>".join(lines)


def pareto_figure(summary: dict[str, Any], title: str = "") -> go.Figure:
    """One subplot per pair of objectives (front sorted along x and joined)."""
    names = list(summary["objectives"])
    pairs = list(itertools.combinations(range(len(names)), 2)) or [(0, 0)]
    cols = min(3, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.08, vertical_spacing=0.12)
    groups = _groups(summary)
    for p, (a, b) in enumerate(pairs):
        r, c = p // cols + 1, p % cols + 1
        for label, group, marker in groups:
            group = sorted(group, key=lambda t: t["values"][a])
            fig.add_trace(
                go.Scatter(
                    x=[t["values"][a] for t in group],
                    y=[t["values"][b] for t in group],
                    mode="markers",
                    name=label,
                    legendgroup=label,
                    showlegend=p == 0,
                    marker=marker,
                    error_x=_error(group, a),
                    error_y=_error(group, b),
                    text=[_hover(t) for t in group],
                    hovertemplate="%{text}<br>(%{x:.4g}, %{y:.4g})<extra>" + label + "</extra>",
                ),
                row=r,
                col=c,
            )
        fig.update_xaxes(title_text=f"{names[a]} ({summary['objectives'][names[a]]})", row=r, col=c)
        fig.update_yaxes(title_text=f"{names[b]} ({summary['objectives'][names[b]]})", row=r, col=c)
    fig.update_layout(title=f"{title} Pareto front".strip(), height=380 * rows + 80)
    return fig


def pareto_3d_figure(summary: dict[str, Any], title: str = "") -> go.Figure:
    """The first three objectives in 3-D (call only with three or more)."""
    names = list(summary["objectives"])[:3]
    fig = go.Figure()
    for label, group, marker in _groups(summary):
        fig.add_trace(
            go.Scatter3d(
                x=[t["values"][0] for t in group],
                y=[t["values"][1] for t in group],
                z=[t["values"][2] for t in group],
                mode="markers",
                name=label,
                marker={**marker, "size": marker["size"] - 3},
                text=[_hover(t) for t in group],
                hovertemplate="%{text}<extra>" + label + "</extra>",
            )
        )
    axes = {f"{k}axis_title": n for k, n in zip("xyz", names, strict=True)}
    fig.update_layout(title=f"{title} 3-D view".strip(), scene=axes, height=600)
    return fig


def hypervolume_figure(summary: dict[str, Any], title: str = "") -> go.Figure:
    """Hypervolume of the first n trials against n."""
    curve = summary["hypervolume_curve"]
    fig = go.Figure(
        go.Scatter(x=list(range(1, len(curve) + 1)), y=curve, mode="lines+markers", line_shape="hv")
    )
    ref = summary.get("ref_point") or {}
    fig.update_layout(
        title=f"{title} hypervolume vs trials (ref {json.dumps(ref)})".strip(),
        xaxis_title="trials",
        yaxis_title="hypervolume",
        height=360,
    )
    return fig


def figures(summary: dict[str, Any], title: str = "") -> list[go.Figure]:
    """Every interactive figure of an experiment, in page order."""
    out = [pareto_figure(summary, title)]
    if len(summary["objectives"]) >= 3:
        out.append(pareto_3d_figure(summary, title))
    out.append(hypervolume_figure(summary, title))
    return out


def write_figures(summary: dict[str, Any], folder: Path, title: str = "") -> list[Path]:
    """``pareto.html`` (self-contained: plotly.js inlined, opens offline) and ``pareto.png``."""
    html, png = folder / "pareto.html", folder / "pareto.png"
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, fig in enumerate(figures(summary, title))
    ]
    html.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title} Pareto</title>"
        f"</head><body>{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
    write_png(summary, png, title)
    return [html, png]


def write_png(summary: dict[str, Any], path: Path, title: str = "") -> None:
    """Static version: every objective pair, then hypervolume against trials."""
    names = list(summary["objectives"])
    pairs = list(itertools.combinations(range(len(names)), 2)) or [(0, 0)]
    n = len(pairs) + 1
    cols = min(3, n)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.8 * cols, 4 * nrows), squeeze=False)
    flat = axes.ravel()
    groups = _groups(summary)
    for ax, (a, b) in zip(flat, pairs, strict=False):
        for label, group, marker in groups:
            x, y = [t["values"][a] for t in group], [t["values"][b] for t in group]
            xerr, yerr = _bars(group, a), _bars(group, b)
            if any(xerr) or any(yerr):
                ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="none", ecolor=marker["color"],
                            elinewidth=0.8, alpha=0.6)
            symbol = marker.get("symbol")
            if symbol == "x":
                ax.scatter(x, y, c=marker["color"], marker="x", s=28, label=label)
            else:
                ax.scatter(x, y, marker="o", s=28, label=label, edgecolors=marker["color"],
                           facecolors="none" if symbol == "circle-open" else marker["color"])
        ax.set(xlabel=f"{names[a]} ({summary['objectives'][names[a]]})")
        ax.set(ylabel=f"{names[b]} ({summary['objectives'][names[b]]})")
        ax.grid(alpha=0.3)
    flat[0].legend()
    curve = summary["hypervolume_curve"]
    hv_ax = flat[len(pairs)]
    hv_ax.step(range(1, len(curve) + 1), curve, where="post", marker=".")
    hv_ax.set(xlabel="trials", ylabel="hypervolume", title="hypervolume vs trials")
    hv_ax.grid(alpha=0.3)
    for ax in flat[n:]:
        ax.axis("off")
    noisy = len(summary.get("front_within_noise", ()))
    fig.suptitle(f"{title}: {len(summary['front'])} on the front ({noisy} within noise) of "
                 f"{summary['n_trials']} trials; error bars +-{Z:g} SEM")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
