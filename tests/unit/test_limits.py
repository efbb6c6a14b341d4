"""The rate limiter's schedule, the retry delays, and how real SDK exceptions are classified."""

import random
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import httpx
import pytest
from google.genai.errors import APIError, ClientError, ServerError
from langchain_google_genai._common import GoogleGenerativeAIError
from langchain_google_genai.chat_models import (
    GoogleAPIError,
    GoogleInvalidRequestError,
    GoogleRateLimitError,
)

from harness.llm.limits import EmptyReply, RateLimiter, RetryPolicy, classify, retry_hint


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def most_in_window(times: list[float], width: float) -> int:
    """The largest number of `times` inside any closed window [t, t + width]."""
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u <= t + width) for i, t in enumerate(times))


# --- the request schedule -------------------------------------------------------------------------


def test_reservations_are_spaced_one_interval_apart() -> None:
    limiter = RateLimiter(rpm=120, headroom=0, clock=FakeClock())
    assert limiter.rate == 2.0
    assert [limiter.reserve() for _ in range(5)] == pytest.approx([0, 0.5, 1.0, 1.5, 2.0])


def test_idle_time_earns_no_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=120, headroom=0, clock=clock)
    limiter.reserve()
    clock.now = 100.0
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0, 0.5, 1.0])


def test_unlimited_requests_never_wait() -> None:
    limiter = RateLimiter(rpm=None, clock=FakeClock())
    assert limiter.rate == float("inf")
    assert [limiter.reserve(10**6) for _ in range(3)] == [0, 0, 0]


def test_headroom_keeps_every_sliding_minute_under_the_limit() -> None:
    exact = RateLimiter(rpm=60, headroom=0, clock=FakeClock())
    # At exactly the limit a closed minute holds one arrival too many: the off-by-one 429.
    assert most_in_window([exact.reserve() for _ in range(200)], 60) == 61
    shaved = RateLimiter(rpm=60, headroom=0.01, clock=FakeClock())
    assert shaved.rate == pytest.approx(0.99)
    assert most_in_window([shaved.reserve() for _ in range(200)], 60) == 60


def test_threads_reserving_at_once_get_distinct_evenly_spaced_slots() -> None:
    limiter = RateLimiter(rpm=60, headroom=0, clock=FakeClock())
    waits: list[float] = []
    start = threading.Barrier(8)

    def book() -> None:
        start.wait()
        mine = [limiter.reserve() for _ in range(25)]
        waits.extend(mine)

    threads = [threading.Thread(target=book) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([float(k) for k in range(200)])


def test_acquire_from_many_threads_keeps_to_the_rate_in_real_time() -> None:
    limiter = RateLimiter(rpm=3000, headroom=0)  # one slot every 20 ms
    interval = 1 / limiter.rate
    calls: list[tuple[float, float]] = []
    start = threading.Barrier(6)

    def call() -> None:
        start.wait()
        for _ in range(3):
            slot = limiter.acquire()  # the booked slot, on the limiter's clock
            calls.append((slot, time.monotonic()))

    began = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    slots = sorted(slot for slot, _ in calls)
    assert len(slots) == 18
    assert all(b - a >= interval * (1 - 1e-9) for a, b in pairwise(slots))
    assert most_in_window(slots, 5 * interval - 1e-6) <= 5
    assert all(arrived >= slot for slot, arrived in calls)
    # Sleeping can only make a caller late, never early: the k-th call starts k intervals in at the soonest.
    for k, arrived in enumerate(sorted(arrived for _, arrived in calls)):
        assert arrived >= began + k * interval


def test_pause_pushes_every_later_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=60, headroom=0, clock=clock)
    assert limiter.reserve() == 0
    limiter.pause(5)
    assert [limiter.reserve() for _ in range(2)] == pytest.approx([5, 6])
    limiter.pause(0.5)  # shorter than what is already booked: no effect
    assert limiter.reserve() == pytest.approx(7)


