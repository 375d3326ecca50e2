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
:data:`GIVE_UP_WITHIN_S`.

A request that gets **no answer** (connect or read timeout) is different: each
costs up to ``connect_timeout_s + read_timeout_s`` (35 s), so nine of them took
340 s. Timeouts therefore have a budget of their own, ``timeout_retries``
(default 1): the second timeout of one request gives it up, whatever
``max_retries`` allows for errors the server does answer. A server that accepts
connections and never answers is given up after 2 requests and 0.1 s of
backoff: 70.1 s at most at the defaults (:meth:`RetryPolicy.worst_case_s` with
``answering=False``), under :data:`NO_ANSWER_GIVE_UP_WITHIN_S`; one that mixes
timeouts and errors within :meth:`RetryPolicy.give_up_within_s` (95.5 s). TLS
failures (a plain-HTTP port, a bad certificate) are not retried at all: they do
not go away. The budget is urllib3's own ``Retry`` for registries (a subclass
that counts the timeouts in its ``history``) and, as python-gitlab has no such
knob, :class:`CountingAdapter` under :func:`request_budget` for GitLab.

    policy = RetryPolicy()
    policy.gitlab_backoff_s()        # [0.1, 0.2, 0.4, ..., 12.8]
    session.mount("https://", policy.registry_adapter())
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

