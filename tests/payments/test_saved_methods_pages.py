"""The buyer's saved-cards page (Korean by default): add a card on PortOne's window, see it, delete it."""

from __future__ import annotations

import html
import json
import re

import pytest

from bidcart.payments.models import SavedPaymentMethod
from tests.payments.fixtures import pay_in_portone_window

pytestmark = pytest.mark.django_db


def test_a_buyer_adds_and_deletes_a_card_on_the_page(sim, client, buyer):
    client.force_login(buyer)
    page = client.get("/payments/methods/")
    assert page.status_code == 200 and "등록한 카드가 없습니다." in page.content.decode()
    started = client.post("/payments/methods/", {"action": "add", "provider": "portone"})
    text = started.content.decode()
    assert started.status_code == 200 and "카드 등록 창을 여는 중입니다" in text
    params = json.loads(html.unescape(re.search(r'data-params="([^"]*)"', text).group(1)))
    back = html.unescape(re.search(r'data-return="([^"]*)"', text).group(1))
    location = pay_in_portone_window(re.search(r'data-script="([^"]*)"', text).group(1), params)
    assert location.startswith(back)
    landed = client.get(location.removeprefix("http://shop.test"), follow=True)
    text = landed.content.decode()
    assert "카드를 등록했습니다." in text and "BC카드" in text and "0005" in text and "(기본)" in text
    method = SavedPaymentMethod.objects.get(user=buyer)
    deleted = client.post("/payments/methods/", {"action": "delete", "method": method.pk}, follow=True)
    assert "카드를 삭제했습니다." in deleted.content.decode() and "0005" not in deleted.content.decode()


def test_a_page_action_on_nothing_is_a_message_not_an_error(sim, client, buyer):
    client.force_login(buyer)
    for data in ({"action": "delete", "method": "x"}, {"action": "default", "method": "999"}, {"action": "add", "provider": "x"}):
        r = client.post("/payments/methods/", data, follow=True)
        assert r.status_code == 200