def test_pause_holds_back_unlimited_callers_too() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=None, clock=clock)
    limiter.pause(3)
    assert [limiter.reserve() for _ in range(2)] == [3, 3]
    clock.now = 4.0
    assert limiter.reserve() == 0


# --- the token budget -----------------------------------------------------------------------------


def tokens_only(tpm: float = 600, headroom: float = 0) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(rpm=None, tpm=tpm, headroom=headroom, clock=clock), clock


def test_token_requests_wait_for_the_bucket_to_refill() -> None:
    limiter, clock = tokens_only()  # 600 per minute = 10 per second
    assert limiter.reserve(600) == 0
    assert limiter.reserve(100) == pytest.approx(10)
    assert limiter.reserve(50) == pytest.approx(15)
    clock.now = 30.0  # bucket refilled 150 of the 600 since the last payment at t=15
    assert limiter.reserve(150) == 0
    assert limiter.reserve(10) == pytest.approx(1)


def test_token_headroom_shrinks_the_bucket_and_its_refill() -> None:
    limiter, _ = tokens_only(tpm=600, headroom=0.5)
    assert limiter.reserve(300) == 0
    assert limiter.reserve(5) == pytest.approx(1)


def test_settle_refunds_an_overestimate() -> None:
    limiter, _ = tokens_only()
    assert limiter.reserve(600) == 0
    limiter.settle(estimated=600, actual=100)
    assert limiter.reserve(500) == 0
    assert limiter.reserve(10) == pytest.approx(1)


def test_settle_never_fills_past_capacity() -> None:
    limiter, _ = tokens_only()
    limiter.settle(estimated=1000, actual=0)
    assert limiter.reserve(600) == 0
    assert limiter.reserve(600) == pytest.approx(60)


def test_settle_charges_an_underestimate_to_later_callers() -> None:
    limiter, _ = tokens_only()
    assert limiter.reserve(100) == 0
    limiter.settle(estimated=100, actual=900)  # the bucket now owes 300
    assert limiter.reserve(100) == pytest.approx(40)


def test_a_request_larger_than_the_bucket_goes_once_it_is_full() -> None:
    limiter, _ = tokens_only()
    assert limiter.reserve(100) == 0
    assert limiter.reserve(1000) == pytest.approx(10)  # waits for a full bucket, not forever
    assert limiter.reserve(1) == pytest.approx(10 + 40.1)  # and the 400 it overdrew holds back the next


def test_requests_and_tokens_both_bound_the_slot() -> None:
    limiter = RateLimiter(rpm=60, tpm=600, headroom=0, clock=FakeClock())
    assert [limiter.reserve(0), limiter.reserve(0)] == pytest.approx([0, 1])
    assert limiter.reserve(600) == pytest.approx(2)  # request slot; the bucket is full
    assert limiter.reserve(60) == pytest.approx(8)  # the bucket, not the 3 s request slot
    assert limiter.reserve(0) == pytest.approx(9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rpm": 0},
        {"rpm": -1},
        {"rpm": None, "tpm": 0},
        {"rpm": 60, "headroom": 1},
        {"rpm": 60, "headroom": -0.1},
    ],
)
def test_limiter_rejects_impossible_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**kwargs)  # type: ignore[arg-type]


def test_negative_tokens_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rpm=60).reserve(-1)


# --- retry delays ---------------------------------------------------------------------------------


