"""Demo reviews (after the accounts, catalog and orders seeds): the demo buyers bought a few products and
reviewed them, so 평점순 and the product pages have something to show. Made through the services, as the
product makes them: a paid order, shipped by its seller and confirmed by the buyer (구매확정), then the review."""

from bidcart.accounts.models import User
from bidcart.cart import services as cart
from bidcart.catalog.models import Product
from bidcart.orders import services as orders

from . import services

ADDRESS = {"recipient": "구매자", "phone": "010-0000-0003", "postcode": "04524", "address1": "서울 중구 세종대로 110"}

# buyer email, product slug, rating, text
REVIEWS = [
    ("buyer@example.com", "single-origin-beans", 5, "산미가 산뜻하고 향이 좋아요. 핸드드립으로 매일 마십니다."),
    ("buyer2@example.com", "single-origin-beans", 4, "신선하게 잘 왔어요. 다음엔 홀빈으로 살게요."),
    ("buyer@example.com", "mechanical-keyboard", 4, "타건감 좋아요. 저소음 적축이라 사무실에서도 괜찮습니다."),
    ("buyer2@example.com", "overfit-cotton-tee", 5, "핏이 예쁘고 세탁 후에도 늘어나지 않아요."),
    ("buyer@example.com", "cast-iron-pan", 3, "무겁지만 스테이크가 정말 잘 구워져요."),
]


def seed() -> None:
    for n, (email, slug, rating, text) in enumerate(REVIEWS):
        user = User.objects.filter(email=email).first()
        product = Product.objects.filter(slug=slug).first()
        variant = product.variants.filter(stock__gt=0).first() if product else None
        if user is None or variant is None:
            continue
        cart.add_item(cart._user_cart(user), variant.pk, 1)
        order = orders.mark_paid(orders.place_order(user, shipping_address=ADDRESS), note="demo")
        orders.update_shipment(product.seller, order, "shipped", courier="cj", tracking_number=f"6012345678{n:02d}")
        orders.confirm_purchase(user, order)
        services.create_review(user, product, rating=rating, text=text)
