"""The dataset schema: tables, columns, their kinds and units.

A dataset is a directory holding one Parquet file per table plus
``metadata.json``. Column names carry their unit (``duration_s``,
``total_size_bytes``) and booleans read as questions (``is_retried``).
``data/README.md`` documents every column; :data:`TABLES` is the machine
version that :func:`cachecost.dataset.io.load_dataset` checks against.

Kinds: ``int`` (int64; ``int?`` may hold nulls and then loads as Int64),
``float`` (float64, NaN for unknown), ``str`` (string, may be null),
``bool``, ``timestamp`` (UTC, may be null).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 1

KINDS = ("int", "int?", "float", "str", "bool", "timestamp")


@dataclass(frozen=True)
class Column:
    """One column: its name, kind and a one-line meaning (with units)."""

    name: str
    kind: str
    doc: str
    #: a file written before the column existed may lack it; it then loads as all null
    optional: bool = False


def _cols(*specs: tuple[str, str, str] | tuple[str, str, str, bool]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


PIPELINES = _cols(
    ("pipeline_id", "int", "GitLab pipeline id (unique per instance)"),
    ("iid", "int", "pipeline number within the project"),
    ("ref", "str", "branch or tag the pipeline ran for (user-supplied text)"),
    ("sha", "str", "commit SHA"),
    ("source", "str", "push, merge_request_event, schedule, web, api, trigger, ..."),
    ("status", "str", "success, failed, canceled, skipped, running, ..."),
    ("created_at", "timestamp", "when the pipeline was created (UTC)"),
    ("updated_at", "timestamp", "last update (UTC); the incremental-fetch watermark"),
    ("started_at", "timestamp", "when its first job started (UTC), null if never"),
    ("finished_at", "timestamp", "when it finished (UTC), null while running"),
    ("duration_s", "float", "running time in seconds as GitLab reports it; NaN if unknown"),
    ("queued_duration_s", "float", "seconds spent pending before the first job ran; NaN"),
)

JOBS = _cols(
    ("job_id", "int", "GitLab job id"),
    ("pipeline_id", "int", "the pipeline it belongs to"),
    ("name", "str", "job name (user-supplied text), e.g. arm64-debian-cross-container"),
    ("stage", "str", "stage name, e.g. containers, build, test"),
    ("status", "str", "success, failed, canceled, skipped, manual, running, ..."),
    ("ref", "str", "branch or tag"),
    ("created_at", "timestamp", "when the job was created (UTC)"),
    ("started_at", "timestamp", "when it started running (UTC), null if never"),
    ("finished_at", "timestamp", "when it finished (UTC), null if not"),
    ("duration_s", "float", "running time in seconds (billed time); NaN when null in the API"),
    ("queued_duration_s", "float", "seconds pending before a runner took it; NaN"),
    ("is_retried", "bool", "a later attempt of the same job exists (still billed)"),
    ("is_allowed_failure", "bool", "a failure of this job does not fail the pipeline"),
    ("failure_reason", "str", "GitLab's failure_reason, null unless failed"),
    ("runner_description", "str", "runner that ran it, null if none"),
    ("is_container_build", "bool", "the job builds a CI container image"),
    ("image", "str", "the image it builds (e.g. debian-arm64-cross), null if unmapped/none"),
    ("cache_outcome", "str", "hit, partial, miss, unknown from its log; null if not sampled"),
    ("cached_steps", "int?", "build steps (RUN, COPY, ADD, WORKDIR) the log shows served "
     "from cache; null if not sampled"),
    ("executed_steps", "int?", "build steps (RUN, COPY, ADD, WORKDIR) the log shows executed "
     "(under kaniko: also the steps its cache never covers); null if not sampled"),
    ("builder", "str", "builder whose markers the log shows (docker, buildkit, kaniko, "
     "buildah); null if not sampled or none found", True),
    ("run_steps", "int?", "how many of cached_steps + executed_steps are RUN instructions "
     "(kaniko's cached layers per cache key); null if not sampled", True),
)

REGISTRY_REPOSITORIES = _cols(
    ("repository_id", "int", "GitLab registry repository id"),
    ("path", "str", "full path, e.g. qemu-project/qemu/qemu/debian-arm64-cross"),
    ("name", "str", "name within the project, e.g. qemu/debian-arm64-cross"),
    ("image", "str", "the CI image it holds, null if not one of the mapped images"),
    ("is_cache_repository", "bool", "holds build cache (a *-cache or */cache repository)"),
    ("created_at", "timestamp", "when the repository was created (UTC)"),
    ("tags_count", "int", "number of tags"),
    ("size_bytes", "float", "deduplicated repository size where the server offers it; NaN"),
)

REGISTRY_TAGS = _cols(
    ("repository_id", "int", "the repository it belongs to"),
    ("tag_name", "str", "tag (user-supplied text), e.g. latest"),
    ("digest", "str", "manifest digest, null if unknown"),
    ("total_size_bytes", "float", "compressed size of all its layers (shared ones counted again)"),
    ("created_at", "timestamp", "when the tag was pushed (UTC), null if unknown"),
)

REGISTRY_LAYERS = _cols(
    ("repository_path", "str", "full repository path"),
    ("tag_name", "str", "tag"),
    ("manifest_digest", "str", "digest of the (platform) manifest holding the blob"),
    ("platform", "str", "os/arch for multi-arch images, null for single-arch"),
    ("blob_digest", "str", "layer or config blob digest"),
    ("blob_kind", "str", "layer or config"),
    ("size_bytes", "int", "compressed blob size in bytes"),
    ("created_at", "timestamp", "image config's created time (UTC); read in cache repositories "
     "only, null elsewhere"),
)

IMAGE_CHANGES = _cols(
    ("image", "str", "the CI image whose inputs the commit touched, e.g. debian-arm64-cross"),
    ("commit", "str", "commit SHA on the default branch"),
    ("time", "timestamp", "the commit's committed_date (UTC): when it reached the branch"),
    ("path", "str", "the input it touched, e.g. tests/docker/dockerfiles/debian-arm64-cross.docker"),
)

FORKS = _cols(
    ("fork_id", "int", "GitLab project id of the fork"),
    ("path", "str", "the fork's path_with_namespace (user-supplied text)"),
    ("owner", "str", "the fork's root namespace (full_path): who pays its CI minutes"),
    ("created_at", "timestamp", "when the fork was made (UTC)"),
    ("last_activity_at", "timestamp", "the fork's last activity (UTC)"),
    ("is_active", "bool", "last activity inside the fetch window"),
    ("is_sampled", "bool", "its pipelines in the window were read"),
    ("pipelines", "int?", "its pipelines created in the window; null unless sampled"),
    ("image_change_pipelines", "int?",
     "of those, pipelines whose commit touched an image's inputs; null unless sampled"),
    ("sampling_fraction", "float", "sampled / active forks (same on every row); NaN if none"),
    ("window_start", "timestamp", "start of the window the pipelines were counted in (UTC)"),
    ("read_at", "timestamp", "when the fork was read (UTC)"),
)

#: Required tables, in the order they are described.
TABLES: dict[str, tuple[Column, ...]] = {
    "pipelines": PIPELINES,
    "jobs": JOBS,
    "registry_repositories": REGISTRY_REPOSITORIES,
    "registry_tags": REGISTRY_TAGS,
}

#: Tables that a dataset may hold; checked when present.
OPTIONAL_TABLES: dict[str, tuple[Column, ...]] = {
    "registry_layers": REGISTRY_LAYERS,
    "image_changes": IMAGE_CHANGES,
    "forks": FORKS,
}

ALL_TABLES: dict[str, tuple[Column, ...]] = {**TABLES, **OPTIONAL_TABLES}

#: Keys metadata.json must hold, with their JSON types.
METADATA_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "source": str,              # "gitlab" or "synthetic-sample"
    "instance_url": (str, type(None)),
    "project_path": (str, type(None)),
    "fetched_at": str,          # ISO 8601 UTC
    "is_synthetic": bool,
}

#: Values of jobs.cache_outcome.
CACHE_OUTCOMES = ("hit", "partial", "miss", "unknown")
