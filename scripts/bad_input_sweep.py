"""Feed the ``cachecost`` command bad inputs and count how each one ends.

    .venv/bin/python scripts/bad_input_sweep.py            # the table and the counts
    .venv/bin/python scripts/bad_input_sweep.py --only buildlog
    git archive OLD | tar -x -C /tmp/old && \
        .venv/bin/python scripts/bad_input_sweep.py --src /tmp/old/src   # an older cachecost

Every case runs ``python -m cachecost ...`` in a subprocess (a fresh temp
directory, no network but 127.0.0.1) and is sorted into one of

* ``clean``: the documented result: one ``cachecost: error: ...`` line and exit 2,
  or (for the few cases whose answer is a result, e.g. a log cut at the size
  bound) exit 0 with the note the case expects;
* ``traceback``: a Python traceback, or an exit status other than 0 and 2;
* ``accepted``: exit 0 where an error was expected (silently accepted);
* ``hang``: still running after the case's time limit (killed).

The ``--samples`` maximum is not run here (its memory is measured with
``/usr/bin/time -v``, see CHANGELOG.md); the report cases build one scenario.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SCENARIO = ROOT / "scenarios" / "gitlab-hosted-oss.yaml"


@dataclass
class Case:
    """One bad input: the arguments (``{tmp}`` is the case's temp dir) and what must happen."""

    name: str
    argv: list[str]
    setup: Callable[[Path], None] = lambda tmp: None
    env: dict[str, str] = field(default_factory=dict)
    expect_ok: str | None = None      # exit 0 is right when stdout+stderr holds this text
    timeout_s: float = 60.0


def fifo(name: str) -> Callable[[Path], None]:
    return lambda tmp: os.mkfifo(tmp / name)


def loop(name: str) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        (tmp / name).symlink_to(tmp / f"{name}.2")
        (tmp / f"{name}.2").symlink_to(tmp / name)
    return make


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).write_text(text, encoding="utf-8")


def big_log(tmp: Path) -> None:
    with open(tmp / "big.log", "wb") as fh:
        fh.write(b"#5 [2/3] RUN make\n#5 CACHED\n" * 3)
        fh.truncate(300 * 1024 * 1024)           # sparse: 300 MiB, mostly NULs after the head


