"""Command-line plumbing shared by every package's ``python -m <package>``."""

from __future__ import annotations

import argparse
import logging


def add_run_arguments(parser: argparse.ArgumentParser, config_dir: str, example: str) -> None:
    """``--config F``, ``--preset P`` and trailing ``key=value`` overrides."""
    parser.add_argument("--config", help=f"YAML config (see {config_dir})")
    parser.add_argument("--preset", help="a named preset, e.g. demo")
    parser.add_argument("overrides", nargs="*", help=f"key=value overrides, e.g. {example}")


def parse_with_overrides(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``; ``key=value`` overrides may also follow options (``opro --preset demo a=1``)."""
    args, extra = parser.parse_known_args(argv)
    if any("=" not in e or e.startswith("-") for e in extra) or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "overrides"):
        args.overrides = [*args.overrides, *extra]
    return args


def setup_logging() -> None:
    """INFO logs with timestamps; the HTTP clients' one-line-per-request logs quieted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
