from tests.catalog.factories import store_fixtures

_fast_hasher, seller, buyer, other = store_fixtures()
