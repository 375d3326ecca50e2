"""One retry policy for every HTTP request cachecost makes: GitLab's API and OCI registries.

The retrying itself is the libraries' own, in one layer each:

* GitLab: python-gitlab's (``retry_transient_errors=True``, ``max_retries``),
  which retries 5xx/52x answers, dropped connections, truncated bodies and
  timeouts (timeouts since python-gitlab 8.5.0, PR #3405), and obeys 429 with
  ``Retry-After``. Its wait before retry ``n`` (0-based) is ``0.1 * 2**n`` s,
  or ``Retry-After`` / ``RateLimit-Reset`` when the answer has one
  (``gitlab/utils.py`` ``Retry.handle_retry_on_status`` and ``handle_retry``);
* registries: urllib3's :class:`~urllib3.util.Retry` mounted on the requests
  session (``respect_retry_after_header``, ``Retry-After`` capped at
  :attr:`RetryPolicy.max_retry_after_s`). Its wait before retry ``k`` (1-based)
  is ``0`` for ``k = 1`` and ``backoff_factor * 2**(k-1)`` after
  (``urllib3/util/retry.py`` ``Retry.get_backoff_time``).

A URL that keeps failing is therefore asked ``max_retries + 1`` times and
given up after the waits of :meth:`RetryPolicy.gitlab_backoff_s` (GitLab) or
:meth:`RetryPolicy.registry_backoff_s` (registry); at the defaults: 9 requests,
25.5 s of waiting (GitLab) and 25.4 s (registry), each under
:data:`GIVE_UP_WITHIN_S`. A server that accepts connections but never answers
adds at most ``connect_timeout_s + read_timeout_s`` per request on top
(:meth:`RetryPolicy.worst_case_s`).

    policy = RetryPolicy()
    policy.gitlab_backoff_s()        # [0.1, 0.2, 0.4, ..., 12.8]
    session.mount("https://", policy.registry_adapter())
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

#: A URL answering errors (or refusing connections) is given up within this many seconds.
GIVE_UP_WITHIN_S = 60.0
#: HTTP answers worth asking again: rate limited, or a server/gateway failure.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: python-gitlab's fixed backoff factor (``gitlab/utils.py``: ``wait_time = 2**n * 0.1``).
GITLAB_BACKOFF_FACTOR_S = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one HTTP request.

    ``max_retries`` retries after the first request (so ``max_retries + 1``
    requests at most per URL); ``connect_timeout_s`` / ``read_timeout_s`` bound
    each request's connect and each wait for bytes (requests' ``timeout`` tuple);
    ``registry_backoff_factor_s`` is urllib3's ``backoff_factor``;
    ``max_retry_after_s`` caps the wait a registry's ``Retry-After`` asks for.
    """

    max_retries: int = 8
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    registry_backoff_factor_s: float = 0.1
    max_retry_after_s: float = 60.0

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds, as requests takes them."""
        return (self.connect_timeout_s, self.read_timeout_s)

    @property
    def max_requests(self) -> int:
        """The most requests one URL gets: the first and every retry."""
        return self.max_retries + 1

    def gitlab_backoff_s(self) -> list[float]:
        """python-gitlab's waits before each retry, in seconds: ``0.1 * 2**n``, n = 0..R-1."""
        return [GITLAB_BACKOFF_FACTOR_S * 2**n for n in range(self.max_retries)]

    def registry_backoff_s(self) -> list[float]:
        """urllib3's waits before each retry, in seconds, as its :class:`Retry` computes them.

        Walks a fresh :meth:`registry_retry` through ``max_retries`` failed
        answers (503 without ``Retry-After``) and reads ``get_backoff_time()``
        after each, so the schedule is the library's, not a copy of its formula.
        """
        retry = self.registry_retry()
        waits = []
        for _ in range(self.max_retries):
            retry = retry.increment(method="GET", url="/", error=ConnectionError("refused"))
            waits.append(retry.get_backoff_time())
        return waits

    def worst_case_s(self, backoff_s: list[float], *, answering: bool = True) -> float:
        """Seconds before a URL that keeps failing is given up.

        ``answering``: the server answers errors (or refuses connections) at
        once, so only the waits count; otherwise every request also waits out
        both timeouts (a server that never answers).
        """
        per_request = 0.0 if answering else self.connect_timeout_s + self.read_timeout_s
        return sum(backoff_s) + self.max_requests * per_request

    def registry_retry(self) -> Retry:
        """urllib3's :class:`Retry` for registry requests (GET and HEAD only)."""
        return Retry(
            total=self.max_retries,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.registry_backoff_factor_s,
            respect_retry_after_header=True,
            retry_after_max=int(self.max_retry_after_s),
            raise_on_status=False,       # the caller turns the last answer into one line
            raise_on_redirect=False,
        )

    def registry_adapter(self, *, pool_maxsize: int = 10,
                         on_request: Callable[[], None] | None = None) -> CountingAdapter:
        """A requests adapter that retries by :meth:`registry_retry`."""
        return CountingAdapter(on_request=on_request, max_retries=self.registry_retry(),
                               pool_maxsize=pool_maxsize)


DEFAULT_POLICY = RetryPolicy()


class CountingAdapter(HTTPAdapter):
    """requests' adapter that reports every request it sends, retries included.

    ``on_request()`` is called once per request sent; ``on_no_answer()`` once
    per call that ends without an answer (connection refused or dropped,
    timeout). urllib3 retries inside :meth:`send` (the adapter's
    ``max_retries``; none by default): one call made one request plus the
    failures its :class:`Retry` history records, or, when it ran out of retries
    on connection errors, the first request and every retry.
    """

    def __init__(self, *, on_request: Callable[[], None] | None = None,
                 on_no_answer: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_request = on_request
        self._on_no_answer = on_no_answer

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        """Send ``request``; report each request made (see the class docstring)."""
        try:
            response = super().send(request, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            # retries ran out (MaxRetryError): the first request and ``total`` retries
            total = self.max_retries.total
            exhausted = bool(exc.args) and isinstance(exc.args[0], MaxRetryError)
            self._report(total if exhausted and isinstance(total, int) else 0)
            if self._on_no_answer is not None:
                self._on_no_answer()
            raise
        retries = getattr(response.raw, "retries", None)
        self._report(len(retries.history) if retries is not None else 0)
        return response

    def _report(self, failed: int) -> None:
        if self._on_request is not None:
            for _ in range(1 + failed):
                self._on_request()
