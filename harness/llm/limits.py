"""Client-side rate limiting and the retry policy around every LLM and embedding call.

The SDK's own retries are switched off: retrying here, behind one limiter per model shared by every
thread, means a 429 slows all callers down together instead of each backing off alone while the others
keep the quota exhausted.

Over 300 lines for one reason: the fixed limiter, the limiter that discovers a limit from 429s, and the
retry policy share one clock and one classification of provider errors.
"""

import contextlib
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from google.genai.errors import APIError


class EmptyReply(Exception):
    """The model returned no candidates: nothing to parse, but the same request may well succeed again."""


class RateLimiter:
    """Per-model requests-per-minute and tokens-per-minute limits, shared by every thread.

    Each call books a slot instead of polling: a slot starts at the later of now and the next free
    one, and moves the next free one on by 1/rate. Concurrent callers therefore start exactly 1/rate
    apart, never in a burst, and waiting is done outside the lock, so all threads share one schedule
    (ragas's async calls reach the guarded model through LangChain's executor threads). Idle time earns
    no credit: after a pause the first caller goes at once and the next one a full interval later.

    `headroom` shaves a fraction off both limits. The server counts arrivals in a sliding minute, so at
    exactly the limit the smallest network jitter turns into an off-by-one 429.

    Tokens are paid from a bucket holding one minute's allowance and refilled continuously. The bucket
    starts full, so right after an idle minute up to twice the allowance can go out within 60 s; a
    server that counts tokens in a strict sliding window may answer that with a 429, which `pause`
    and the retry policy then absorb. A slot booked and not used (a cancelled wait) is simply lost.
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None = None,
        headroom: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rpm is not None and not rpm > 0:
            raise ValueError(f"rpm must be positive or None, got {rpm}")
        if tpm is not None and not tpm > 0:
            raise ValueError(f"tpm must be positive or None, got {tpm}")
        if not 0 <= headroom < 1:
            raise ValueError(f"headroom must be in [0, 1), got {headroom}")
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = math.inf if rpm is None else rpm * (1 - headroom) / 60
        self._interval = 1 / self._rate
        self._capacity = None if tpm is None else tpm * (1 - headroom)
        self._fill = 0.0 if self._capacity is None else self._capacity / 60
        now = clock()
        self._next = now
        # The bucket's level as of `_level_at`, which may lie in the future (the last booked slot).
        self._level = self._capacity or 0.0
        self._level_at = now

    @property
    def rate(self) -> float:
        """Effective requests per second after headroom; inf when requests are not limited."""
        return self._rate

    def reserve(self, tokens: int = 0) -> float:
        """Book the next slot for a request of `tokens`; returns the seconds to wait before sending it."""
        return self._book(tokens)[1]

    def _book(self, tokens: int) -> tuple[float, float]:
        """Book the next slot: (its time on the clock, seconds from now until it)."""
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            if self._capacity is not None:
                start = self._pay(start, tokens, self._capacity)
            self._next = start + self._interval
            return start, start - now

    def _pay(self, start: float, tokens: int, capacity: float) -> float:
        """Take `tokens` from the bucket no earlier than `start`; returns when they could be paid.

        A request larger than the whole bucket waits for a full bucket and drives the level negative,
        which holds back whoever comes next instead of waiting forever.
        """
        level = min(capacity, self._level + (start - self._level_at) * self._fill)
        need = min(tokens, capacity)
        if level < need:
            start += (need - level) / self._fill
            level = need
        self._level = level - tokens
        self._level_at = start
        return start

    def acquire(self, tokens: int = 0) -> float:
        """Wait for the next slot; returns the slot (pass it to `rejected` if the server refuses)."""
        slot, wait = self._book(tokens)
        if wait > 0:
            time.sleep(wait)
        return slot

    def rejected(self, slot: float) -> None:
        """The request sent at `slot` was answered 429. A configured limit learns nothing from it."""

    def settle(self, estimated: int, actual: int) -> None:
        """Refund or charge the difference once a call reports the tokens it really used.

        A charge may take the bucket below zero, which delays the callers that book after it.
        """
        if self._capacity is None:
            return
        with self._lock:
            self._level = min(self._capacity, self._level + estimated - actual)

    def pause(self, seconds: float) -> None:
        """The server asked us to back off: no slot starts before now + `seconds`, for any caller."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts of one call.

    `max_attempts` counts every attempt, the first included. Jitter spreads callers that failed
    together so that they do not all come back in the same instant.
    """

    max_attempts: int = 6
    base_s: float = 0.5
    max_s: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 <= self.base_s <= self.max_s:
            raise ValueError(f"need 0 <= base_s <= max_s, got {self.base_s} and {self.max_s}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be in [0, 1], got {self.jitter}")

    def delay(self, attempt: int, hint: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry).

        Without a hint: base_s * 2**(attempt-1), capped at max_s, then moved by up to +-jitter of
        itself (so a capped wait still varies, by up to max_s * jitter). With the server's hint: at
        least the hint, moved upwards only, however large, since coming back sooner just earns
        another 429.
        """
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        r = rng if rng is not None else _RNG
        if hint is not None:
            return max(0.0, hint) * (1 + self.jitter * r.random())
        base = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        return base * (1 + self.jitter * r.uniform(-1, 1))