def big_text_log(tmp: Path) -> None:
    line = b"Step 2/9 : RUN make\n ---> Using cache\n"
    with open(tmp / "bigtext.log", "wb") as fh:
        for _ in range(300 * 1024 * 1024 // (len(line) * 4096)):
            fh.write(line * 4096)


def foreign_out(tmp: Path) -> None:
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("a user's own file", encoding="utf-8")


def data_copy(tmp: Path) -> None:
    shutil.copytree(SAMPLE, tmp / "data")


def scenario_with(extra: str) -> Callable[[Path], None]:
    text = SCENARIO.read_text(encoding="utf-8")
    return lambda tmp: (tmp / "s.yaml").write_text(text + extra, encoding="utf-8")


def duplicate_key(tmp: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("name:"))
    (tmp / "s.yaml").write_text(text + "\n" + first + "-again\n", encoding="utf-8")


FETCH = ["fetch", "--url", "http://127.0.0.1:9", "--project", "a/b", "--data", "{tmp}/raw"]
SCAN = ["registry-scan", "--url", "http://127.0.0.1:9", "--project", "a/b"]
REPORT = ["report", "--scenario", str(SCENARIO), "--jobs", "2"]

CASES = [
    Case("buildlog /dev/zero", ["buildlog", "/dev/zero"]),
    Case("buildlog /dev/null", ["buildlog", "/dev/null"]),
    Case("buildlog FIFO", ["buildlog", "{tmp}/p"], fifo("p"), timeout_s=20),
    Case("buildlog symlink loop", ["buildlog", "{tmp}/l"], loop("l")),
    Case("buildlog directory", ["buildlog", "{tmp}"]),
    Case("buildlog missing", ["buildlog", "{tmp}/none.log"]),
    Case("buildlog 300 MiB sparse (binary)", ["buildlog", "{tmp}/big.log"], big_log),
    Case("buildlog 300 MiB text: cut, said", ["buildlog", "{tmp}/bigtext.log"], big_text_log,
         expect_ok="cut at", timeout_s=120),
    Case("data --data /dev/zero", ["data", "--data", "/dev/zero"]),
    Case("data --data FIFO", ["data", "--data", "{tmp}/p"], fifo("p"), timeout_s=20),
    Case("data --data symlink loop", ["data", "--data", "{tmp}/l"], loop("l")),
    Case("data --data metadata.json FIFO", ["data", "--data", "{tmp}/data"],
         lambda tmp: (data_copy(tmp), (tmp / "data" / "metadata.json").unlink(),
                      os.mkfifo(tmp / "data" / "metadata.json")), timeout_s=20),
    Case("data --data jobs.parquet symlink loop", ["data", "--data", "{tmp}/data"],
         lambda tmp: (data_copy(tmp), (tmp / "data" / "jobs.parquet").unlink(),
                      loop("x")(tmp), (tmp / "data" / "jobs.parquet").symlink_to(tmp / "x"))),
    Case("model --data symlink loop", ["model", "--data", "{tmp}/l"], loop("l")),
    Case("model --scenario /dev/zero", ["model", "--scenario", "/dev/zero"]),
    Case("model --scenario FIFO", ["model", "--scenario", "{tmp}/p"], fifo("p"), timeout_s=20),
    Case("model --scenario symlink loop", ["model", "--scenario", "{tmp}/l"], loop("l")),
    Case("model --scenario duplicate key", ["model", "--scenario", "{tmp}/s.yaml"],
         duplicate_key),
    Case("model --scenario nested duplicate key", ["model", "--scenario", "{tmp}/s.yaml"],
         scenario_with("\nx_dup:\n  a: 1\n  a: 2\n")),
    Case("model --samples 0", ["model", "--samples", "0"]),
    Case("model --samples 10**9", ["model", "--samples", "1000000000"]),
    Case("fetch token with trailing newline", FETCH, env={"GITLAB_TOKEN": "glpat-abc\n"},
         expect_ok=None),
    Case("fetch token with CR LF", FETCH, env={"GITLAB_TOKEN": "glpat-abc\r\n"}),
    Case("fetch token with inner newline", FETCH, env={"GITLAB_TOKEN": "glpat-a\nb"}),
    Case("fetch token with NUL", FETCH, env={"GITLAB_TOKEN": "glpat-a\x01b"}),
    Case("fetch token of spaces", FETCH, env={"GITLAB_TOKEN": "   "}),
    Case("registry-scan token with trailing newline", SCAN, env={"GITLAB_TOKEN": "glpat-x\n"}),
    Case("fetch --data symlink loop", [*FETCH[:-1], "{tmp}/l"], loop("l"),
         env={"GITLAB_TOKEN": "glpat-abc"}),
    Case("report --data symlink loop", [*REPORT, "--data", "{tmp}/l", "--out", "{tmp}/site"],
         loop("l")),
    Case("report --data FIFO", [*REPORT, "--data", "{tmp}/p", "--out", "{tmp}/site"],
         fifo("p"), timeout_s=20),
    Case("report --scenario FIFO", ["report", "--scenario", "{tmp}/p", "--out", "{tmp}/site"],
         fifo("p"), timeout_s=20),
    Case("report --out a folder of the user's", [*REPORT, "--out", "{tmp}/mine"],
         foreign_out, timeout_s=600),
    Case("report --out inside the dataset", [*REPORT, "--data", "{tmp}/data",
                                             "--out", "{tmp}/data/site"],
         data_copy, timeout_s=600),
    Case("report --out the dataset itself", [*REPORT, "--data", "{tmp}/data",
                                             "--out", "{tmp}/data"],
         data_copy, timeout_s=600),
]


def classify(case: Case, rc: int | None, out: str, err: str) -> str:
    """``clean``, ``traceback``, ``accepted`` or ``hang`` (see the module docstring)."""
    if rc is None:
        return "hang"
    if "Traceback" in err or rc not in (0, 2):
        return "traceback"
    if rc == 0:
        return "clean" if case.expect_ok and case.expect_ok in out + err else "accepted"
    last = (err.strip().splitlines() or [""])[-1]
    return "clean" if last.startswith("cachecost: error: ") else "traceback"


def run_case(case: Case, src: str | None = None) -> tuple[str, str]:
    """Run one case in a fresh temp dir; return its class and the last line of stderr."""
    with tempfile.TemporaryDirectory(prefix="cachecost-sweep-") as scratch:
        tmp = Path(scratch)
        case.setup(tmp)
        argv = [a.replace("{tmp}", scratch) for a in case.argv]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GITLAB_", "CI_", "PYTHON_GITLAB"))}
        env.update(case.env, PYTHON_GITLAB_CFG=str(tmp / "no-such.cfg"))
        if src:
            env["PYTHONPATH"] = src
        proc = subprocess.Popen([sys.executable, "-m", "cachecost", *argv], cwd=scratch,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True)
        try:
            out, err = proc.communicate(timeout=case.timeout_s)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            rc = None
        if case.name.startswith("report --out a folder") and not (tmp / "mine" / "thesis.tex"
                                                                  ).is_file():
            err += "\n[the user's file is gone]"
        last = (err.strip().splitlines() or ["(no stderr)"])[-1]
        return classify(case, rc, out, err), last


def main() -> int:
    """Run the cases (or those whose name holds ``--only``); print a table and the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="run the cases whose name holds this text")
    parser.add_argument("--src", help="run the cachecost package in this src/ folder instead")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    for case in CASES:
        if args.only not in case.name:
            continue
        verdict, last = run_case(case, args.src)
        counts[verdict] += 1
        print(f"{verdict:9}  {case.name:45}  {last[:110]}", flush=True)
    print("\n" + ", ".join(f"{k} {counts[k]}" for k in ("clean", "traceback", "accepted",
                                                         "hang")) + f" (of {sum(counts.values())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
