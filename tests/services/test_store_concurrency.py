"""Store races on PostgreSQL: real threads, each with its own database connection."""

import threading

import pytest
from django.db import connection, connections

from bidcart.cart import services as cart_services
from bidcart.cart.models import Cart, CartItem
from bidcart.catalog import selectors as catalog_selectors
from bidcart.catalog.models import Product, Variant
from bidcart.core.errors import DomainError
from bidcart.orders import services as order_services
from bidcart.orders.models import Order, Status
from tests.factories import make_product, make_user
from tests.services.conftest import RACE_BUYERS
from tests.services.test_postgres import run_at_once

ADDRESS = {"recipient": "구매자", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울", "address2": ""}


def race_on_own_connections(funcs, timeout=120):
    """Run each function in its own thread on its own database connection, opened *before* a barrier:
    when the barrier lets them go, every connection is already open, so all of them really race at once.
    Returns (the PostgreSQL backend pid of each thread, the errors raised)."""
    barrier = threading.Barrier(len(funcs), timeout=timeout)
    pids, errors = [], []

    def worker(func):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            barrier.wait()
            func()
        except Exception as exc:  # collected, asserted by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(func,)) for func in funcs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racer is still running: a lock was never released"
    return pids, errors


@pytest.mark.django_db(transaction=True)
def test_100_buyers_racing_for_10_units_never_oversell():
    product = make_product(make_user(seller=True), slug="limited", price=10000, stock=10)
    variant = product.variants.get()
    buyers = [make_user(f"racer{i}@example.com") for i in range(RACE_BUYERS)]
    for user in buyers:
        CartItem.objects.create(cart=Cart.objects.create(user=user), variant=variant, quantity=1)
    refused, placed = [], []

    def buyer(user):
        def buy():
            try:
                placed.append((user.pk, order_services.place_order(user, shipping_address=ADDRESS).number))
            except DomainError as error:
                refused.append((user.pk, error.code, str(error.detail)))

        return buy

    # 100 threads, each holding its own connection, released together by a barrier
    pids, errors = race_on_own_connections([buyer(user) for user in buyers])
    assert errors == []
    assert len(set(pids)) == RACE_BUYERS  # 100 separate server sessions, all open when the race began
    assert len(placed) == 10 and Order.objects.count() == 10
    assert sorted(Order.objects.values_list("user_id", flat=True)) == sorted(pk for pk, _number in placed)
    assert len(refused) == 90 and {code for _pk, code, _detail in refused} == {"insufficient_stock"}
    assert all(product.name in detail for _pk, _code, detail in refused)  # a clear message naming the product
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert Product.objects.get(pk=product.pk).sold_count == 10
    # the winners' carts are emptied, the losers' untouched (they can remove the item and go on)
    assert set(CartItem.objects.values_list("cart__user_id", flat=True)) == {pk for pk, _code, _detail in refused}


@pytest.mark.django_db(transaction=True)
def test_multi_line_orders_racing_in_opposite_orders_neither_deadlock_nor_oversell():
    seller = make_user(seller=True)
    a = make_product(seller, slug="a", stock=20).variants.get()
    b = make_product(seller, slug="b", stock=20).variants.get()
    buyers = [make_user(f"pair{i}@example.com") for i in range(30)]
    for i, user in enumerate(buyers):
        cart = Cart.objects.create(user=user)
        first, second = (a, b) if i % 2 else (b, a)  # half add b first: allocation order must not matter
        CartItem.objects.create(cart=cart, variant=first, quantity=1)
        CartItem.objects.create(cart=cart, variant=second, quantity=1)
    queue = list(buyers)
    refused = []

    def buy():
        try:
            order_services.place_order(queue.pop(), shipping_address=ADDRESS)
        except DomainError as error:
            refused.append(error.code)

    assert run_at_once(30, buy) == []
    assert Order.objects.count() == 20 and len(refused) == 10
    assert Variant.objects.get(pk=a.pk).stock == 0 and Variant.objects.get(pk=b.pk).stock == 0


@pytest.mark.django_db(transaction=True)
def test_expiry_sweeps_running_at_once_release_stock_exactly_once():
    product = make_product(make_user(seller=True), slug="hold", stock=10)
    variant = product.variants.get()
    buyer = make_user("holder@example.com")
    CartItem.objects.create(cart=Cart.objects.create(user=buyer), variant=variant, quantity=4)
    order = order_services.place_order(buyer, shipping_address=ADDRESS)
    Order.objects.filter(pk=order.pk).update(payment_due_at=order.created_at)
    assert run_at_once(8, order_services.expire_unpaid) == []
    assert Order.objects.get(pk=order.pk).status == Status.EXPIRED
    assert Variant.objects.get(pk=variant.pk).stock == 10


@pytest.mark.django_db(transaction=True)
def test_payment_and_expiry_racing_have_exactly_one_winner():
    product = make_product(make_user(seller=True), slug="duel", stock=5)
    variant = product.variants.get()
    buyer = make_user("duel@example.com")
    CartItem.objects.create(cart=Cart.objects.create(user=buyer), variant=variant, quantity=2)
    order = order_services.place_order(buyer, shipping_address=ADDRESS)
    outcomes = []

    def pay():
        try:
            order_services.mark_paid(order)
            outcomes.append("paid")
        except DomainError as error:
            outcomes.append(error.code)

    def expire():
        try:
            order_services.transition(order, Status.EXPIRED)
            outcomes.append("expired")
        except DomainError as error:
            outcomes.append(error.code)

    funcs = iter([pay, expire] * 4)
    assert run_at_once(8, lambda: next(funcs)()) == []
    final = Order.objects.get(pk=order.pk).status
    assert outcomes.count(final) == 1  # one winner, everyone else refused
    assert Variant.objects.get(pk=variant.pk).stock == (3 if final == Status.PAID else 5)


@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_merge_a_visitor_cart_once():
    seller = make_user(seller=True)
    tee = make_product(seller, slug="tee", stock=5).variants.get()
    mug = make_product(seller, slug="mug", stock=50).variants.get()
    user = make_user("merger@example.com")
    CartItem.objects.create(cart=Cart.objects.create(user=user), variant=tee, quantity=2)
    anon = Cart.objects.create(token="visitor-token")
    CartItem.objects.create(cart=anon, variant=tee, quantity=2)
    CartItem.objects.create(cart=anon, variant=mug, quantity=3)
    # several tabs log in at once with the same session cart, and other visitor carts merge too
    others = []
    for i in range(4):
        cart = Cart.objects.create(token=f"other-{i}")
        CartItem.objects.create(cart=cart, variant=mug, quantity=1)
        others.append(cart.token)
    tokens = iter(["visitor-token"] * 6 + others)
    results = []
    errors = run_at_once(10, lambda: results.append(cart_services.merge_into_user(next(tokens), user)))
    assert errors == []
    assert sum(r.moved for r in results) == 2 + 4  # the visitor cart merged once, each other cart once
    cart = Cart.objects.get(user=user)
    assert {i.variant_id: i.quantity for i in cart.items.all()} == {tee.pk: 4, mug.pk: 3 + 4}
    assert not Cart.objects.filter(user__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_cart_is_created_once_under_concurrent_adds():
    mug = make_product(make_user(seller=True), slug="mug", stock=100).variants.get()
    user = make_user("adder@example.com")

    class Request:
        def __init__(self):
            self.user, self.session = user, {}

    def add():
        cart_services.add_item(cart_services.cart_for(Request()), mug.pk, 1)

    assert run_at_once(20, add) == []
    assert Cart.objects.filter(user=user).count() == 1
    assert CartItem.objects.get(cart__user=user).quantity == 20


@pytest.mark.django_db
def test_search_finds_words_anywhere_and_uses_the_trigram_index_on_the_search_text():
    """The search moved from full text on the name to substrings of `Product.search_text` (catalog/search.py,
    migration catalog 0005): on PostgreSQL a GIN trigram index serves it, and the old full-text one is gone."""
    seller = make_user(seller=True)
    make_product(seller, name="오버핏 코튼 티셔츠", slug="tee", description="부드러운 면 100%")
    make_product(seller, name="Oxford Shirt", slug="shirt", description="classic button-down")
    search = lambda text: sorted(p.slug for p in catalog_selectors.search(catalog_selectors.active_products(), text))
    assert search("티셔츠") == ["tee"]
    assert search("oxf") == ["shirt"]  # prefix match
    assert search("button") == ["shirt"]  # description
    assert search("코튼 티셔") == ["tee"]
    assert search("nothing") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_product'")
        indexes = dict(cursor.fetchall())
    assert "catalog_product_search_gin" not in indexes  # the full-text index of the old search
    indexdef = indexes["catalog_product_search_text_trgm"]
    assert "gin" in indexdef.lower() and "gin_trgm_ops" in indexdef and "search_text" in indexdef
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = catalog_selectors.search(Product.objects.all(), "티셔츠").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "catalog_product_search_text_trgm" in plan
