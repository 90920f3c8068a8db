"""Command-line plumbing shared by every package's ``python -m <package>``.

Exit codes (every CLI documents and uses these; :func:`run_guarded` maps the failures):

====  =====================================================================================
0     success
1     an unexpected error (with its traceback), or a package's own documented failure
2     bad configuration or arguments (:class:`~serving.config.ConfigError`, a request the
      endpoint rejects as invalid, argparse's usage errors)
3     the endpoint is down or keeps failing (:class:`~serving.client.EndpointUnavailable`)
4     missing data or model (:class:`FileNotFoundError`, :class:`~serving.models.ModelNotFoundError`)
5     the run's LLM budget is spent (:class:`~serving.ledger.BudgetExceeded`)
130   interrupted (Ctrl-C)
====  =====================================================================================

An expected failure prints one line on stderr and no traceback, unless ``--debug`` (or
``RAYOPT_DEBUG=1``) asks for it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_ENDPOINT, EXIT_DATA, EXIT_BUDGET = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


def add_run_arguments(parser: argparse.ArgumentParser, config_dir: str, example: str) -> None:
    """``--config F``, ``--preset P`` and trailing ``key=value`` overrides."""
    parser.add_argument("--config", help=f"YAML config (see {config_dir})")
    parser.add_argument("--preset", help="a named preset, e.g. demo")
    parser.add_argument("overrides", nargs="*", help=f"key=value overrides, e.g. {example}")


def add_debug_argument(parser: argparse.ArgumentParser, subcommand: bool = False) -> None:
    """``--debug``: print the traceback of an expected failure too.

    Args:
        parser: the parser (or a subcommand's parser: pass ``subcommand=True`` and add it to
            the main parser too, so ``--debug`` works before and after the subcommand).
        subcommand: leave the main parser's value alone when the flag is not given here.
    """
    parser.add_argument("--debug", action="store_true",
                        default=argparse.SUPPRESS if subcommand else False,
                        help="show tracebacks of expected failures (also RAYOPT_DEBUG=1)")


def parse_with_overrides(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``; ``key=value`` overrides may also follow options (``opro --preset demo a=1``)."""
    args, extra = parser.parse_known_args(argv)
    if any("=" not in e or e.startswith("-") for e in extra) or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "overrides"):
        args.overrides = [*args.overrides, *extra]
    return args


def classify(exc: BaseException) -> tuple[int, str] | None:
    """The documented exit code and a label of an expected failure; None if unexpected."""
    # Imported here: only a failing CLI pays for the client's imports.
    from serving.client import EndpointUnavailable, RequestRejected
    from serving.config import ConfigError
    from serving.ledger import BudgetExceeded
    from serving.models import ModelNotFoundError

    table = ((ConfigError, EXIT_CONFIG, "config error"),
             (RequestRejected, EXIT_CONFIG, "request rejected"),
             (EndpointUnavailable, EXIT_ENDPOINT, "endpoint unavailable"),
             (ModelNotFoundError, EXIT_DATA, "model not found"),
             (FileNotFoundError, EXIT_DATA, "not found"),
             (BudgetExceeded, EXIT_BUDGET, "budget exhausted"))
    return next(((code, label) for kind, code, label in table if isinstance(exc, kind)), None)


def run_guarded(fn: Callable[[], int], prog: str, debug: bool = False) -> int:
    """Run a CLI's work: expected failures become one stderr line and their exit code.

    Args:
        fn: the command; returns its exit code.
        prog: the command's name, first on the error line (``python -m serving``).
        debug: print the traceback of expected failures too (``--debug``).

    Returns:
        ``fn``'s exit code, or the failure's (see the module's table). Unexpected exceptions
        propagate with their traceback.
    """
    debug = debug or os.environ.get("RAYOPT_DEBUG", "") not in ("", "0")
    try:
        return fn()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        known = classify(exc)
        if known is None:
            raise
        if debug:
            traceback.print_exc()
        code, label = known
        print(f"{prog}: {label}: {' '.join(str(exc).split())}", file=sys.stderr)
        return code


def setup_logging() -> None:
    """INFO logs with timestamps; the HTTP clients' one-line-per-request logs quieted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
