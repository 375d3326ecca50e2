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
import ast
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
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


def _literal(tree: ast.Module, name: str) -> str | None:
    """The string constant ``name = "..."`` at a module's top level, else None."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    return None


def command_summaries() -> dict[str, tuple[str, str]]:
    """``{command: (module name, HELP)}`` read from the command modules' source, not imported.

    So ``cachecost --help`` and ``--version`` stay quick (importing every
    command imports pandas, the model and the fetch layer). A module whose
    ``HELP`` or ``NAME`` is not a plain string literal is imported.
    """
    found = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        source = Path(commands.__path__[0], f"{info.name}.py")
        tree = ast.parse(source.read_text(encoding="utf-8")) if source.is_file() else None
        name = _literal(tree, "NAME") if tree else None
        help_text = _literal(tree, "HELP") if tree else None
        if help_text is None or (name is None and tree is not None
                                 and any(isinstance(n, ast.Assign) and any(
                                     isinstance(t, ast.Name) and t.id == "NAME"
                                     for t in n.targets) for n in tree.body)):
            mod = importlib.import_module(f"{commands.__name__}.{info.name}")
            name, help_text = getattr(mod, "NAME", None), mod.HELP
        found[name or info.name.replace("_", "-")] = (info.name, help_text)
    return found


def build_parser(command: str | None = None, *, is_lazy: bool = False
                 ) -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command attached.

    With ``is_lazy``, only ``command`` (if any) is imported and given its options;
    the others are listed with their one-line help (enough for ``--help`` and for
    argparse to name a wrong command).
    """
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
    for name, (module_name, help_text) in command_summaries().items():
        if is_lazy and name != command:
            sub.add_parser(name, help=help_text)
            continue
        mod = importlib.import_module(f"{commands.__name__}.{module_name}")
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
            words = sys.argv[1:] if argv is None else list(argv)
            command = next((w for w in words if not w.startswith("-")), None)
            args = build_parser(command, is_lazy=True).parse_args(words)
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
