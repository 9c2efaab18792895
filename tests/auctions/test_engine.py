"""The proxy-bidding engine, as table tests, plus a property test over random bid sequences: the state
after any sequence equals a from-scratch replay of the accepted bids, and eBay's rules hold at every step."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidcart.auctions import conf, engine
from bidcart.auctions.engine import NotRaised, Rules, State, TooLow

KRW = engine.validate_table(conf.DEFAULT_INCREMENTS["KRW"])
A, B, C = 1, 2, 3


def rules(start=10_000, reserve=None, table=KRW):
    return Rules(start, reserve, table)


def run(r, *bids):
    """Apply (bidder, amount) pairs; answer the final outcome."""
    state, outcome = State(), None
    for bidder, amount in bids:
        outcome = engine.apply_bid(r, state, bidder, amount)
        state = outcome.state
    return outcome


@pytest.mark.parametrize(
    "price, inc",
    [
        (0, 100),
        (1, 100),
        (9_999, 100),
        (10_000, 500),
        (49_999, 500),
        (50_000, 1_000),
        (99_999, 1_000),
        (100_000, 2_500),
        (500_000, 5_000),
        (1_000_000, 10_000),
        (5_000_000, 50_000),
        (10_000_000, 100_000),
        (10**12, 100_000),
    ],
)
def test_increment_by_price_band(price, inc):
    assert engine.increment(price, KRW) == inc


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [[100, 10]],  # must start at 0
        [[0, 10], [0, 20]],  # bands must ascend
        [[0, 10], [100, 5]],  # increments may not shrink: the price could go down
        [[0, 0]],  # increments must be positive
    ],
)
def test_invalid_increment_tables_are_refused(rows):
    with pytest.raises(engine.InvalidTable):
        engine.validate_table(rows)


def test_the_default_tables_are_valid():
    for rows in conf.DEFAULT_INCREMENTS.values():
        engine.validate_table(rows)


# (description, rules, bids, expected leader, price, second max, leading after the last bid, outbid)
CASES = [
    ("first bid: price is the start price, whatever the maximum", rules(), [(A, 15_000)], A, 10_000, None, True, None),
    (
        "a lower maximum: the leader keeps it, price = second max + one increment",
        rules(),
        [(A, 15_000), (B, 12_000)],
        A,
        12_500,
        12_000,
        False,
        None,
    ),
    (
        "a higher maximum takes the lead at old max + increment",
        rules(),
        [(A, 15_000), (B, 20_000)],
        B,
        15_500,
        15_000,
        True,
        A,
    ),
    (
        "a tie goes to the earlier bid, at the tied amount",
        rules(),
        [(A, 20_000), (B, 20_000)],
        A,
        20_000,
        20_000,
        False,
        None,
    ),
    (
        "price is capped at the top maximum (less than a full increment above the runner-up)",
        rules(),
        [(A, 10_600), (B, 10_500)],
        A,
        10_600,
        10_500,
        False,
        None,
    ),
    (
        "the leader raising their own maximum doesn't move the price",
        rules(),
        [(A, 15_000), (B, 12_000), (A, 30_000)],
        A,
        12_500,
        12_000,
        True,
        None,
    ),
    (
        "raising out of a tie bumps the price one increment (eBay)",
        rules(),
        [(A, 20_000), (B, 20_000), (A, 25_000)],
        A,
        20_500,
        20_000,
        True,
        None,
    ),
    (
        "increment of the second maximum's band: 9,950 → +100",
        rules(start=5_000),
        [(A, 20_000), (B, 9_950)],
        A,
        10_050,
        9_950,
        False,
        None,
    ),
    (
        "increment of the second maximum's band: 10,000 → +500",
        rules(start=5_000),
        [(A, 20_000), (B, 10_000)],
        A,
        10_500,
        10_000,
        False,
        None,
    ),
    (
        "reserve: one bidder whose maximum meets it pays the reserve",
        rules(reserve=50_000),
        [(A, 60_000)],
        A,
        50_000,
        None,
        True,
        None,
    ),
    (
        "reserve: one bidder below it stays at the start price",
        rules(reserve=50_000),
        [(A, 40_000)],
        A,
        10_000,
        None,
        True,
        None,
    ),
    (
        "reserve: the formula's price is raised to the reserve once the top maximum meets it",
        rules(reserve=50_000),
        [(A, 30_000), (B, 60_000)],
        B,
        50_000,
        30_000,
        True,
        A,
    ),
    (
        "reserve: the leader raising to meet it jumps the price to the reserve",
        rules(reserve=50_000),
        [(A, 30_000), (A, 55_000)],
        A,
        50_000,
        None,
        True,
        None,
    ),
    (
        "reserve: above it the formula takes over again",
        rules(reserve=50_000),
        [(A, 60_000), (B, 55_000)],
        A,
        56_000,
        55_000,
        False,
        None,
    ),
    (
        "three bidders: second max is the best of the non-leaders",
        rules(),
        [(A, 15_000), (B, 12_000), (C, 14_000)],
        A,
        14_500,
        14_000,
        False,
        None,
    ),
]


@pytest.mark.parametrize("why, r, bids, leader, price, second, leading, outbid", CASES, ids=[c[0] for c in CASES])
def test_proxy_bidding(why, r, bids, leader, price, second, leading, outbid):
    outcome = run(r, *bids)
    assert outcome.state.leader == leader
    assert outcome.state.price == price
    assert outcome.state.second_max == second
    assert outcome.leading is leading
    assert outcome.outbid == outbid
    assert outcome.state.bid_count == len(bids)
    assert outcome.state.leader_max == max(a for b, a in bids if b == leader)


@pytest.mark.parametrize(
    "bids, bidder, amount, error, minimum",
    [
        ([], A, 9_999, TooLow, 10_000),  # the first bid: at least the start price
        ([(A, 15_000)], C, 10_499, TooLow, 10_500),  # then price + increment
        ([(A, 15_000), (B, 12_000)], C, 12_999, TooLow, 13_000),  # 12,500 + 500
        ([(A, 15_000)], A, 15_000, NotRaised, 10_500),  # the leader must go above their own maximum
        ([(A, 15_000)], A, 14_000, NotRaised, 10_500),
        ([(A, 10_400)], A, 10_450, TooLow, 10_500),  # …and at least the minimum next bid
    ],
)
def test_refused_bids(bids, bidder, amount, error, minimum):
    r = rules()
    state = run(r, *bids).state if bids else State()
    with pytest.raises(error) as refused:
        engine.apply_bid(r, state, bidder, amount)
    assert refused.value.min_next_bid == minimum
    assert engine.min_next_bid(r, state) == minimum


def test_min_next_bid_and_reserve_met():
    r = rules(reserve=50_000)
    assert engine.min_next_bid(r, State()) == 10_000
    s = run(r, (A, 30_000)).state
    assert (engine.min_next_bid(r, s), engine.reserve_met(r, s)) == (10_500, False)
    s = run(r, (A, 30_000), (B, 70_000)).state
    assert (engine.min_next_bid(r, s), engine.reserve_met(r, s)) == (51_000, True)
    assert engine.reserve_met(rules(), State()) is True  # no reserve: nothing to meet


@pytest.mark.parametrize(
    "reserve, bids, buy_now, available",
    [
        (None, [], 13_000, True),  # nobody has bid
        (None, [(A, 11_000)], 13_000, False),  # the first bid takes it away
        (50_000, [(A, 20_000)], 60_000, True),  # bids, but the reserve is unmet
        (50_000, [(A, 50_000)], 60_000, False),  # reserve met
        (None, [], None, False),  # no Buy It Now price
    ],
)
def test_buy_now_availability(reserve, bids, buy_now, available):
    r = rules(reserve=reserve)
    state = run(r, *bids).state if bids else State()
    assert engine.buy_now_available(r, state, buy_now) is available


END = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "seconds_left, window, new_end_offset",
    [
        (121, 120, 0),  # outside the window: unchanged
        (120, 120, 0),  # exactly at the window's edge: accepted time + window is the end already
        (90, 120, 30),  # 90 s left → ends 120 s after the bid
        (1, 120, 119),
        (0.5, 120, 119.5),
        (30, 0, 0),  # window 0: a hard close
    ],
)
def test_soft_close(seconds_left, window, new_end_offset):
    accepted = END - timedelta(seconds=seconds_left)
    assert engine.soft_close_end(END, accepted, window) == END + timedelta(seconds=new_end_offset)


# --- property test -----------------------------------------------------------------------------------


def _reference(r: Rules, log):
    """Leader, price and second maximum recomputed from the bidders' maxima, from scratch."""
    best: dict[int, tuple[int, int]] = {}  # bidder → (max, index when that max was reached)
    for i, (bidder, amount) in enumerate(log):
        if bidder not in best or amount > best[bidder][0]:
            best[bidder] = (amount, i)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))  # highest max, earliest on ties
    leader, (top, _) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else None
    return leader, top, second, engine.price_for(r, top, second)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(rnd=st.randoms(use_true_random=False), usd=st.booleans())
