"""Proxy bidding as pure functions over plain values: no database, no clock.

The rules (eBay's, see AUCTION_ANCHORS.md 1.1):

- A bid is a *maximum*. The lot keeps the leader, the leader's maximum (private) and the highest
  maximum of anyone else (the "second maximum").
- One bidder: the price is the start price. Two or more: price = min(top maximum, second maximum +
  one increment). Either way, when the top maximum meets the (hidden) reserve and the price is below
  it, the price is raised to the reserve.
- Ties go to the earlier bid: a new maximum equal to the leader's does not take the lead.
- The minimum next bid is the price plus one increment (the first bid: the start price). The leader
  may raise their own maximum (above what it was, and at least the minimum next bid).
- Increments come from a table by price band; increments never shrink as prices grow, so
  x + increment(x) grows with x and the price can never go down.

`apply_bid` is the whole engine; `replay` folds it over a bid log, which is how the tests check that a
lot's stored state equals its history.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable, Sequence

Table = tuple[tuple[int, int], ...]


class InvalidTable(ValueError):
    pass


def validate_table(rows: Iterable[Sequence[int]]) -> Table:
    """((from, increment), …): starts at 0, strictly ascending bands, positive increments that never
    shrink. Raises InvalidTable otherwise."""
    table = tuple((int(a), int(b)) for a, b in rows)
    if not table or table[0][0] != 0:
        raise InvalidTable("the first band must start at 0")
    for (a1, b1), (a2, b2) in zip(table, table[1:]):
        if a2 <= a1:
            raise InvalidTable("bands must be in ascending order")
        if b2 < b1:
            raise InvalidTable("increments must not shrink as prices grow")
    if any(b <= 0 for _, b in table):
        raise InvalidTable("increments must be positive")
    return table


def increment(price: int, table: Table) -> int:
    """The increment of the band that `price` falls in."""
    index = bisect_right([start for start, _ in table], price) - 1
    return table[max(index, 0)][1]


@dataclass(frozen=True)
class Rules:
    start_price: int
    reserve_price: int | None
    table: Table


@dataclass(frozen=True)
class State:
    """What the lot row keeps: a cache of the bid log."""

    leader: int | None = None  # bidder id
    leader_max: int | None = None  # private to the leader
    second_max: int | None = None  # highest maximum of anyone but the leader (None: one bidder or none)
    price: int | None = None  # None until the first bid
    bid_count: int = 0


class Refused(Exception):
    code = "refused"

    def __init__(self, min_next_bid: int):
        super().__init__(self.code)
        self.min_next_bid = min_next_bid


class TooLow(Refused):
    code = "bid_too_low"


class NotRaised(Refused):
    """The leader's new maximum is not above their current one."""

    code = "max_not_raised"


@dataclass(frozen=True)
class Outcome:
    state: State
    leading: bool  # the bidder leads after this bid
    outbid: int | None  # the previous leader, if this bid took the lead from them
    raised_own: bool = False  # the leader raised their own maximum


def price_for(rules: Rules, leader_max: int, second_max: int | None) -> int:
    if second_max is None:
        price = rules.start_price
    else:
        price = min(leader_max, second_max + increment(second_max, rules.table))
    if rules.reserve_price is not None and leader_max >= rules.reserve_price > price:
        price = rules.reserve_price
    return price


def min_next_bid(rules: Rules, state: State) -> int:
    if state.price is None:
        return rules.start_price
    return state.price + increment(state.price, rules.table)


def reserve_met(rules: Rules, state: State) -> bool:
    """True when there is no reserve, or the leader's maximum meets it."""
    if rules.reserve_price is None:
        return True
    return state.leader_max is not None and state.leader_max >= rules.reserve_price


def buy_now_available(rules: Rules, state: State, buy_now_price: int | None) -> bool:
    """Buy It Now is offered while nobody has bid, or while a reserve is unmet."""
    if not buy_now_price:
        return False
    if state.bid_count == 0:
        return True
    return rules.reserve_price is not None and not reserve_met(rules, state) and (state.price or 0) < buy_now_price


def apply_bid(rules: Rules, state: State, bidder: int, amount: int) -> Outcome:
    """The state after `bidder` offers maximum `amount`, or TooLow / NotRaised."""
    floor = min_next_bid(rules, state)
    if bidder == state.leader:
        if amount <= (state.leader_max or 0):
            raise NotRaised(floor)
        if amount < floor:
            raise TooLow(floor)
        leader, leader_max, second_max, outbid, leading, raised = bidder, amount, state.second_max, None, True, True
    else:
        if amount < floor:
            raise TooLow(floor)
        raised = False
        if state.leader is None:
            leader, leader_max, second_max, outbid, leading = bidder, amount, None, None, True
        elif amount > state.leader_max:
            leader, leader_max, second_max, outbid, leading = bidder, amount, state.leader_max, state.leader, True
        else:  # the leader's earlier maximum is at least as high: they keep the lead
            leader, leader_max, outbid, leading = state.leader, state.leader_max, None, False
            second_max = amount if state.second_max is None else max(state.second_max, amount)
    price = price_for(rules, leader_max, second_max)
    if state.price is not None:
        price = max(price, state.price)  # cannot happen with a valid table; a guard all the same
    new = replace(
        state, leader=leader, leader_max=leader_max, second_max=second_max, price=price, bid_count=state.bid_count + 1
    )
    return Outcome(new, leading=leading, outbid=outbid, raised_own=raised)


def replay(rules: Rules, bids: Iterable[tuple[int, int]]) -> State:
    """Fold `apply_bid` over accepted (bidder, amount) pairs in order. A bid the engine refuses here
    means the log is inconsistent: the exception propagates."""
    state = State()
    for bidder, amount in bids:
        state = apply_bid(rules, state, bidder, amount).state
    return state


def soft_close_end(ends_at: datetime, accepted_at: datetime, window_seconds: int) -> datetime:
    """A bid accepted within the last `window_seconds` moves the end to accepted time + window."""
    if window_seconds <= 0:
        return ends_at
    window = timedelta(seconds=window_seconds)
    if ends_at - accepted_at <= window:
        return max(ends_at, accepted_at + window)
    return ends_at
