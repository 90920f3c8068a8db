"""``python -m serving up | status | down | chat "text" | demo``.

- ``up [--config F] [key=value ...]``: deploy the ``llm`` and ``embed`` apps on the cluster at
  ``RAY_ADDRESS``, or on a local Ray head started for them (it outlives the command).
- ``status``: the apps and what they serve.  ``down [--stop-ray]``: delete the apps, stop
  Serve's HTTP proxy when no other app is left (else say it stays), and with ``--stop-ray``
  stop the head.
- ``chat "text"``: one chat through the client (``--deploy`` deploys the app first,
  ``--stream`` prints the answer as it is generated).
- ``demo``: the main job: deploy on the embedded models, call them through the client.

Exit codes (:mod:`serving.cli`): 0 done; 2 bad config (also: the HTTP port is taken, or a
running app does not enforce this ``RAYOPT_API_KEY``) or a request the app rejects; 3 the
endpoint or Ray head is down (``status`` when nothing runs); 4 a model or file is missing;
1 anything unexpected (with its traceback). Expected failures print one line on stderr;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from serving.cli import (
    EXIT_ENDPOINT,
    add_debug_argument,
    parse_with_overrides,
    run_guarded,
    setup_logging,
)
from serving.config import load_config
from serving.settings import ServingConfig


def _config(args: argparse.Namespace) -> ServingConfig:
    return load_config(ServingConfig, args.config, args.overrides)


def _start_local_head(config: ServingConfig) -> None:
    """Without ``RAY_ADDRESS``: a persistent local head, so ``up``'s apps outlive the command.

    It runs with Ray's token auth (:func:`~serving.cluster.head_auth_env`) and its dashboard
    on 127.0.0.1. A new head has no Serve yet, so the HTTP port is checked before it starts:
    a refusal leaves no head behind.
    """
    from serving.cluster import head_auth_env, head_reachable, local_num_cpus, ray_executable
    from serving.ports import check_port_free

    if os.environ.get("RAY_ADDRESS"):
        return
    port = os.environ.get("RAYOPT_RAY_PORT", "6379")
    if not head_reachable(f"127.0.0.1:{port}"):
        check_port_free(config.host, config.port)
    started = subprocess.run([ray_executable(), "start", "--head", f"--port={port}", f"--num-cpus={local_num_cpus()}",
                              "--dashboard-host=127.0.0.1",
                              f"--dashboard-port={os.environ.get('RAYOPT_RAY_DASHBOARD_PORT', '8265')}",
                              "--disable-usage-stats"],
                             capture_output=True, text=True, env=head_auth_env())
    if started.returncode != 0 and "already" not in (started.stdout + started.stderr).lower():
        raise SystemExit(f"`ray start --head` failed:\n{started.stdout}{started.stderr}")
    os.environ["RAY_ADDRESS"] = f"127.0.0.1:{port}"
    print(f"Ray head at 127.0.0.1:{port}; jobs join it with `export RAY_ADDRESS=127.0.0.1:{port}`",
          file=sys.stderr)


def cmd_up(args: argparse.Namespace) -> int:
    from serving.deploy import EMBED_PREFIX, ensure_running

    config = _config(args)
    _start_local_head(config)
    base = ensure_running(config, rekey=True)  # `up` applies this RAYOPT_API_KEY to running apps
    print(json.dumps({"llm": f"{base}/v1", "embed": f"{base}{EMBED_PREFIX}/v1", "model": config.llm.name}))
    return 0


def _head_address() -> str:
    """The head ``status`` / ``down`` look at: ``RAY_ADDRESS`` (``auto``: the address the last
    ``ray start`` recorded, if any), else ``127.0.0.1:$RAYOPT_RAY_PORT`` (6379)."""
    address = os.environ.get("RAY_ADDRESS", "127.0.0.1:" + os.environ.get("RAYOPT_RAY_PORT", "6379"))
    if address == "auto":
        from ray._private.utils import read_ray_address  # what `ray.init("auto")` reads first

        address = read_ray_address() or address
    return address


def _join_running() -> str | None:
    """Join the cluster ``up`` deployed on (``RAY_ADDRESS`` or the local head); None if down.

    A quick TCP check first: ``ray.init`` retries an absent head for a minute.
    """
    from serving.cluster import head_reachable, join

    address = _head_address()
    if head_reachable(address) is False:
        return None
    try:
        join(address, log_to_driver=False)
    except ConnectionError:
        return None
    return address


def cmd_status(args: argparse.Namespace) -> int:
    from serving.deploy import app_statuses

    address = _join_running()
    print(json.dumps({"ray": address or "not running", "apps": app_statuses() if address else {}}))
    return 0 if address else EXIT_ENDPOINT


def cmd_down(args: argparse.Namespace) -> int:
    """Delete rayopt's apps; stop Serve's proxy if no app is left (else say it stays); the
    head stays unless ``--stop-ray``."""
    from serving.cluster import ray_executable
    from serving.deploy import shutdown, stop_idle_proxy

    address = _join_running()
    if address is None:
        print(json.dumps({"ray": "not running", "deleted": [], "proxy": "not running"}))
        return 0
    deleted = shutdown()
    proxy = stop_idle_proxy()
    if args.stop_ray:
        subprocess.run([ray_executable(), "stop"], check=False)  # every Ray process on this machine
        head = "stopped (`ray stop`: every Ray process on this machine)"
    else:
        head = f"stays at {address} (`python -m serving down --stop-ray` stops it)"
    print(json.dumps({"deleted": deleted, "proxy": proxy, "ray": head}))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from serving.client import LLMClient

    if args.deploy:
        from serving.deploy import ensure_running

        config = _config(args)
        config.enable_embed = False
        base = ensure_running(config)
        client = LLMClient(base_url=f"{base}/v1")
    else:
        client = LLMClient()
    messages = [{"role": "user", "content": args.text}]
    params = {"max_tokens": args.max_tokens, "temperature": args.temperature, "seed": args.seed}
    if args.stream:
        for piece in client.stream_chat(messages, **params):
            print(piece, end="", flush=True)
        print()
        print(json.dumps({"model": client.model, "streamed": True, **client.ledger.state()}), file=sys.stderr)
        return 0
    answer = client.chat(messages, **params)
    print(answer.text)
    print(json.dumps({"model": answer.model, "cached": answer.cached, **client.ledger.state()}), file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from serving.demo import run_demo

    run_demo(_config(args))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_debug_argument(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in [("up", cmd_up), ("status", cmd_status), ("down", cmd_down), ("chat", cmd_chat),
                     ("demo", cmd_demo)]:
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        add_debug_argument(p, subcommand=True)
        if name == "chat":
            p.add_argument("text")
        if name in ("up", "chat", "demo"):
            p.add_argument("--config", help="YAML config (see configs/serving/)")
            p.add_argument("overrides", nargs="*", help="key=value overrides, e.g. llm.max_batch_size=16")
        if name == "chat":
            p.add_argument("--max-tokens", type=int, default=128)
            p.add_argument("--temperature", type=float, default=0.0)
            p.add_argument("--seed", type=int, default=None)
            p.add_argument("--deploy", action="store_true", help="deploy the llm app first if needed")
            p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
        if name == "down":
            p.add_argument("--stop-ray", action="store_true", help="also `ray stop` (every Ray process on this machine)")
    args = parse_with_overrides(parser, argv)  # key=value may follow options too
    if os.environ.get("RAY_ADDRESS") or args.command in ("up", "status", "down"):
        from serving.cluster import prefer_token_auth

        prefer_token_auth()
    setup_logging()
    return run_guarded(lambda: args.fn(args), "python -m serving", debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
