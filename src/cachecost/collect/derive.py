"""Columns of the jobs table derived after a fetch: retried attempts, image builds.

    jobs = apply_mapping(flag_retried(jobs), ImageMapper(...))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cachecost.collect.mapping import ImageMapper


def flag_retried(jobs: pd.DataFrame) -> pd.DataFrame:
    """Mark every attempt but the latest of a (pipeline, job name) as ``is_retried``."""
    if jobs.empty:
        return jobs
    latest = jobs.groupby(["pipeline_id", "name"])["job_id"].transform("max")
    jobs = jobs.copy()
    jobs["is_retried"] = (jobs["job_id"] != latest).to_numpy()
    return jobs


def apply_mapping(jobs: pd.DataFrame, mapper: ImageMapper) -> pd.DataFrame:
    """Set ``is_container_build`` and ``image`` on every job from the mapper."""
    if jobs.empty:
        return jobs
    jobs = jobs.copy()
    pairs = jobs[["name", "stage"]].drop_duplicates()
    flags = {(n, s): mapper.is_container_build(n, s) for n, s in pairs.itertuples(index=False)}
    is_cb = np.fromiter((flags[(n, s)] for n, s in zip(jobs["name"], jobs["stage"],
                                                         strict=True)), bool, len(jobs))
    images = {n: mapper.image_for(n) for n in jobs["name"].unique()}
    jobs["is_container_build"] = is_cb
    jobs["image"] = jobs["name"].map(images).astype(object).where(is_cb, None)
    jobs["image"] = jobs["image"].where(jobs["image"].notna(), None)
    return jobs
