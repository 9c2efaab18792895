from tests.factories import store_fixtures
from tests.payments.fixtures import ADDRESS, make_order  # noqa: F401 - shared with the tests of this folder

_fast_hasher, seller, buyer, other = store_fixtures()
