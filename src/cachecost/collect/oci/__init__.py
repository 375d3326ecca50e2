"""Layer-level registry scan through the OCI distribution API (Docker Registry HTTP API V2).

GitLab's API reports each tag's total size, which counts a layer shared by ten
tags ten times. This package reads the manifests themselves, records every
layer and config blob with its digest and size, and answers what a registry
that stores each blob once (GitLab.com counts each layer once per root
namespace) really holds, and how much of it is build cache::

    from cachecost.collect.oci import scan_registry
    result = scan_registry("http://127.0.0.1:5000", repositories=["qemu/debian"])
    result.summary["total"]["unique_bytes"]

* :mod:`~cachecost.collect.oci.client`     HTTP: auth challenges, retries, 429, errors
* :mod:`~cachecost.collect.oci.manifests`  parse manifests and indexes into blobs
* :mod:`~cachecost.collect.oci.credentials` where credentials come from (env, GitLab config)
* :mod:`~cachecost.collect.oci.scan`       walk repositories and tags; rows for ``registry_layers``
* :mod:`~cachecost.collect.oci.summary`    sum-of-tags vs unique bytes, cache sharing, stale tags
"""

from cachecost.collect.oci.client import RegistryClient
from cachecost.collect.oci.scan import ScanResult, scan_registry

__all__ = ["RegistryClient", "ScanResult", "scan_registry"]