_RNG = random.Random()

RATE_LIMIT, SERVER, TIMEOUT, CONNECTION, EMPTY = "rate_limit", "server", "timeout", "connection", "empty"
_FATAL = "fatal"  # a link that settles the question: do not retry

# Transport errors that come from our side of the wire (a bad URL scheme, an illegal header value):
# they fail the same way every time.
_LOCAL_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)s")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def classify(err: BaseException) -> str | None:
    """Why a call failed, if trying again may help: one of the names above, or None.

    Wrappers (LangChain's error classes, which carry no status of their own) are looked through
    along the cause/context chain; the outermost exception with an opinion decides, so a 400 wrapped
    around anything stays a 400.
    """
    for link in _chain(err):
        kind = _kind(link)
        if kind is not None:
            return None if kind == _FATAL else kind
    return None


def _kind(err: BaseException) -> str | None:
    if isinstance(err, EmptyReply):
        return EMPTY
    if isinstance(err, APIError):
        return _http_kind(err.code, err.status)
    if isinstance(err, httpx.HTTPStatusError):
        return _http_kind(err.response.status_code, None)
    if isinstance(err, httpx.TimeoutException | TimeoutError):
        return TIMEOUT
    if isinstance(err, _LOCAL_TRANSPORT):
        return _FATAL
    if isinstance(err, httpx.TransportError | ConnectionError):
        return CONNECTION
    return None


def _http_kind(code: int | None, status: str | None) -> str:
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        return RATE_LIMIT
    if code is not None and 500 <= code < 600:
        return SERVER
    return _FATAL


def retry_hint(err: BaseException) -> float | None:
    """Seconds the server asked us to wait, from the first exception in the chain that says.

    google.rpc.RetryInfo in the parsed error body (`APIError.details`) is preferred to a Retry-After
    header on the attached httpx response.
    """
    for link in _chain(err):
        hint = _retry_info(link)
        if hint is None:
            hint = _retry_after(link)
        if hint is not None:
            return hint
    return None


def _retry_info(err: BaseException) -> float | None:
    if not isinstance(err, APIError) or not isinstance(err.details, dict):
        return None
    body = err.details.get("error", err.details)
    items = body.get("details") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.fullmatch(str(item.get("retryDelay", "")).strip())
            if match:
                return float(match.group(1))
    return None


def _retry_after(err: BaseException) -> float | None:
    response = getattr(err, "response", None)
    if not isinstance(response, httpx.Response):
        return None
    value = response.headers.get("retry-after", "").strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _chain(err: BaseException) -> Iterator[BaseException]:
    """The exception, then what it was raised from (or during), as Python's traceback shows them."""
    seen: set[int] = set()
    link: BaseException | None = err
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


