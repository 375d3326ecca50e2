"""The storage pack's unit: GitLab sells it as "10 GB" and counts it as 10 GiB.

GitLab keeps a namespace's purchased storage in megabytes and compares
``additional_purchased_storage_size.megabytes`` (Rails: x 1,048,576) with the namespace's
bytes (ee/app/models/namespaces/storage/root_size.rb); a pack is 10,240 MiB = 10 GiB.
Before, the page's source said "$60 per 10 GB" beside the model's "$60 per 10 GiB a year"
with nothing saying which one the model counts.
"""

from __future__ import annotations

import numpy as np

from cachecost.model.keys import key_spec
from cachecost.model.money import PACK_GIB, storage_packs
from cachecost.report.names import format_amount
from cachecost.report.sources import SOURCES, resolve_citation


def test_the_source_the_key_and_the_words_name_the_same_pack():
    """The source quotes GitLab's "10 GB" and says it is counted as 10 GiB; the key's unit
    and doc say 10 GiB, its doc names the "10 GB" it is sold as; the reader's words are
    per 10 GiB; the key's citation resolves to that very source."""
    source = SOURCES["gitlab-storage-price"]
    assert '"10 GB"' in source.title and "10 GiB" in source.title
    spec = key_spec("storage.usd_per_10gib_year")
    assert spec is not None and spec.unit == "USD/(10 GiB year)"
    assert '"10 GB"' in spec.doc and "10 GiB" in spec.doc
    assert '"10 GB"' in spec.range_reason and "10 GiB" in spec.range_reason
    assert format_amount(60.0, spec.unit) == "$60 per 10 GiB a year"
    assert resolve_citation(spec.citation)[1] == ["gitlab-storage-price"]


def test_a_pack_holds_ten_gibibytes_not_ten_gigabytes():
    """By hand: 10,500,000,000 bytes is 9.779 GiB (/ 2^30), within one 10 GiB pack
    (10,240 MiB = 10,737,418,240 bytes); with decimal 10 GB packs it would need two.
    10,250 MiB (10,747,904,000 bytes, 10 MiB over 10 GiB) needs a second pack."""
    assert PACK_GIB * 2**30 == 10_240 * 1_048_576 == 10_737_418_240
    gib = np.array([10_500_000_000, 10_737_418_240, 10_747_904_000]) / 2**30
    assert storage_packs(gib, 0.0, 0.0).tolist() == [1.0, 1.0, 2.0]