def test_delay_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=0.5, max_s=30, jitter=0)
    assert [policy.delay(a) for a in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_jitter_stays_within_its_fraction_on_both_sides() -> None:
    policy = RetryPolicy(base_s=1, max_s=30, jitter=0.25)
    rng = random.Random(7)
    delays = [policy.delay(3, rng=rng) for _ in range(500)]
    assert all(3 <= d <= 5 for d in delays)
    assert min(delays) < 3.2 and max(delays) > 4.8
    capped = [policy.delay(20, rng=rng) for _ in range(200)]
    assert all(22.5 <= d <= 37.5 for d in capped) and len(set(capped)) > 1


def test_the_same_seed_gives_the_same_delays() -> None:
    policy = RetryPolicy()
    assert policy.delay(2, rng=random.Random(1)) == policy.delay(2, rng=random.Random(1))


def test_a_server_hint_is_a_floor_jittered_upwards_only() -> None:
    policy = RetryPolicy(max_s=30, jitter=0.25)
    rng = random.Random(3)
    hinted = [policy.delay(1, hint=2.0, rng=rng) for _ in range(300)]
    assert all(2.0 <= d <= 2.5 for d in hinted) and max(hinted) > 2.4
    assert policy.delay(6, hint=45.0, rng=rng) >= 45.0  # over max_s: the server still decides
    assert policy.delay(1, hint=0.0, rng=rng) == 0.0


def test_retry_policy_validates_itself() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay(0)
    for bad in ({"max_attempts": 0}, {"base_s": 5, "max_s": 1}, {"jitter": 1.5}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)  # type: ignore[arg-type]


# --- classifying real SDK exceptions --------------------------------------------------------------

RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}


def body(code: int, status: str, *details: Mapping[str, object]) -> dict[str, object]:
    return {"error": {"code": code, "message": "from the test", "status": status, "details": list(details)}}


def from_response(code: int, json: object, headers: dict[str, str] | None = None) -> APIError:
    """The exception the SDK raises for this HTTP response, built by its own code."""
    response = httpx.Response(code, json=json, headers=headers)
    with pytest.raises(APIError) as info:
        APIError.raise_for_response(response)
    return info.value


def raised_from(outer: BaseException, inner: BaseException) -> BaseException:
    """`outer` as Python leaves it after `raise outer from inner` inside `except inner`."""
    try:
        try:
            raise inner
        except BaseException as e:
            raise outer from e
    except BaseException as e:
        return e


def timeout_then(outer: BaseException, suppress: bool) -> BaseException:
    try:
        try:
            raise httpx.ReadTimeout("timed out")
        except httpx.ReadTimeout:
            if suppress:
                raise outer from None
            raise outer  # noqa: B904 - the implicit context is what is under test
    except BaseException as e:
        return e


