"""What the demos print after fetching: a next command that runs in the user's shell, and
the group demo's on-purpose 403 not worded as the user's token to fix."""

from __future__ import annotations

import sys
from pathlib import Path

from cachecost.standin.demo import cachecost_command, shown_path
from cachecost.standin.group_demo import run_group_demo

BIN = Path(sys.executable).parent
CHECKOUT = BIN.parent.parent       # .venv/bin/python -> the checkout holding .venv


def test_the_command_is_the_venvs_when_path_does_not_have_it(tmp_path):
    """`make demo-fetch` in a fresh shell: `make` installs into .venv/bin, not on PATH
    (README, "Install"), so the bare `cachecost` it printed was "command not found"."""
    assert cachecost_command(path_env="/usr/bin:/bin", cwd=CHECKOUT) == ".venv/bin/cachecost"
    assert cachecost_command(path_env="/usr/bin", cwd=tmp_path) == str(BIN / "cachecost")
    assert cachecost_command(path_env=f"{BIN}:/usr/bin", cwd=CHECKOUT) == "cachecost"
    assert shown_path(CHECKOUT / "data" / "raw" / "demo", CHECKOUT) == "data/raw/demo"


def test_the_group_demo_says_its_403_is_on_purpose(tmp_path, monkeypatch, capsys):
    """The stand-in's private-infra project answers 403 on purpose; the demo said
    "the token from environment variable GITLAB_TOKEN needs scope read_api", a variable
    the user never set, and its Next line named `cachecost`, not on PATH."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    run_group_demo(tmp_path / "grp", non_building=1, building=1)
    out, err = capsys.readouterr()
    assert "GITLAB_TOKEN" not in err and "warning" not in err
    assert ("note: fdo/multimedia/private-infra: not fetched, as intended: the stand-in "
            "answers 403 for this project") in err
    assert out.splitlines()[-1] == f"Next: {BIN / 'cachecost'} report --group grp"