#: A URL answering errors (or refusing connections) is given up within this many seconds.
GIVE_UP_WITHIN_S = 60.0
#: A URL whose server accepts connections but never answers is given up within this many
#: seconds at the default timeouts (:meth:`RetryPolicy.worst_case_s`, ``answering=False``).
NO_ANSWER_GIVE_UP_WITHIN_S = 75.0
#: HTTP answers worth asking again: rate limited, or a server/gateway failure.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: python-gitlab's fixed backoff factor (``gitlab/utils.py``: ``wait_time = 2**n * 0.1``).
GITLAB_BACKOFF_FACTOR_S = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one HTTP request.

    ``max_retries`` retries after the first request (so ``max_retries + 1``
    requests at most per URL); ``timeout_retries`` of them at most after a
    request that got no answer in time (so ``timeout_retries + 1`` timeouts give
    a URL up); ``connect_timeout_s`` / ``read_timeout_s`` bound
    each request's connect and each wait for bytes (requests' ``timeout`` tuple);
    ``registry_backoff_factor_s`` is urllib3's ``backoff_factor``;
    ``max_retry_after_s`` caps the wait a registry's ``Retry-After`` asks for.
    """

    max_retries: int = 8
    timeout_retries: int = 1
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

    @property
    def max_timeouts(self) -> int:
        """The most requests of one URL that may go unanswered: the first and its timeout retries."""
        return min(self.timeout_retries, self.max_retries) + 1

    def worst_case_s(self, backoff_s: list[float], *, answering: bool = True) -> float:
        """Seconds before a URL that keeps failing is given up (``backoff_s``: the waits).

        ``answering``: the server answers errors (or refuses connections) at
        once, so only the ``max_retries`` waits count; otherwise (a server that
        never answers) :attr:`max_timeouts` requests each wait out both timeouts,
        with the waits before their retries. Hand-worked at the defaults, GitLab:
        answering 0.1 * (2**8 - 1) = 25.5 s; never answering 2 * (5 + 30) + 0.1 = 70.1 s.
        """
        if answering:
            return sum(backoff_s)
        n = self.max_timeouts
        return sum(backoff_s[:n - 1]) + n * (self.connect_timeout_s + self.read_timeout_s)

    def give_up_within_s(self, backoff_s: list[float]) -> float:
        """Seconds before a URL is given up, however its server mixes errors and silence.

        All ``max_retries`` waits plus :attr:`max_timeouts` requests waiting out
        both timeouts (95.5 s for GitLab at the defaults). Only a server that
        answers, but each time just inside the read timeout, can take longer: up
        to :attr:`max_requests` read timeouts.
        """
        return sum(backoff_s) + self.max_timeouts * (self.connect_timeout_s
                                                     + self.read_timeout_s)

    def registry_retry(self) -> Retry:
        """urllib3's :class:`Retry` for registry requests (GET and HEAD only).

        A :class:`TimeoutBudgetRetry`: besides ``total`` it gives up at the
        ``timeout_retries + 1``-th timeout and at the first TLS failure.
        """
        return TimeoutBudgetRetry(
            timeouts=self.timeout_retries,
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


def _root(error: BaseException | None) -> BaseException | None:
    """The failure under requests' wrapping of urllib3's :class:`MaxRetryError`."""
    reason = error.args[0] if error is not None and error.args else None
    return reason.reason if isinstance(reason, MaxRetryError) else error


def is_timeout(error: BaseException | None) -> bool:
    """True for an urllib3 or requests timeout (connect or read), not a refused connection."""
    error = _root(error)
    if isinstance(error, requests.Timeout):
        return True
    return (isinstance(error, urllib3.exceptions.TimeoutError)
            and not isinstance(error, urllib3.exceptions.NewConnectionError))


def is_tls_failure(error: BaseException | None) -> bool:
    """True for a TLS handshake or certificate failure (retrying does not help)."""
    return isinstance(error, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)) \
        or isinstance(_root(error), urllib3.exceptions.SSLError)


def no_answer_reason(error: BaseException, policy: RetryPolicy) -> str:
    """A few words on why a request got no answer: timeout, refused, unresolved, dropped."""
    if is_timeout(error):
        root = _root(error)
        if isinstance(root, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)):
            return f"no connection within the {policy.connect_timeout_s:g} s connect timeout"
        return f"no answer within the {policy.read_timeout_s:g} s read timeout"
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "resolve" in text or "name or service not known" in text:
        return "name not resolved"
    return "connection dropped"


def describe_tls_failure(exc: BaseException, url: str, what: str) -> str:
    """One line for a TLS failure with ``url`` (``what``: ``"the instance"``, ``"the registry"``).

    A server speaking plain HTTP answers a TLS hello with bytes that are not a
    TLS record: OpenSSL says ``WRONG_VERSION_NUMBER`` (or ``record layer failure``,
    ``packet length too long``); anything else is a handshake or certificate failure.
    """
    text = str(exc)
    low = text.lower()
    if any(s in low for s in ("wrong_version_number", "wrong version number",
                              "record layer failure", "packet length too long")):
        return (f"TLS to a plain-HTTP port: {url} does not speak https; "
                f"use http://{url.split('://', 1)[-1]} if that is {what}")
    match = re.search(r"\[SSL: ([A-Z_]+)\]", text)
    reason = match.group(1) if match else "TLS handshake failed"
    return (f"TLS with {url} failed ({reason}); check the URL, or point "
            f"REQUESTS_CA_BUNDLE at {what}'s CA certificate")


class TimeoutBudgetRetry(Retry):
    """urllib3's :class:`Retry` with a budget of its own for timeouts.

    ``timeouts``: retries allowed after a connect or read timeout (counted in
    :attr:`history`, which urllib3 keeps anyway); one more timeout exhausts it.
    A TLS failure is re-raised at once, not retried.
    """

    def __init__(self, *args: Any, timeouts: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts = timeouts

    def new(self, **kw: Any) -> TimeoutBudgetRetry:
        """A copy with ``kw`` changed (urllib3 calls it on every increment)."""
        return super().new(**{"timeouts": self.timeouts, **kw})

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> TimeoutBudgetRetry:
        """urllib3's increment; a TLS failure is raised instead of retried.

        The :class:`MaxRetryError` that ends the retries carries ``attempts``:
        the requests sent, this failed one included.
        """
        try:
            if error is not None and is_tls_failure(error):
                raise MaxRetryError(_pool, url, error) from error
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError as exc:
            exc.attempts = len(self.history) + 1  # type: ignore[attr-defined]
            raise

    def is_exhausted(self) -> bool:
        """urllib3's counters, or more timeouts than ``timeouts`` retries allow."""
        if super().is_exhausted():
            return True
        spent = sum(1 for h in self.history if is_timeout(h.error))
        return self.timeouts is not None and spent > self.timeouts


