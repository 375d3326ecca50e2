"""A GitLab stand-in: an HTTP server on 127.0.0.1 shaped like GitLab's REST API.

Tests and demos drive python-gitlab over real HTTP against it, so the whole
fetch path (pagination, rate limits, retries, faults) runs without a token or
the internet. Data: :mod:`cachecost.standin.data`; job logs:
:mod:`cachecost.standin.buildlog`; server and fault switches:
:mod:`cachecost.standin.server`; command line: ``python -m cachecost.standin``;
the newcomer's demo: ``python -m cachecost.standin.demo``.

    from cachecost.standin import Faults, StandinData, start_standin
    with start_standin(StandinData.from_sample(days=5), tokens={"t": {"read_api"}}) as srv:
        ...  # srv.url, srv.counts, srv.faults
"""

from cachecost.standin.data import StandinData
from cachecost.standin.server import Faults, StandinServer, start_standin

__all__ = ["Faults", "StandinData", "StandinServer", "start_standin"]
