"""Benchmark ``cachecost registry-scan`` against a real docker-registry with 20 ms latency.

Starts Debian's ``docker-registry`` on 127.0.0.1, pushes a synthetic project
(image repositories sharing base layers, a kaniko-style cache repository per
image, multi-arch tags), and puts a small 127.0.0.1 proxy in front of it that
adds a fixed delay to every request. It then scans through the proxy with one
worker and with the default pool, and prints manifests per second, requests
and wall time for both, plus sum-of-tags vs unique bytes for the bench set and
for the test set of ``tests/registry``.

    .venv/bin/python scripts/bench_registry_scan.py [--latency-ms 20] [--images 12]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "registry"))
from registry_testkit import (  # noqa: E402 - path set just above
    OCI_INDEX,
    OCI_MANIFEST,
    Pusher,
    RegistryServer,
    free_port,
    make_layer,
    populate,
    registry_available,
)

from cachecost.collect.oci import scan_registry  # noqa: E402
from cachecost.collect.oci.scan import DEFAULT_MAX_WORKERS  # noqa: E402
from cachecost.textfmt import format_bytes  # noqa: E402

_FORWARD = ("Content-Type", "Docker-Content-Digest", "Link", "WWW-Authenticate", "Location")


class LatencyProxy:
    """Forward GETs to ``upstream`` after sleeping ``latency_s``; count requests."""

    def __init__(self, upstream: str, latency_s: float) -> None:
        self.count = 0
        lock = threading.Lock()
        outer = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per response

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                with lock:
                    outer.count += 1
                time.sleep(latency_s)
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("accept", "authorization")}
                resp = session.get(upstream + self.path, headers=headers, allow_redirects=False)
                self.send_response(resp.status_code)
                for key in _FORWARD:
                    if key in resp.headers:
                        self.send_header(key, resp.headers[key])
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def push_bench_set(pusher: Pusher, images: int, tags_per_image: int) -> None:
    """Push ``images`` image repos with shared bases, each with a kaniko cache and a 2-arch tag."""
    now = datetime.now(UTC)
    bases = [make_layer(f"base{i}", 40_000) for i in range(3)]
    for i in range(images):
        repo = f"bench/proj/image{i:02d}"
        base = [bases[i % 3], make_layer(f"toolchain{i % 4}", 30_000)]
        for t in range(tags_per_image):
            created = (now - timedelta(days=3 * t)).strftime("%Y-%m-%dT%H:%M:%SZ")
            step = make_layer(f"img{i}-step{t}", 8_000)
            pusher.push_image(repo, f"t{t:02d}", [*base, step], created=created)
            # kaniko: one single-layer cache image per RUN step, same blob as the image's
            pusher.push_image(f"{repo}-cache", f"{i:02d}{t:02d}" + "c" * 60, [step],
                              created=created)
        amd = pusher.push_image(repo, None, [*base, make_layer(f"img{i}-amd", 5_000)],
                                created=now.isoformat(), media_type=OCI_MANIFEST)
        arm = pusher.push_image(repo, None, [make_layer(f"img{i}-arm", 5_000)],
                                created=now.isoformat(), media_type=OCI_MANIFEST,
                                arch="arm64")
        pusher.push_index(repo, "multi", [
            (amd[0], {"os": "linux", "architecture": "amd64"}, amd[1]),
            (arm[0], {"os": "linux", "architecture": "arm64"}, arm[1]),
        ], media_type=OCI_INDEX)


def _line(label: str, result, proxy_requests: int) -> str:
    rate = result.manifest_count / result.duration_s
    return (f"{label:<26} {result.manifest_count:>5} manifests  {proxy_requests:>5} requests  "
            f"{result.duration_s:6.2f} s  {rate:7.1f} manifests/s")


def _sizes(label: str, total: dict) -> str:
    ratio = total["sum_of_tags_bytes"] / total["unique_bytes"]
    return (f"{label:<26} sum of tags {format_bytes(total['sum_of_tags_bytes']):>10} "
            f"({total['sum_of_tags_bytes']:,} B)  unique {format_bytes(total['unique_bytes']):>10}"
            f" ({total['unique_bytes']:,} B)  ratio {ratio:.2f}x  "
            f"cache-only {total['cache_only_bytes']:,} B  "
            f"stale cache tags {total['stale_cache_tags']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--tags", type=int, default=8, help="tags per image repository")
    args = parser.parse_args()
    if not registry_available():
        print("bench_registry_scan: /usr/bin/docker-registry not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        test_reg = RegistryServer(Path(tmp) / "tests").start()
        bench_reg = RegistryServer(Path(tmp) / "bench").start()
        try:
            populate(Pusher(test_reg.url))
            test_total = scan_registry(test_reg.url).summary["total"]
            started = time.perf_counter()
            push_bench_set(Pusher(bench_reg.url), args.images, args.tags)
            push_s = time.perf_counter() - started
            proxy = LatencyProxy(bench_reg.url, args.latency_ms / 1000)
            print(f"registry: docker-registry 2.8 on 127.0.0.1, proxy adding "
                  f"{args.latency_ms:g} ms per request; bench set pushed in {push_s:.1f} s")
            runs = []
            for workers in (1, DEFAULT_MAX_WORKERS):
                before = proxy.count
                result = scan_registry(proxy.url, max_workers=workers)
                runs.append((f"workers={workers}", result, proxy.count - before))
            proxy.close()
        finally:
            test_reg.stop()
            bench_reg.stop()
    for label, result, count in runs:
        print(_line(label, result, count))
    bench_total = runs[-1][1].summary["total"]
    print(_sizes("test set (tests/registry)", test_total))
    print(_sizes("bench set", bench_total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
