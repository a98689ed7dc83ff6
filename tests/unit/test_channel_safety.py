"""bot/channels/safety.py: the one rule for what leaves the bot (standard library, tested directly)."""

from __future__ import annotations

from bot.channels.safety import markdown_text, safe_buttons, scrub_links

JS = "javascript:alert(1)"


def test_markdown_link_and_image_syntax_is_escaped() -> None:
    assert markdown_text("[x](javascript:alert(1))") == r"\[x\]\(javascript&#58;alert\(1\)\)"
    assert markdown_text("![i](https://x.vn/a.png)") == r"\!\[i\]\(https://x.vn/a.png\)"


def test_html_becomes_entities() -> None:
    assert markdown_text("<img src=x onerror=alert(1)>") == r"&lt;img src=x onerror=alert\(1\)&gt;"
    assert markdown_text("a & b &lt;") == "a &amp; b &amp;lt;"


def test_bare_safe_https_urls_stay_readable() -> None:
    url = "https://dichvucong.gov.vn/p/home/dvc-tthc.html?ma_thu_tuc=1.001193"
    assert markdown_text(f"Xem {url}.") == f"Xem {url}\\."
    assert markdown_text(f"({url})") == f"\\({url}\\)"


def test_markdown_hidden_inside_a_url_is_inert() -> None:
    assert markdown_text("https://a.vn/[x](y) z") == r"https://a.vn/%5Bx%5D%28y\) z"


def test_other_schemes_are_not_autolinked() -> None:
    assert markdown_text("http://evil.example/x mailto:a@b.c") == r"http&#58;//evil\.example/x mailto&#58;a@b\.c"


def test_formatting_characters_are_literal() -> None:
    assert markdown_text("1. Bước *một* _hai_ # ba | `c`") == r"1\. Bước \*một\* \_hai\_ \# ba \| \`c\`"
    assert markdown_text("Lệ phí: 8.000 đồng") == r"Lệ phí: 8\.000 đồng"


def test_link_buttons_with_another_scheme_are_dropped() -> None:
    buttons = [{"title": "a", "url": JS}, {"title": "b", "payload": "/ask_fee"},
               {"title": "c", "url": " https://dichvucong.gov.vn "}, {"title": "d", "type": "web_url", "payload": "x"},
               {"title": "e", "url": "http://dichvucong.gov.vn"}, {"title": "f", "url": "data:text/html,x"}, "junk"]
    assert safe_buttons(buttons) == [{"title": "b", "payload": "/ask_fee"},
                                     {"title": "c", "url": "https://dichvucong.gov.vn"}]


def test_payloads_with_unsafe_urls_are_scrubbed() -> None:
    template = {"attachment": {"type": "template", "payload": {"template_type": "button", "text": "t", "buttons": [
        {"type": "web_url", "url": JS, "title": "x"}, {"type": "postback", "title": "y", "payload": "/y"}]}}}
    kept = scrub_links(template)
    assert kept["attachment"]["payload"]["buttons"] == [{"type": "postback", "title": "y", "payload": "/y"}]
    assert scrub_links({"attachment": {"type": "image", "payload": {"url": "data:image/png;base64,x"}}}) is None
    only_bad = {"text": "t", "attachment": {"payload": {"buttons": [{"type": "oa.open.url", "payload": {"url": JS}}]}}}
    assert scrub_links(only_bad) is None  # a template left without buttons is not sent
    assert scrub_links({"text": "ok", "n": 1}) == {"text": "ok", "n": 1}