def test_any_bid_sequence_equals_a_replay_of_its_accepted_bids(rnd, usd):
    """Hypothesis draws the bid sequences (and shrinks a failing one to the shortest that still fails)."""
    table = engine.validate_table(conf.DEFAULT_INCREMENTS["USD"]) if usd else KRW
    start = rnd.choice([100, 1_000, 9_900, 10_000, 49_000])
    reserve = rnd.choice([None, None, start * rnd.randint(1, 8)])
    r = rules(start=start, reserve=reserve, table=table)
    state, log, prices = State(), [], []
    for _ in range(rnd.randint(1, 40)):
        bidder = rnd.randint(1, 5)
        floor = engine.min_next_bid(r, state)
        amount = max(1, floor + rnd.choice([-1, 0, 0, 1, rnd.randint(0, 3 * floor), rnd.randint(-floor // 2, floor)]))
        if rnd.random() < 0.15 and state.leader_max:
            amount = state.leader_max  # ties
        try:
            outcome = engine.apply_bid(r, state, bidder, amount)
        except engine.Refused:
            assert amount < floor or (bidder == state.leader and amount <= state.leader_max)
            continue
        assert amount >= floor
        state = outcome.state
        log.append((bidder, amount))
        prices.append(state.price)
        leader, top, second, price = _reference(r, log)
        assert (state.leader, state.leader_max, state.second_max, state.price) == (leader, top, second, price)
        assert state.price <= state.leader_max
        assert state.price >= start
        assert engine.min_next_bid(r, state) > state.price
    assert prices == sorted(prices), "the price never goes down"
    assert engine.replay(r, log) == state
