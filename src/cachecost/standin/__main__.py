"""Run the GitLab stand-in in the foreground until Ctrl-C.

    GITLAB_TOKEN=demo python -m cachecost.standin --port 8929 --latency-ms 20

The accepted token is read from the environment variable named by
``--token-env`` (default ``GITLAB_TOKEN``), never from the command line; when
that variable is unset the stand-in accepts the fixed demo token
``standin-demo-token``. Data: the bundled sample (``--data DIR`` for another
dataset, ``--days N`` for a freshly generated sample of N days).
"""

from __future__ import annotations

import argparse
import os
import sys

from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.standin.data import StandinData
from cachecost.standin.extra import ExtraData
from cachecost.standin.server import Faults, StandinServer

DEMO_TOKEN = "standin-demo-token"


def build_parser() -> argparse.ArgumentParser:
    """Options of ``python -m cachecost.standin``."""
    p = argparse.ArgumentParser(prog="python -m cachecost.standin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8929, help="port on 127.0.0.1 (0: any free)")
    p.add_argument("--data", metavar="DIR", help="dataset to serve (default: bundled sample)")
    p.add_argument("--days", type=int, help="serve a generated sample of this many days")
    p.add_argument("--project", default="qemu-project/qemu", help="project path to serve")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay added to each request")
    p.add_argument("--every-429", type=int, default=0, help="answer every Nth request with 429")
    p.add_argument("--retry-after-s", type=int, default=1, help="Retry-After sent with 429s")
    p.add_argument("--every-5xx", type=int, default=0, help="answer every Nth request with 5xx")
    p.add_argument("--every-drop", type=int, default=0, help="drop every Nth connection")
    p.add_argument("--registry", choices=("enabled", "disabled", "forbidden"),
                   default="enabled", help="how the container registry answers")
    p.add_argument("--forks", type=int, default=40, help="forks of the project")
    p.add_argument("--active-forks", type=int, default=6,
                   help="of those, forks active in the sample's window")
    p.add_argument("--token-env", default="GITLAB_TOKEN",
                   help="environment variable holding the token to accept")
    return p


def build_data(args: argparse.Namespace) -> StandinData:
    """The data the stand-in serves, from the options."""
    if args.days:
        return StandinData.from_sample(days=args.days, project_path=args.project,
                                       registry_mode=args.registry)
    return StandinData(load_dataset(args.data), project_path=args.project,
                       registry_mode=args.registry)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    args = build_parser().parse_args(argv)
    try:
        data = build_data(args)
    except CachecostError as exc:
        print(f"standin: error: {exc}", file=sys.stderr)
        return exc.exit_code
    faults = Faults(latency_ms=args.latency_ms, every_429=args.every_429,
                    retry_after_s=args.retry_after_s, every_5xx=args.every_5xx,
                    every_drop=args.every_drop)
    token = os.environ.get(args.token_env) or DEMO_TOKEN
    try:
        srv = StandinServer(data, port=args.port, faults=faults, tokens={token: {"read_api"}},
                            extra=ExtraData(data, forks=args.forks,
                                            active_forks=args.active_forks))
    except OSError as exc:
        print(f"standin: error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror})",
              file=sys.stderr)
        return 2
    print(f"GitLab stand-in serving {args.project} at {srv.url} "
          f"({len(data.jobs()):,} jobs); Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
