from bidcart.accounts.models import BlockedIP, HoneypotAttempt


def test_five_failed_logins_at_admin_block_the_browser_on_the_honeypot_only(page, live_url):
    page.goto(f"{live_url}/admin/")
    assert "Django administration" in page.content()
    for i in range(5):
        page.fill("#id_username", f"admin{i}")
        page.fill("#id_password", "password123")
        page.click("input[type=submit]")
        if i < 4:
            assert page.locator(".errornote").is_visible()
    # The fifth attempt blocked this address on the honeypot; the shop stays open (an address is often shared).
    response = page.goto(live_url + "/admin/")
    assert response.status == 403 and "This address is blocked" in page.content()
    for path in ("/", "/accounts/login/", "/api/docs/", "/healthz"):
        assert page.goto(live_url + path).status == 200, path
    assert HoneypotAttempt.objects.filter(ip="127.0.0.1").count() == 5
    assert list(HoneypotAttempt.objects.order_by("created_at").values_list("username", flat=True)) == [
        f"admin{i}" for i in range(5)
    ]
    assert BlockedIP.objects.filter(ip="127.0.0.1").exists()
