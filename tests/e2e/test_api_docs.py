def test_swagger_ui_renders_offline_under_our_csp(page, live_url):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "bidcart API" in page.inner_text(".swagger-ui .info .title")
    assert not [e for e in errors if "Content Security Policy" in e], errors