RATE_LIMITED = ClientError(429, body(429, "RESOURCE_EXHAUSTED", RETRY_INFO))


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (RATE_LIMITED, "rate_limit"),
        (from_response(429, body(429, "RESOURCE_EXHAUSTED")), "rate_limit"),
        (raised_from(GoogleRateLimitError("Error calling model 'm'"), RATE_LIMITED), "rate_limit"),
        (raised_from(GoogleGenerativeAIError("Error embedding content"), RATE_LIMITED), "rate_limit"),
        (ServerError(500, body(500, "INTERNAL")), "server"),
        (from_response(503, body(503, "UNAVAILABLE")), "server"),
        (
            raised_from(GoogleAPIError(500, body(500, "INTERNAL")), ServerError(500, body(500, "INTERNAL"))),
            "server",
        ),
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ConnectTimeout("timed out"), "timeout"),
        (TimeoutError(), "timeout"),  # asyncio.TimeoutError is this same class since 3.11
        (raised_from(GoogleGenerativeAIError("Error embedding content"), httpx.ReadTimeout("x")), "timeout"),
        (timeout_then(RuntimeError("while handling it"), suppress=False), "timeout"),
        (httpx.ConnectError("refused"), "connection"),
        (httpx.RemoteProtocolError("server hung up"), "connection"),
        (ConnectionResetError(), "connection"),
        (EmptyReply("no candidates"), "empty"),
        (ClientError(400, body(400, "INVALID_ARGUMENT")), None),
        (from_response(401, body(401, "UNAUTHENTICATED")), None),
        (from_response(403, body(403, "PERMISSION_DENIED")), None),
        (from_response(404, body(404, "NOT_FOUND")), None),
        (
            raised_from(GoogleInvalidRequestError("bad"), ClientError(400, body(400, "INVALID_ARGUMENT"))),
            None,
        ),
        (raised_from(ClientError(400, body(400, "INVALID_ARGUMENT")), httpx.ReadTimeout("x")), None),
        (httpx.UnsupportedProtocol("ftp://"), None),
        (httpx.LocalProtocolError("bad header"), None),
        (timeout_then(RuntimeError("unrelated"), suppress=True), None),
        (ValueError("bad prompt"), None),
        (KeyError("text"), None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_classify(err: BaseException, kind: str | None) -> None:
    assert classify(err) == kind


def test_classify_uses_the_status_when_the_code_is_missing() -> None:
    # The SDK falls back to the body's code, and reads the status from the body in any case.
    assert classify(APIError(0, {"error": {"status": "RESOURCE_EXHAUSTED"}})) == "rate_limit"


def test_classify_reads_httpx_status_errors() -> None:
    def status_error(code: int) -> httpx.HTTPStatusError:
        response = httpx.Response(code, request=httpx.Request("POST", "http://127.0.0.1/v1beta"))
        with pytest.raises(httpx.HTTPStatusError) as info:
            response.raise_for_status()
        return info.value

    assert [classify(status_error(c)) for c in (429, 502, 404)] == ["rate_limit", "server", None]


def test_classify_survives_a_cyclic_chain() -> None:
    err = ValueError("loops")
    err.__cause__ = err
    assert classify(err) is None and retry_hint(err) is None


@pytest.mark.parametrize(("delay", "seconds"), [("2s", 2.0), ("1.5s", 1.5), ("0.250s", 0.25), ("30s", 30.0)])
def test_retry_hint_reads_retry_info(delay: str, seconds: float) -> None:
    info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
    assert retry_hint(ClientError(429, body(429, "RESOURCE_EXHAUSTED", info))) == seconds


def test_retry_hint_skips_other_details() -> None:
    quota = {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []}
    assert retry_hint(ClientError(429, body(429, "RESOURCE_EXHAUSTED", quota, RETRY_INFO))) == 2.0
    assert retry_hint(ClientError(429, body(429, "RESOURCE_EXHAUSTED", quota))) is None
    garbled = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"}
    assert retry_hint(ClientError(429, body(429, "RESOURCE_EXHAUSTED", garbled))) is None


def test_retry_hint_looks_through_wrappers() -> None:
    assert retry_hint(raised_from(GoogleRateLimitError("Error calling model 'm'"), RATE_LIMITED)) == 2.0
    assert retry_hint(raised_from(GoogleGenerativeAIError("Error embedding content"), RATE_LIMITED)) == 2.0


def test_retry_hint_from_the_sdk_built_error_and_its_headers() -> None:
    assert from_response(429, body(429, "RESOURCE_EXHAUSTED", RETRY_INFO)).details["error"]["details"]
    assert retry_hint(from_response(429, body(429, "RESOURCE_EXHAUSTED", RETRY_INFO))) == 2.0
    assert retry_hint(from_response(429, body(429, "RESOURCE_EXHAUSTED"), {"Retry-After": "7"})) == 7.0
    # The structured hint wins over the header when both are there.
    both = from_response(429, body(429, "RESOURCE_EXHAUSTED", RETRY_INFO), {"Retry-After": "7"})
    assert retry_hint(both) == 2.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    hinted = retry_hint(from_response(503, body(503, "UNAVAILABLE"), {"Retry-After": later}))
    assert hinted is not None and 25 <= hinted <= 30
    assert retry_hint(from_response(503, body(503, "UNAVAILABLE"), {"Retry-After": "whenever"})) is None


def test_no_hint_where_the_server_gave_none() -> None:
    assert retry_hint(ServerError(500, body(500, "INTERNAL"))) is None
    assert retry_hint(from_response(429, body(429, "RESOURCE_EXHAUSTED"))) is None
    assert retry_hint(ClientError(429, "not json at all")) is None
    assert retry_hint(httpx.ReadTimeout("timed out")) is None
