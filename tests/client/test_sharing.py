"""Tasks sharing one key at the vendor's 60-second window, on a virtual clock: together they
reach the key's rate (time against the key-rate minimum) with few 429s, leave a steady outside
consumer its share, and a configured cap is never exceeded."""

from __future__ import annotations

import pytest

from tests.client.keysim import key_rate_minimum, most_in_a_window, share_key

LIMIT, WINDOW = 600, 60.0
WORK = 3 * LIMIT + 1  # three windows' worth: past the first window's start-up


@pytest.mark.parametrize(
    ("tasks", "slack", "latency"),
    [
        (1, 1.05, (0.002, 0.01)),
        (2, 1.1, (0.002, 0.01)),
        (4, 1.1, (0.002, 0.01)),
        (8, 1.15, (0.002, 0.01)),
        (4, 1.1, (0.05, 0.4)),  # a far server: answers lag the sends
        (8, 1.15, (0.05, 0.4)),
    ],
)
def test_tasks_with_nothing_configured_together_reach_the_keys_rate(
    tasks: int, slack: float, latency: tuple[float, float]
) -> None:
    run = share_key([WORK // tasks + 1] * tasks, LIMIT, WINDOW, latency=latency)
    assert run.span <= slack * key_rate_minimum(run.sends - run.throttled, LIMIT, WINDOW)
    assert run.throttled <= 0.05 * run.sends


def test_tasks_starting_seconds_apart_still_fill_the_key_and_the_last_speeds_up_alone() -> None:
    run = share_key([WORK // 4] * 4, LIMIT, WINDOW, starts=[0.0, 3.0, 7.0, 12.0])
    assert run.span <= 1.12 * key_rate_minimum(run.sends - run.throttled, LIMIT, WINDOW)
    assert run.throttled <= 0.05 * run.sends


def test_a_steady_outside_consumer_keeps_its_third_and_the_tasks_take_the_rest() -> None:
    run = share_key([WORK // 4] * 4, LIMIT, WINDOW, outside=1 / 3)
    minimum = key_rate_minimum(run.sends - run.throttled, LIMIT, WINDOW, outside=1 / 3)
    assert run.span <= 1.15 * minimum
    assert run.throttled <= 0.05 * run.sends
    assert run.outside_throttled <= 0.01 * run.outside_sends


def test_a_configured_cap_is_never_exceeded_and_a_task_given_the_whole_key_reaches_it() -> None:
    alone = share_key([WORK], LIMIT, WINDOW, cap=LIMIT)
    assert alone.throttled == 0
    assert alone.span <= 1.05 * key_rate_minimum(WORK, LIMIT, WINDOW)
    shares = share_key([400] * 4, LIMIT, WINDOW, cap=LIMIT // 4)
    assert shares.throttled == 0
    assert all(most_in_a_window(times, WINDOW) <= LIMIT // 4 for times in shares.sends_of)


def test_no_window_of_the_key_ever_holds_more_than_its_limit_of_accepted_sends() -> None:
    """The server refuses the excess, so this is about the pacing's own count: what the tasks
    sent within any window, less what was refused, stays at the limit."""
    run = share_key([WORK // 8 + 1] * 8, LIMIT, WINDOW)
    everything = [t for times in run.sends_of for t in times]
    assert most_in_a_window(everything, WINDOW) <= LIMIT + run.throttled


@pytest.mark.parametrize("tasks", [1, 4, 8])
def test_under_a_fixed_window_instead_the_tasks_still_reach_the_keys_rate_with_few_429s(
    tasks: int,
) -> None:
    """docs/rate-limits.md says what happens if the server counted per fixed minute."""
    run = share_key([WORK // tasks + 1] * tasks, LIMIT, WINDOW, fixed=True)
    assert run.span <= 1.1 * key_rate_minimum(run.sends - run.throttled, LIMIT, WINDOW)
    assert run.throttled <= 0.02 * run.sends
