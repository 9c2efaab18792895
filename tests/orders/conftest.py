from tests.factories import store_fixtures

_fast_hasher, seller, buyer, other = store_fixtures()
