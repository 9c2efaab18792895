"""A person signs up, opens the emailed link, logs in, and switches the language."""

import re

from django.core import mail
from playwright.sync_api import expect

PASSWORD = "e2e-long-password-731"


def test_signup_verify_login_and_switch_language(page, live_url):
    page.goto(f"{live_url}/")
    page.get_by_test_id("nav-signup").click()
    form = page.get_by_test_id("signup-form")
    expect(form).to_be_visible()
    form.locator("input[name=email]").fill("e2e.person@example.com")
    form.locator("input[name=display_name]").fill("이투이")
    form.locator("input[name=phone]").fill("010-2345-6789")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill("not the same")
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("error-password2")).to_be_visible()  # a mistake is shown, nothing sent
    assert not mail.outbox

    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    for item in ("terms", "privacy", "age"):  # the required consents (marketing stays optional)
        form.locator(f"input[name=consent_{item}]").check()
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("signup-done")).to_contain_text("e2e.person@example.com")

    # not verified yet: logging in is refused with a way to get the link again
    page.goto(f"{live_url}/accounts/login/")
    page.locator("input[name=email]").fill("e2e.person@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-inactive")).to_be_visible()
    expect(page.get_by_test_id("login-resend")).to_be_visible()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "인증" in message.subject  # the browser speaks Korean, so does the email
    link = re.search(r"https?://\S+/accounts/verify-email/\S+/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.get_by_test_id("verify-email-done")).to_be_visible()

    page.get_by_test_id("verify-email-continue").click()  # the link signed the new member in

    greeting = page.get_by_test_id("home-greeting")
    expect(greeting).to_contain_text("이투이님, 다시 오신 것을 환영합니다.")
    expect(page.get_by_test_id("nav-logout")).to_have_text("로그아웃")

    page.get_by_test_id("lang-en").click()
    expect(greeting).to_have_text("Welcome back, 이투이.")
    expect(page.get_by_test_id("nav-logout")).to_have_text("Log out")

    page.get_by_test_id("lang-ko").click()
    expect(greeting).to_have_text("이투이님, 다시 오신 것을 환영합니다.")

    # the used link now shows a clear page with a resend form
    page.goto(link)
    expect(page.get_by_test_id("verify-email-invalid")).to_be_visible()
    expect(page.get_by_test_id("resend-form")).to_be_visible()
