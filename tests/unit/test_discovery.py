"""The discovering limiter (`rpm: auto`) against a simulated sliding-window server, on a fake clock."""

from collections import deque

import pytest

from harness.llm.limits import DiscoveringLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlidingServer:
    """Accepts at most `limit` requests in any 60 s window (counting accepted ones), like the local peer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window: deque[float] = deque()
        self.accepted: list[float] = []
        self.refused = 0

    def arrive(self, t: float) -> bool:
        while self.window and t - self.window[0] >= 60:
            self.window.popleft()
        if len(self.window) >= self.limit:
            self.refused += 1
            return False
        self.window.append(t)
        self.accepted.append(t)
        return True


def drive(
    limiter: DiscoveringLimiter,
    clock: FakeClock,
    server: SlidingServer,
    wanted: int,
    in_flight: int = 1,
    estimates: list[float] | None = None,
):
    """Send until `wanted` requests were accepted, `in_flight` booked at a time; a 429 retries 2 s later.
    Each new value the limiter's estimate takes is appended to `estimates`."""

    def watch() -> None:
        now = limiter.estimate
        if estimates is not None and now is not None and (not estimates or estimates[-1] != now):
            estimates.append(now)

    while len(server.accepted) < wanted:
        slots = []
        for _ in range(in_flight):  # sent one millisecond apart, answered after all were sent
            slots.append(limiter.reserve() + clock.now)
            watch()
            clock.now = slots[-1] + 0.001
        for slot in slots:
            if not server.arrive(slot):
                limiter.rejected(slot)
                watch()
                limiter.pause(2.0)
    return server


@pytest.mark.parametrize("limit", [600, 2000])
def test_a_sequential_client_learns_the_limit_and_keeps_to_it(limit: int) -> None:
    clock = FakeClock()
    limiter = DiscoveringLimiter(clock=clock)
    server = drive(limiter, clock, SlidingServer(limit), wanted=3 * limit)
    accepted = server.accepted
    rate = (len(accepted) - 1) / (accepted[-1] - accepted[0]) * 60
    assert limiter.estimate is not None and 0.95 * limit <= limiter.estimate <= 1.25 * limit
    assert rate >= 0.95 * limit, rate  # the burst before the first 429 counts: the window's allowance is used
    assert server.refused / (server.refused + len(accepted)) < 0.02, server.refused


def test_calls_in_flight_when_the_limit_is_met_lower_the_estimate_once() -> None:
    clock = FakeClock()
    limiter = DiscoveringLimiter(clock=clock, headroom=0)
    server = SlidingServer(100)
    estimates: list[float] = []
    drive(limiter, clock, server, wanted=100, in_flight=8, estimates=estimates)
    # the 101st: refusals of the in-flight ones
    drive(limiter, clock, server, wanted=101, in_flight=8, estimates=estimates)
    assert estimates[0] == 100 and all(later > 100 for later in estimates[1:]), estimates  # later: probes


def test_an_estimate_from_a_stray_429_recovers_within_minutes() -> None:
    clock = FakeClock()
    limiter = DiscoveringLimiter(clock=clock, headroom=0)
    for _ in range(5):  # five requests go through, the sixth is refused although the server is not full
        limiter.reserve()
    slot = limiter.reserve() + clock.now
    limiter.rejected(slot)
    assert limiter.estimate == 5
    server = SlidingServer(1000)
    clock.now = 1.0
    drive(limiter, clock, server, wanted=3000)
    assert clock.now < 11 * 60, clock.now  # 5 -> 1,000 by doubling: about ten windows, not 200
    assert limiter.estimate is not None and limiter.estimate >= 900


def test_a_server_that_never_refuses_is_never_paced() -> None:
    clock = FakeClock()
    limiter = DiscoveringLimiter(clock=clock)
    assert all(limiter.reserve() == 0 for _ in range(10_000))
    assert limiter.estimate is None
