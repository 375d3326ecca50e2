"""Talking to GitLab's REST API through python-gitlab, one module per API resource.

* :mod:`.client`    credentials, the python-gitlab client, retries, rate limits, errors
* :mod:`.projects`  the project and its storage statistics
* :mod:`.pipelines` pipelines by ``updated_after``; pipeline details
* :mod:`.jobs`      project jobs, newest first, keyset-paginated
* :mod:`.joblogs`   job logs (traces), fetched concurrently with a bound
* :mod:`.registry`  container registry repositories, sizes and tag details

:mod:`cachecost.collect.fetch` strings them together into an incremental, resumable fetch.
"""
