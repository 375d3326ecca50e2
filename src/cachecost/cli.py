"""The ``cachecost`` command line.

Each sub-command is one module in :mod:`cachecost.commands` exposing::

    NAME = "data"                        # the sub-command (module name by default)
    HELP = "one line for --help"
    def add_arguments(parser): ...       # argparse options
    def run(args) -> int: ...            # exit status

and is found by scanning that package, so adding a command touches no other
file. A :class:`~cachecost.errors.CachecostError` becomes one line on stderr
and its exit code; Ctrl-C exits 130 and SIGTERM 143, each with one line
(:mod:`cachecost.stopping`); no traceback either way.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from cachecost import __version__, commands
from cachecost.errors import CachecostError
from cachecost.stopping import exit_status, stop_on_signals


def _command_modules() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"{commands.__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command attached."""
    parser = argparse.ArgumentParser(
        prog="cachecost",
        description=(
            "Measure and model what CI container-image caching costs in compute "
            "minutes and registry storage."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cachecost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in _command_modules():
        name = getattr(mod, "NAME", mod.__name__.rsplit(".", 1)[-1].replace("_", "-"))
        doc = (mod.__doc__ or "").strip()
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=doc or mod.HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    with stop_on_signals():
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
        except KeyboardInterrupt as exc:        # while the commands are being imported
            return _say_stopped(exc)
        return run_guarded(lambda: args._run(args))


def _say_stopped(exc: KeyboardInterrupt) -> int:
    status = exit_status(exc)
    print("cachecost: interrupted" if status == 130
          else f"cachecost: stopped by {exc}", file=sys.stderr)
    return status


def run_guarded(action: Callable[[], int | None]) -> int:
    """Run ``action``; turn user errors and Ctrl-C into one line on stderr and an exit status."""
    try:
        return int(action() or 0)
    except CachecostError as exc:
        print(f"cachecost: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:         # Ctrl-C, or SIGTERM/SIGHUP under stop_on_signals
        return _say_stopped(exc)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