def sent_before_giving_up(exc: BaseException) -> int:
    """Requests a call sent before it failed with ``exc`` (a requests exception).

    urllib3's :class:`MaxRetryError` from a :class:`TimeoutBudgetRetry` says how
    many; any other failure was one request (no retries below python-gitlab's).
    """
    reason = exc.args[0] if exc.args else None
    return int(getattr(reason, "attempts", 1)) if isinstance(reason, MaxRetryError) else 1


class GaveUp(requests.RequestException):
    """A request given up by :class:`CountingAdapter` (its timeout budget is spent, or TLS
    failed); python-gitlab does not retry it. ``__cause__`` is the last failure."""


@dataclass
class RequestBudget:
    """One logical request (its retries included), as :func:`request_budget` tracks it."""

    timeout_retries: int
    should_stop: Callable[[], bool] | None = None
    sent: int = 0
    timeouts: int = 0


_BUDGET: contextvars.ContextVar[RequestBudget | None] = contextvars.ContextVar(
    "cachecost_request_budget", default=None)


@contextmanager
def request_budget(timeout_retries: int, should_stop: Callable[[], bool] | None = None
                   ) -> Iterator[RequestBudget]:
    """Count the requests one call sends through a :class:`CountingAdapter` (this thread).

    While it is open the adapter gives the call up (raises :class:`GaveUp`) at
    its ``timeout_retries + 1``-th timeout, at a TLS failure, and before any
    retry once ``should_stop()`` is true; :attr:`RequestBudget.sent` counts the
    requests really sent, for the error message.
    """
    budget = RequestBudget(timeout_retries, should_stop)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class CountingAdapter(HTTPAdapter):
    """requests' adapter that reports every request it sends, retries included.

    ``on_request()`` is called once per request sent; ``on_no_answer()`` once
    per call that ends without an answer (connection refused or dropped,
    timeout). urllib3 retries inside :meth:`send` (the adapter's
    ``max_retries``; none by default): one call made one request plus the
    failures its :class:`Retry` history records, or, when it ran out of retries,
    every request it sent (:func:`sent_before_giving_up`).
    """

    def __init__(self, *, on_request: Callable[[], None] | None = None,
                 on_no_answer: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_request = on_request
        self._on_no_answer = on_no_answer

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        """Send ``request``; report each request made (see the class docstring).

        Under :func:`request_budget`: raise :class:`GaveUp` instead of the
        timeout that spends the budget, instead of a TLS failure, and instead of
        sending a retry once the budget's ``should_stop()`` is true.
        """
        budget = _BUDGET.get()
        if budget is not None:
            if budget.sent and budget.should_stop is not None and budget.should_stop():
                raise GaveUp("stopped: the run failed elsewhere")
            budget.sent += 1
        try:
            response = super().send(request, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            # retries ran out (MaxRetryError): every request it sent failed
            self._report(sent_before_giving_up(exc) - 1)
            if self._on_no_answer is not None:
                self._on_no_answer()
            if budget is not None:
                if is_tls_failure(exc):
                    raise GaveUp("TLS failed") from exc
                if is_timeout(exc):
                    budget.timeouts += 1
                    if budget.timeouts > budget.timeout_retries:
                        raise GaveUp("no answer within the timeout") from exc
            raise
        retries = getattr(response.raw, "retries", None)
        self._report(len(retries.history) if retries is not None else 0)
        return response

    def _report(self, failed: int) -> None:
        if self._on_request is not None:
            for _ in range(1 + failed):
                self._on_request()
