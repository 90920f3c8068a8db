"""A run's figure: best-so-far accuracy against LLM calls (sweeps use moo's Pareto report).

HTML comes from plotly (self-contained, opens offline). PNG comes from matplotlib: plotly's
PNG export (kaleido 1.x) needs a Chrome binary, which an offline machine does not have
(checked here: ``write_image`` asks for ``plotly_get_chrome``). No ``ray`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402


def write_progress(
    points: Sequence[tuple[int, float, str]], folder: Path, title: str = "progress"
) -> list[Path]:
    """``progress.html`` and ``progress.png``: best-so-far score vs LLM calls (a step line)."""
    calls = [p[0] for p in points]
    best = [p[1] for p in points]
    hover = [p[2] for p in points]
    fig = go.Figure(
        go.Scatter(
            x=calls,
            y=best,
            mode="lines+markers",
            line_shape="hv",
            text=hover,
            hovertemplate="calls %{x}<br>best %{y:.3f}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="LLM calls", yaxis_title="best-so-far accuracy")
    html, png = folder / "progress.html", folder / "progress.png"
    fig.write_html(html, include_plotlyjs=True)
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.step(calls, best, where="post", marker="o")
    ax.set(title=title, xlabel="LLM calls", ylabel="best-so-far accuracy (train)")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(png, dpi=120)
    plt.close(figure)
    return [html, png]

