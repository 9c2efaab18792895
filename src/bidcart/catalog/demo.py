"""A believable demo catalog, owned by seller@example.com (created by the accounts seed, which runs first)."""

from datetime import timedelta

from django.utils import timezone

from bidcart.accounts.models import User

from .models import Category, Product, Variant

# slug, name, parent slug
CATEGORIES = [
    ("fashion", "패션 Fashion", None),
    ("men", "남성의류 Men", "fashion"),
    ("tshirts", "티셔츠 T-shirts", "men"),
    ("shirts", "셔츠 Shirts", "men"),
    ("women", "여성의류 Women", "fashion"),
    ("shoes", "신발 Shoes", "fashion"),
    ("electronics", "전자기기 Electronics", None),
    ("audio", "음향기기 Audio", "electronics"),
    ("keyboards", "키보드 Keyboards", "electronics"),
    ("food", "식품 Food", None),
    ("coffee", "커피·차 Coffee & tea", "food"),
    ("snacks", "간식 Snacks", "food"),
    ("home", "홈·리빙 Home", None),
    ("kitchen", "주방 Kitchen", "home"),
]

SIZES = ["S", "M", "L", "XL"]

# slug, name, category, brand, base price, description, variants [(attributes, price, stock)]
PRODUCTS = [
    (
        "overfit-cotton-tee",
        "오버핏 코튼 티셔츠",
        "tshirts",
        "무지랩",
        19000,
        "20수 면 100% 오버핏 반팔 티셔츠. 세탁 후에도 늘어나지 않아요.",
        [
            ({"size": s, "colour": c}, 19000, 0 if (s, c) == ("XL", "검정") else 12)
            for c in ("검정", "흰색")
            for s in SIZES
        ],
    ),
    (
        "heavyweight-pocket-tee",
        "Heavyweight Pocket Tee",
        "tshirts",
        "Northfield",
        32000,
        "A 300 gsm heavyweight cotton tee with a chest pocket.",
        [({"size": s, "colour": "Navy"}, 32000, 5) for s in SIZES],
    ),
    (
        "oxford-button-down",
        "옥스포드 버튼다운 셔츠",
        "shirts",
        "클래식핏",
        45000,
        "탄탄한 옥스포드 원단의 데일리 셔츠.",
        [({"size": s, "colour": c}, 45000, 4) for c in ("하늘색", "흰색") for s in ("M", "L")],
    ),
    (
        "linen-summer-shirt",
        "Linen Summer Shirt",
        "shirts",
        "Coastline",
        59000,
        "Breathable pure linen, relaxed fit.",
        [({"size": s}, 59000, 0) for s in ("M", "L")],
    ),  # sold out
    (
        "knit-cardigan",
        "울 블렌드 니트 가디건",
        "women",
        "소소",
        68000,
        "부드러운 울 블렌드 니트, 간절기에 딱.",
        [({"size": s, "colour": c}, 68000, 3) for c in ("베이지", "차콜") for s in ("S", "M")],
    ),
    (
        "wide-denim",
        "Wide Leg Denim",
        "women",
        "Indigo Lab",
        54000,
        "High-rise wide leg jeans in rigid denim.",
        [({"size": s}, 54000, 6) for s in ("25", "26", "27", "28")],
    ),
    (
        "canvas-sneakers",
        "캔버스 스니커즈",
        "shoes",
        "워크앤런",
        49000,
        "가볍고 편한 데일리 캔버스화.",
        [({"size": str(s), "colour": "흰색"}, 49000, 0 if s == 280 else 7) for s in (240, 250, 260, 270, 280)],
    ),
    (
        "trail-runner",
        "Trail Runner GTX",
        "shoes",
        "Summit",
        139000,
        "Waterproof trail running shoe with a grippy outsole.",
        [({"size": str(s)}, 139000, 2) for s in (260, 270)],
    ),
    (
        "wireless-earbuds",
        "노이즈캔슬링 무선 이어폰",
        "audio",
        "사운드웨이",
        129000,
        "액티브 노이즈캔슬링, 최대 30시간 재생.",
        [({"colour": c}, 129000, 10) for c in ("블랙", "화이트")],
    ),
    (
        "bluetooth-speaker",
        "Portable Bluetooth Speaker",
        "audio",
        "Boomly",
        79000,
        "IP67 waterproof speaker with 20 hours of play.",
        [({"colour": "Blue"}, 79000, 8), ({"colour": "Red"}, 79000, 0)],
    ),
    (
        "mechanical-keyboard",
        "기계식 키보드 87키",
        "keyboards",
        "타건공방",
        89000,
        "핫스왑 지원 텐키리스 기계식 키보드.",
        [({"switch": s}, 89000 if s != "저소음 적축" else 95000, 5) for s in ("갈축", "적축", "저소음 적축")],
    ),
    (
        "low-profile-keyboard",
        "Low Profile Wireless Keyboard",
        "keyboards",
        "Flatkey",
        69000,
        "Slim multi-device keyboard, Korean/English keycaps.",
        [({"layout": "KR"}, 69000, 9), ({"layout": "US"}, 69000, 4)],
    ),
    (
        "single-origin-beans",
        "싱글오리진 원두 500g",
        "coffee",
        "로스터리 한",
        24000,
        "에티오피아 예가체프, 산뜻한 산미와 꽃향.",
        [({"grind": g}, 24000, 20) for g in ("홀빈", "핸드드립", "에스프레소")],
    ),
    (
        "cold-brew-pack",
        "Cold Brew Coffee Pack (10)",
        "coffee",
        "Brewhaus",
        15000,
        "Ten cold brew bags: steep overnight.",
        [({}, 15000, 30)],
    ),
    (
        "jeju-green-tea",
        "제주 녹차 티백 50개입",
        "coffee",
        "제주다원",
        12000,
        "제주 유기농 녹차잎으로 만든 티백.",
        [({}, 12000, 25)],
    ),
    (
        "honey-butter-chips",
        "허니버터 감자칩 10봉",
        "snacks",
        "바삭",
        16000,
        "달콤하고 고소한 감자칩 박스.",
        [({}, 16000, 40)],
    ),
    (
        "mixed-nuts",
        "Daily Mixed Nuts (30 packs)",
        "snacks",
        "Nutty",
        27000,
        "Thirty single-serve packs of roasted nuts.",
        [({}, 27000, 15)],
    ),
    (
        "cast-iron-pan",
        "무쇠 주물 팬 26cm",
        "kitchen",
        "무쇠공방",
        58000,
        "오래 쓰는 주물 팬, 시즈닝 완료.",
        [({"size": "26cm"}, 58000, 6), ({"size": "28cm"}, 64000, 3)],
    ),
    (
        "ceramic-mug-set",
        "Ceramic Mug Set (2)",
        "kitchen",
        "Kiln & Co",
        22000,
        "Two hand-glazed stoneware mugs.",
        [({"colour": c}, 22000, 5) for c in ("Sand", "Moss")],
    ),
]


def seed() -> None:
    seller = User.objects.filter(email="seller@example.com").first()
    if seller is None:  # the accounts seed makes it; keep going if someone deleted it
        now = timezone.now()
        seller = User.objects.create_user(
            "seller@example.com", None, display_name="한빛상회", is_seller=True, is_active=True, email_verified_at=now
        )
    categories: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(CATEGORIES):
        categories[slug] = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "parent": categories.get(parent), "position": position}
        )[0]
    now = timezone.now()
    for age, (slug, name, category, brand, price, description, variants) in enumerate(PRODUCTS):
        if Product.objects.filter(slug=slug).exists():
            continue
        product = Product.objects.create(
            seller=seller,
            category=categories[category],
            slug=slug,
            name=name,
            brand=brand,
            base_price=price,
            description=description,
            created_at=now - timedelta(hours=age * 7),
            sold_count=(len(PRODUCTS) - age) * 3 % 17,
        )
        for position, (attributes, vprice, stock) in enumerate(variants):
            Variant.objects.create(
                product=product,
                sku=f"{slug[:24]}-{position:02d}".upper(),
                attributes=attributes,
                price=vprice,
                stock=stock,
                position=position,
            )
