"""One Korean shop and what each query must find in it: the same cases run on SQLite (tests/catalog/
test_search.py) and on PostgreSQL (tests/services/test_store_search.py), so both give the same results."""

from tests.factories import make_category, make_product, make_user


def korean_shop() -> dict:
    seller = make_user(seller=True)
    food = make_category("식품", "food")
    coffee = make_category("커피·차 Coffee & tea", "coffee", food)
    electronics = make_category("전자제품", "electronics")
    keyboards = make_category("키보드 Keyboards", "keyboards", electronics)
    accessories = make_category("액세서리", "accessories", electronics)
    clothes = make_category("의류", "clothes")
    p = {
        "beans": make_product(
            seller, coffee, name="에티오피아 예가체프 원두", slug="beans", description="산미가 있는 싱글 오리진"
        ),
        "greentea": make_product(
            seller, coffee, name="제주 녹차 티백 50개", slug="greentea", description="1000원 할인"
        ),
        "mechanical": make_product(
            seller, keyboards, name="기계식 키보드 87키", slug="mechanical", description="핫스왑 지원 텐키리스"
        ),
        "lowprofile": make_product(
            seller,
            keyboards,
            name="Low Profile Wireless Keyboard",
            slug="lowprofile",
            description="Slim multi-device keyboard, Korean/English keycaps.",
        ),
        "exact": make_product(seller, accessories, name="키보드", slug="exact", description="이름이 검색어 그대로"),
        "wristrest": make_product(
            seller, accessories, name="키보드 손목 받침대", slug="wristrest", description="메모리폼"
        ),
        "tee": make_product(
            seller,
            clothes,
            name="오버핏 코튼 티셔츠",
            slug="tee",
            description="부드러운 면 100%",
            variants=[({"색상": "검정", "사이즈": "L"}, 19000, 3), ({"색상": "흰색", "사이즈": "M"}, 19000, 2)],
        ),
        "pants": make_product(seller, clothes, name="Linen_Blend Pants", slug="pants", description="summer"),
        "scarf": make_product(seller, clothes, name="LinenXBlend Scarf", slug="scarf", description=""),
    }
    return {"products": p, "categories": {"coffee": coffee, "keyboards": keyboards}}


# query → the products it finds (as a set: ranking is asserted separately)
CASES = [
    ("커피", {"beans", "greentea"}),  # the category's name: neither product says 커피
    ("키보드", {"mechanical", "lowprofile", "exact", "wristrest"}),  # names and the category (an English name)
    ("keyboard", {"mechanical", "lowprofile"}),  # English: the category "키보드 Keyboards" and the English name
    ("KEYBOARD", {"mechanical", "lowprofile"}),
    ("ｋｅｙｂｏａｒｄ", {"mechanical", "lowprofile"}),  # full-width typed on a phone keyboard
    ("셔츠", {"tee"}),  # a word inside a word (티셔츠)
    ("예가체프", {"beans"}),
    ("산미", {"beans"}),  # the description
    ("검정", {"tee"}),  # an option's value
    ("색상", {"tee"}),  # an option's name
    ("코튼 검정", {"tee"}),  # every word, across name and options
    ("코튼 바지", set()),
    ("전자제품", {"mechanical", "lowprofile", "exact", "wristrest"}),  # a parent category's name
    ("식품 녹차", {"greentea"}),
    ("n_b", {"pants"}),  # `_` is a letter, not LIKE's wildcard
    ("100%", {"tee"}),  # `%` too (greentea's "1000원" must not match)
    ("바지", set()),
]

# a query and the order its best matches come in
RANKED = ("키보드", ["exact", "wristrest", "mechanical", "lowprofile"])  # exact name, starts with, inside, category
