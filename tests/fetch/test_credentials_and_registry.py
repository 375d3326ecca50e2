"""Credentials the ecosystem's way, rate-limit obedience, and a registry that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.collect.gitlab.client import RateLimitGuard, connect, resolve_credentials
from cachecost.collect.gitlab.registry import fetch_tag_details
from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.standin import StandinServer

from .fetchkit import PROJECT, TOKEN, fetch_cli


def write_cfg(path: Path, url: str, token: str = TOKEN, section: str = "standin") -> Path:
    path.write_text(f"[global]\ndefault = {section}\n\n[{section}]\nurl = {url}\n"
                    f"private_token = {token}\n")
    return path


def test_python_gitlab_config_section(standin: StandinServer, monkeypatch, tmp_path: Path,
                                      capsys) -> None:
    cfg = write_cfg(tmp_path / "pg.cfg", standin.url)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(cfg))
    out = tmp_path / "data"
    assert main(["fetch", "--gitlab-config", "standin", "--project", PROJECT,
                 "--data", str(out), "--logs-per-image", "0"]) == 0
    text = capsys.readouterr()
    assert load_dataset(out).metadata["instance_url"] == standin.url
    assert TOKEN not in text.out + text.err


def test_config_section_found_by_url(standin: StandinServer, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(write_cfg(tmp_path / "pg.cfg", standin.url)))
    creds = resolve_credentials(standin.url)
    assert creds.token == TOKEN and "standin" in creds.origin
    assert TOKEN not in repr(creds)


def test_env_token_beats_config_and_ci_server_url_is_the_default(monkeypatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(write_cfg(tmp_path / "c", "https://x.example",
                                                          token="from-config")))
    env = {"CI_SERVER_URL": "https://x.example", "GITLAB_TOKEN": "from-env",
           "CI_JOB_TOKEN": "job", "PYTHON_GITLAB_CFG": str(tmp_path / "c")}
    creds = resolve_credentials(None, environ=env)
    assert (creds.url, creds.token, creds.origin) == (
        "https://x.example", "from-env", "environment variable GITLAB_TOKEN")


def test_config_section_for_another_url_is_refused(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(write_cfg(tmp_path / "c", "https://a.example")))
    with pytest.raises(CachecostError, match="is for https://a.example, not --url"):
        resolve_credentials("https://b.example", "standin")
    with pytest.raises(CachecostError, match="No config available|section"):
        resolve_credentials(None, "missing-section")


def test_rate_limit_guard_pauses_until_reset_when_nearly_exhausted() -> None:
    slept: list[float] = []
    guard = RateLimitGuard(sleep=slept.append, clock=lambda: 1000.0)

    class Resp:
        headers = {"RateLimit-Limit": "2000", "RateLimit-Remaining": "10",
                   "RateLimit-Reset": "1042"}

    guard(Resp())
    Resp.headers = {"RateLimit-Limit": "2000", "RateLimit-Remaining": "1500",
                    "RateLimit-Reset": "1042"}
    guard(Resp())
    assert slept == [42.0]


@pytest.mark.parametrize("mode, words", [("disabled", "disabled"), ("forbidden", "forbidden")])
def test_registry_unavailable_is_skipped_and_said(standin: StandinServer, token_env: str,
                                                  tmp_path: Path, capsys, mode: str,
                                                  words: str) -> None:
    standin.data.registry_mode = mode
    assert main(["fetch", "--url", standin.url, "--project", PROJECT, "--data", str(tmp_path),
                 "--logs-per-image", "0"]) == 0
    summary = capsys.readouterr().out
    assert "registry: " in summary and words in summary
    ds = load_dataset(tmp_path)
    assert len(ds.registry_repositories) == 0 and len(ds.jobs) == len(standin.data.jobs())
    assert words in ds.metadata["registry_note"]


def test_registry_summary_uses_the_same_units_as_cachecost_data(
        standin: StandinServer, token_env: str, tmp_path: Path, capsys) -> None:
    """The fetch summary gives the tags' summed size as `cachecost data` does (binary
    units through textfmt.format_bytes: '37.1 GiB', not '39.89 GB')."""
    from cachecost.textfmt import format_bytes

    assert main(["fetch", "--url", standin.url, "--project", PROJECT, "--data", str(tmp_path),
                 "--logs-per-image", "0"]) == 0
    summary = " ".join(capsys.readouterr().out.split())
    tags = load_dataset(tmp_path).registry_tags
    expected = format_bytes(float(tags["total_size_bytes"].sum()))
    assert expected.endswith("GiB") and f"{expected} summed over tags" in summary, summary


def test_tag_details_fetched_with_bounded_concurrency(standin: StandinServer, token_env,
                                                      tmp_path: Path) -> None:
    standin.faults.latency_ms = 30
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "0") == 0
    assert standin.counts["registry/tag"] == len(standin.data.tags_frame())
    assert standin.counts["registry_repository"] == len(standin.data.repositories_frame())
    # the jobs walk (4 at once) and, beside it, the pipelines list then the registry (4)
    assert 4 < standin.max_in_flight <= 8
    # the tag details alone: concurrent, and never more than the bound
    standin.reset_counts()
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN})
    tags = standin.data.tags_frame()
    pairs = list(zip(tags["repository_id"], tags["tag_name"], strict=True))
    assert len(fetch_tag_details(client, 11167699, pairs, workers=4)) == len(pairs)
    assert standin.counts["total"] == len(pairs) and 1 < standin.max_in_flight <= 4


def test_registry_layers_flag_hands_the_fetched_dataset_to_the_scan(
        standin: StandinServer, token_env, tmp_path: Path, monkeypatch) -> None:
    """`fetch --registry-layers` runs `registry-scan --project P --data DIR` on what it fetched.

    The scan itself is tested against a real registry in tests/registry.
    """
    from cachecost.commands import registry_scan

    seen = {}

    def fake_scan(args):
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(registry_scan, "run", fake_scan)
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "0", "--registry-layers") == 0
    assert seen["project"] == PROJECT and seen["url"] == standin.url
    assert seen["data"] == str(tmp_path) and (tmp_path / "metadata.json").is_file()
    assert seen["ttl_hours"] == 336 and seen["registry"] is None
    seen.clear()
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "0") == 0
    assert seen == {}


def test_registry_layers_scan_that_fails_says_the_fetch_is_saved(
        standin: StandinServer, token_env, tmp_path: Path, monkeypatch, capsys) -> None:
    """`fetch --registry-layers`: the fetch is saved before the scan runs; when the scan
    fails, its one line says so and how to run the scan alone (exit 2)."""
    from cachecost.commands import registry_scan

    def failing_scan(args):
        raise CachecostError("registry http://127.0.0.1:9: unreachable after 2 attempts")

    monkeypatch.setattr(registry_scan, "run", failing_scan)
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "0", "--registry-layers") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert f"fetched into {tmp_path}" in err[0] and "unreachable after 2 attempts" in err[0]
    assert f"cachecost registry-scan --project {PROJECT} --data {tmp_path}" in err[0]
    assert len(load_dataset(tmp_path).jobs) == len(standin.data.jobs())


def test_proxy_settings_are_read_once_from_the_environment(monkeypatch) -> None:
    """requests would re-read them for every request; cachecost reads them at connect."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = connect("https://gitlab.example.com", environ={"GITLAB_TOKEN": TOKEN})
    assert client.gl.session.proxies.get("https") == "http://proxy.example:3128"
    assert client.gl.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "gitlab.example.com")
    client = connect("https://gitlab.example.com", environ={"GITLAB_TOKEN": TOKEN})
    assert "https" not in client.gl.session.proxies


@pytest.mark.parametrize("url", ["http://127.0.0.1:notaport", "http://127.0.0.1:99999",
                                 "http://127.0.0.1:0", "http://:8080"])
def test_url_with_a_bad_port_or_no_host_is_one_line(url: str, monkeypatch, tmp_path: Path,
                                                     capsys) -> None:
    """A port that is not a number in 1-65535, or no host, is refused before any request:
    requests raised InvalidURL (a traceback, exit 1) at the first request before."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    out = tmp_path / "data"
    assert main(["fetch", "--url", url, "--project", PROJECT, "--data", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"cachecost: error: --url {url!r} is not an http(s) URL like https://gitlab.com"
    assert not out.exists()


def test_config_section_with_a_bad_url_is_one_line(monkeypatch, tmp_path: Path) -> None:
    """The url of a python-gitlab config section is checked like --url."""
    cfg = write_cfg(tmp_path / "pg.cfg", "http://127.0.0.1:notaport")
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(cfg))
    with pytest.raises(CachecostError, match=r"--gitlab-config standin: url .* is not an"):
        resolve_credentials(None, "standin", environ={"PYTHON_GITLAB_CFG": str(cfg)})
