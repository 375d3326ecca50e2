"""The public sources the model's defaults rest on, and citations that link to them.

Each :class:`Source` has an id, a title, a date and the public address a
reader can open (GitLab documentation pages, kaniko source files at the
archived v1.24.0 tag, qemu-devel posts in the list archives). The model's
citations are short free text ("GitLab doc ci/pipelines/compute_minutes.md,
2025"); :func:`resolve_citation` finds the sources a citation names and drops
any reference to a file outside the project, so no page and no summary cites
a path a reader does not have.

    text, ids = resolve_citation("Bonzini, qemu-devel 2023-06-28 (shared/reference/x.md §2)")
    # ("Bonzini, qemu-devel 2023-06-28", ["qemu-azure-2023"])
    SOURCES[ids[0]].url
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_KANIKO = "https://github.com/GoogleContainerTools/kaniko"
_DOCS = "https://docs.gitlab.com/ee"
_ARCHIVE = "https://www.mail-archive.com/qemu-devel@nongnu.org"


@dataclass(frozen=True)
class Source:
    """One public source: ``id`` (stable, used in anchors), title, date and address."""

    id: str
    title: str
    date: str
    url: str


_LIST = [
    Source("gitlab-compute-minutes", "GitLab docs: Compute minutes (cost factors, forks of "
           "open-source projects)", "2025", f"{_DOCS}/ci/pipelines/compute_minutes.html"),
    Source("gitlab-community-programs", "GitLab docs: Community programs (GitLab for Open "
           "Source: 50,000 minutes a month)", "2025",
           f"{_DOCS}/subscriptions/community_programs.html"),
    Source("gitlab-buy-minutes", "GitLab docs: Purchase additional compute minutes", "2025",
           f"{_DOCS}/subscriptions/gitlab_com/compute_minutes.html"),
    Source("gitaly-3109", "gitlab-org/gitaly issue 3109: GitLab's notice of the 400-minute "
           "quota and $10 per 1,000 minutes", "2020",
           "https://gitlab.com/gitlab-org/gitaly/-/issues/3109"),
    Source("gitlab-pricing", "GitLab pricing (Free: 400 compute minutes a month)", "2026",
           "https://about.gitlab.com/pricing/"),
    Source("gitlab-hosted-runners", "GitLab docs: Hosted runners on Linux (sizes)", "2024",
           f"{_DOCS}/ci/runners/hosted_runners/linux.html"),
    Source("gitlab-storage-quotas", "GitLab docs: Storage usage quotas (the registry is not "
           "in the limit)", "2025", f"{_DOCS}/user/storage_usage_quotas.html"),
    Source("gitlab-registry-storage", "GitLab docs: Reduce container registry storage "
           "(deduplication per root namespace)", "2024-25",
           f"{_DOCS}/user/packages/container_registry/reduce_container_registry_storage.html"),
    Source("gitlab-storage-price", "gitlab-org/gitlab commit 980d1376: $60 a year per "
           "storage pack sold as \"10 GB\" (GitLab counts a pack as 10 GiB, 10,240 MiB)",
           "2022", "https://gitlab.com/gitlab-org/gitlab/-/commit/980d1376"),
    Source("gitlab-docker-layer-caching", "GitLab docs: Docker layer caching (Docker 27.0.1 "
           "and cache backends)", "2024", f"{_DOCS}/ci/docker/docker_layer_caching.html"),
    Source("gitlab-issue-457057", "gitlab-org/gitlab issue 457057: kaniko cache layers take "
           "most of the allowed space", "2024",
           "https://gitlab.com/gitlab-org/gitlab/-/issues/457057"),
    Source("qemu-oss-program-2022", "Daniel P. Berrangé, qemu-devel: QEMU joins GitLab's "
           "open-source program (forks at cost factor 0.008)", "2022-10",
           f"{_ARCHIVE}/msg913101.html"),
    Source("qemu-azure-2023", "Paolo Bonzini, qemu-devel: \"Azure infrastructure update\" "
           "(private runners, node costs, $10,000 a year of credits)", "2023-06-28",
           "https://lore.kernel.org/qemu-devel/?q=%22Azure+infrastructure+update%22"),
    Source("qemu-kaniko-thread-2024", "Daniel P. Berrangé, qemu-devel: reply to \"gitlab: use "
           "kaniko\" (storage doubles, forks rebuild from scratch)", "2024-05",
           f"{_ARCHIVE}/msg1042578.html"),
    Source("qemu-summit-2024", "qemu-devel: QEMU Summit 2024 minutes (infrastructure "
           "sponsors)", "2024-11", f"{_ARCHIVE}/msg1074248.html"),
    Source("qemu-weekly-container-builds", "Alex Bennée, qemu-devel: PULL adding the "
           "weekly-container-builds job", "2025-11-17",
           "https://lore.kernel.org/qemu-devel/?q=weekly-container-builds"),
    Source("qemu-hexagon-commit", "QEMU commit b9052d36: debian-hexagon-cross single-stage "
           "(about 3 min cached, 9 min uncached)", "2022-12",
           "https://gitlab.com/qemu-project/qemu/-/commit/b9052d36"),
    Source("qemu-container-template", "QEMU .gitlab-ci.d/container-template.yml (dind with "
           "--cache-from and inline cache)", "2025-11",
           "https://gitlab.com/qemu-project/qemu/-/blob/master/.gitlab-ci.d/"
           "container-template.yml"),
    Source("kaniko-root-go", "kaniko cmd/executor/cmd/root.go (--cache-ttl 336h, one "
           "--cache-repo)", "2025-06 (v1.24.0)",
           f"{_KANIKO}/blob/v1.24.0/cmd/executor/cmd/root.go"),
    Source("kaniko-cache-go", "kaniko pkg/cache/cache.go (expired entries are misses, not "
           "deleted)", "2025-06 (v1.24.0)", f"{_KANIKO}/blob/v1.24.0/pkg/cache/cache.go"),
    Source("kaniko-build-go", "kaniko pkg/executor/build.go (cache keys, layers reused "
           "unchanged)", "2025-06 (v1.24.0)", f"{_KANIKO}/blob/v1.24.0/pkg/executor/build.go"),
    Source("kaniko-push-go", "kaniko pkg/executor/push.go (one single-layer image per cached "
           "step)", "2025-06 (v1.24.0)", f"{_KANIKO}/blob/v1.24.0/pkg/executor/push.go"),
    Source("kaniko-archived", "GoogleContainerTools/kaniko, archived: \"this project is no "
           "longer developed or maintained\" (README at the archive commit 236ba569)",
           "2025-06-03", _KANIKO),
    Source("kaniko-run-go", "kaniko pkg/commands/run.go (a cache hit extracts each cached "
           "layer)", "2025-06 (v1.24.0)", f"{_KANIKO}/blob/v1.24.0/pkg/commands/run.go"),
    Source("gitlab-expiration-policy", "GitLab app/models/container_expiration_policy.rb "
           "(the cleanup policies' keep_n and older_than values)", "2025",
           "https://gitlab.com/gitlab-org/gitlab/-/blob/master/app/models/"
           "container_expiration_policy.rb"),
    Source("kaniko-issue-862", "kaniko issue 862: --reproducible loads the entire image into "
           "memory", "2019-11", f"{_KANIKO}/issues/862"),
    Source("kaniko-issue-909", "kaniko issue 909: memory use far above the image size",
           "2019-12", f"{_KANIKO}/issues/909"),
    Source("gitlab-mr-135263", "gitlab-org/gitlab merge request 135263: job tokens may pull "
           "from public registries", "2023",
           "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/135263"),
    Source("kaniko-issue-1459", "kaniko issue 1459: with --cache=true kaniko fails to push "
           "the cache layer", "2020-10", f"{_KANIKO}/issues/1459"),
    Source("docker-inline-cache", "Docker docs: Inline cache (min mode only)", "2025",
           "https://docs.docker.com/build/cache/backends/inline/"),
    Source("docker-registry-cache", "Docker docs: Registry cache (mode=min and mode=max)",
           "2025", "https://docs.docker.com/build/cache/backends/registry/"),
]
#: Every source by id, in the order the sources list shows them.
SOURCES: dict[str, Source] = {s.id: s for s in _LIST}

#: A source's number on a page's sources list (every source, in :data:`SOURCES` order).
PAGE_NUMBERS: dict[str, int] = {sid: n for n, sid in enumerate(SOURCES, 1)}

#: (pattern found in a citation, source id); case-insensitive, first match wins per id.
_PATTERNS: list[tuple[str, str]] = [
    (r"compute_minutes\.md|cost factor", "gitlab-compute-minutes"),
    (r"community_programs", "gitlab-community-programs"),
    (r"compute-minutes purchase|purchase doc", "gitlab-buy-minutes"),
    (r"gitaly#?\s*3109", "gitaly-3109"),
    (r"pricing page", "gitlab-pricing"),
    (r"hosted_runners|runners/hosted", "gitlab-hosted-runners"),
    (r"storage_usage_quotas", "gitlab-storage-quotas"),
    (r"reduce_container_registry_storage", "gitlab-registry-storage"),
    (r"980d1376", "gitlab-storage-price"),
    (r"GitLab docs 17\.5|docker_layer_caching|Docker >= ?27", "gitlab-docker-layer-caching"),
    (r"457057", "gitlab-issue-457057"),
    (r"msg913101", "qemu-oss-program-2022"),
    (r"Bonzini", "qemu-azure-2023"),
    (r"Berrang[eé],? qemu-devel 2024|msg1042578|seed thread", "qemu-kaniko-thread-2024"),
    (r"msg1074248|QEMU Summit", "qemu-summit-2024"),
    (r"weekly-container-builds", "qemu-weekly-container-builds"),
    (r"b9052d36", "qemu-hexagon-commit"),
    (r"container-template", "qemu-container-template"),
    (r"root\.go", "kaniko-root-go"),
    (r"cache\.go", "kaniko-cache-go"),
    (r"build\.go", "kaniko-build-go"),
    (r"push\.go", "kaniko-push-go"),
    (r"kaniko was archived|archived on 2025-06-03", "kaniko-archived"),
    (r"commands/run\.go", "kaniko-run-go"),
    (r"container_expiration_policy", "gitlab-expiration-policy"),
    (r"(?:kaniko )?issue 862|kaniko #862|issues/862", "kaniko-issue-862"),
    (r"kaniko (issue |#)?1459|issues/1459", "kaniko-issue-1459"),
    (r"kaniko (issue |#)?909|issues/909", "kaniko-issue-909"),
    (r"MR 135263|merge_requests/135263", "gitlab-mr-135263"),
    (r"inline[- ]cache docs|backends/inline", "docker-inline-cache"),
    (r"registry cache docs|backends/registry", "docker-registry-cache"),
]

# "(shared/reference/domain-facts.md §2)", "(shared/seed thread; shared/reference/x.md §5)",
# "domain-facts §6": references to files outside the project, dropped from what readers see.
_OUTSIDE = re.compile(
    r"\s*\((?:[^()]*?(?:shared/|domain-facts)[^()]*)\)"
    r"|\s*;?\s*\b(?:shared/[\w./-]+|domain-facts(?:\.md)?)(?:\s*§\s*\d+)?"
)


def strip_outside_paths(text: str) -> str:
    """Drop references to files outside the project (``shared/...``, ``domain-facts``)."""
    return re.sub(r"\s{2,}", " ", _OUTSIDE.sub("", text)).strip()


def resolve_citation(citation: str | None) -> tuple[str, list[str]]:
    """Return a citation's text for readers and the ids of the sources it names.

    The text loses any path outside the project; the ids (in :data:`SOURCES`
    order, no repeats) come from the whole original text. ``(None) -> ("", [])``.
    """
    if not citation:
        return "", []
    found = {sid for pattern, sid in _PATTERNS if re.search(pattern, citation, re.I)}
    return strip_outside_paths(citation), [sid for sid in SOURCES if sid in found]


def sources_cited(citations: list[str | None]) -> list[Source]:
    """The sources that any of ``citations`` names, in :data:`SOURCES` order."""
    ids: set[str] = set()
    for c in citations:
        ids.update(resolve_citation(c)[1])
    return [s for sid, s in SOURCES.items() if sid in ids]


def format_source_links(ids: list[str]) -> str:
    """``[n]`` links to a page's sources list (``#src-<id>``, numbered by
    :data:`PAGE_NUMBERS`) for source ids."""
    return "".join(f' <a href="#src-{html.escape(i)}" class="cachecost-cite">'
                   f"[{PAGE_NUMBERS[i]}]</a>" for i in ids if i in PAGE_NUMBERS)


def link_source_marks(escaped_text: str) -> str:
    """Turn the `` [n]`` marks (:data:`PAGE_NUMBERS`) of an escaped text into links."""
    by_number = {n: sid for sid, n in PAGE_NUMBERS.items()}
    return re.sub(r" \[(\d+)\]", lambda m: format_source_links([by_number[int(m.group(1))]])
                  if int(m.group(1)) in by_number else m.group(0), escaped_text)
