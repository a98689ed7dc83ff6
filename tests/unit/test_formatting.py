"""The channel formatting layer is standard-library only, so it is tested here directly."""

from bot.channels.formatting import chunk_buttons, neutral_buttons, shorten_title, split_text


def test_long_text_is_split_not_cut() -> None:
    text = "\n".join(f"{i}. Bước thứ {i} của thủ tục, làm trên Cổng Dịch vụ công quốc gia." for i in range(1, 40))
    parts = split_text(text, 300)
    assert all(len(p) <= 300 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())  # nothing lost
    assert all(p.split(".")[0].strip().isdigit() for p in parts)  # splits fall on line starts


def test_a_word_longer_than_the_limit_is_still_split() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_buttons_titles_and_counts() -> None:
    buttons = neutral_buttons([{"title": "Giấy tờ cần chuẩn bị cho thủ tục đăng ký khai sinh", "payload": "/a"},
                               {"title": "Nộp trực tuyến", "url": "https://dichvucong.gov.vn"},
                               {"title": ""}, {"title": "Lệ phí"}])
    assert [b.is_link for b in buttons] == [False, True, False]
    assert buttons[2].payload == "Lệ phí"
    short = shorten_title(buttons[0].title, 20)
    assert len(short) <= 20 and short.endswith("…")
    assert [len(c) for c in chunk_buttons(buttons, 2)] == [2, 1]