class DiscoveringLimiter(RateLimiter):
    """A requests-per-minute limit nobody wrote down, learnt from the server's 429s (`rpm: auto`).

    Servers count the requests they accepted in a sliding (or fixed) minute and refuse the one beyond
    their limit. So when a request is refused, the requests this client had sent in the minute before it,
    less those refused, are the server's limit as it stands (as long as nobody else shares the quota):
    that count becomes the estimate. From then on the limiter keeps, as the server does, at most the
    estimate (less headroom) of its own requests in any window, spaced evenly, and it remembers the
    requests already sent, so a burst sent before the first 429 is waited out rather than repeated.

    Before the first 429 nothing is paced (concurrency still bounds the calls in flight). A later 429
    on a request sent under the current estimate lowers it to the count again (the decrease of AIMD, to
    a measured value rather than by a fixed factor; it never rises on a 429); refusals of requests sent
    under an older estimate change nothing, so the calls in flight when the limit is met lower it once.
    While requests wait for the window and no 429 has come for a whole window, the estimate grows (the
    increase of AIMD, by a factor so that an estimate drawn from a stray 429 recovers in minutes):
    doubling until a grown estimate meets a 429, then by a fifth. Retry delays the server asks for
    still pause every caller (`pause`). A token-per-minute limit, when configured, is kept as usual.
    """

    def __init__(
        self,
        tpm: float | None = None,
        headroom: float = 0.01,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(None, tpm, headroom, clock)
        self.window_s = window_s
        self.estimate: float | None = None  # requests per window; None until the first 429
        self._headroom = headroom
        self._sent: deque[float] = deque()  # slots booked in the last window, refused ones removed
        self._changed_at = -math.inf  # slot time when the estimate last changed
        self._confirmed = False  # a grown estimate has met a 429: grow gently from now on
        self._grown = False  # the current estimate came from growth, not from a 429
        self._last = -math.inf  # the last slot booked
        self._paused_until = -math.inf

    def _allowed(self) -> int:
        assert self.estimate is not None
        return max(1, math.floor(self.estimate * (1 - self._headroom)))

    def _book(self, tokens: int) -> tuple[float, float]:
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window_s:
                self._sent.popleft()
            start = self._earliest(now)
            if self.estimate is not None and start > now and now - self._changed_at >= self.window_s:
                # Callers are waiting on the estimate and no 429 has come for a whole window: probe.
                self._set(self.estimate * (1.2 if self._confirmed else 2.0), start, grown=True)
                start = self._earliest(now)
            if self._capacity is not None:
                start = self._pay(start, tokens, self._capacity)
            self._sent.append(start)
            self._last = start
            return start, start - now

    def _earliest(self, now: float) -> float:
        """The first moment a request may go: after a pause, evenly spaced, within the window's allowance."""
        start = max(now, self._paused_until)
        if self.estimate is None:
            return start
        allowed = self._allowed()
        start = max(start, self._last + self.window_s / allowed)
        if len(self._sent) >= allowed:
            start = max(start, self._sent[len(self._sent) - allowed] + self.window_s)
        return start

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def rejected(self, slot: float) -> None:
        with self._lock:
            with contextlib.suppress(ValueError):
                self._sent.remove(slot)  # the server did not count it
            if self.estimate is not None and slot < self._changed_at:
                return  # sent under an older estimate: that 429 has been accounted for
            before = float(sum(1 for sent in self._sent if slot - self.window_s < sent <= slot))
            if self.estimate is None:
                self._set(max(1.0, before), slot)
                return
            if max(1.0, before) < self.estimate:  # the server holds less than we thought
                self._confirmed = self._confirmed or self._grown
                self._set(max(1.0, before), slot)

    def _set(self, estimate: float, at: float, grown: bool = False) -> None:
        self.estimate = estimate
        self._changed_at = at
        self._grown = grown
