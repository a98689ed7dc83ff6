from scripts.credentials import compose

BASE = {"rest": None, "bot.channels.portal.PortalSocketIOInput": {"session_persistence": True}}


def test_only_channels_with_all_secrets_are_enabled() -> None:
    creds, enabled = compose(BASE, {"FB_VERIFY_TOKEN": "v", "FB_APP_SECRET": "s"})
    assert enabled == [] and set(creds) == set(BASE)
    env = {"FB_VERIFY_TOKEN": "v", "FB_APP_SECRET": "s", "FB_PAGE_ACCESS_TOKEN": "t",
           "FB_GRAPH_BASE_URL": "http://127.0.0.1:9"}
    creds, enabled = compose(BASE, env)
    assert enabled == ["MessengerInput"]
    assert creds["bot.channels.facebook.MessengerInput"] == {
        "verify": "v", "secret": "s", "page-access-token": "t", "graph_base_url": "http://127.0.0.1:9"}
