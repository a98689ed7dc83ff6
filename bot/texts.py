"""Every fixed sentence the assistant says, in one place (issue 11): actions and channels import
them from here. Texts built from a record (a procedure's fee, its steps) are rendered by
actions/messages.py from the record's own fields. No imports: both Python environments read this
module (the action server and Rasa's channels)."""

from __future__ import annotations

PORTAL_URL = "https://dichvucong.gov.vn"

# -- Answers -----------------------------------------------------------------------------------

APOLOGY_DOWN = (
    "Xin lỗi, hệ thống tra cứu thủ tục đang tạm thời gián đoạn. Bạn vui lòng thử lại sau ít phút, "
    f"hoặc tra cứu trực tiếp trên Cổng Dịch vụ công quốc gia: {PORTAL_URL}"
)

NOT_FOUND = (
    "Xin lỗi, tôi chưa tìm thấy thông tin phù hợp với câu hỏi của bạn trong cơ sở dữ liệu. "
    f"Bạn có thể gõ tên thủ tục cụ thể hơn, tra cứu trên {PORTAL_URL}, "
    "hoặc gõ \"gặp cán bộ\" để được hỗ trợ trực tiếp."
)

WHICH_ONE = ("Bạn muốn hỏi về thủ tục nào dưới đây? Nếu không có thủ tục bạn cần, hãy gõ tên thủ tục cụ thể hơn "
             "hoặc tra cứu trên dichvucong.gov.vn.")

# After a rule in force the question overlooked, when nothing else matched it.
REFORM_ONLY = ("Bạn cho tôi biết tên thủ tục cần làm (ví dụ \"đăng ký khai sinh\") để tôi chỉ nơi giải quyết "
               "hiện nay và cách nộp trực tuyến.")

# -- Fallback ----------------------------------------------------------------------------------

NOTHING = ("Xin lỗi, tôi chưa hiểu câu hỏi và cũng chưa tìm thấy thủ tục phù hợp. Bạn thử gõ tên thủ tục, "
           "ví dụ \"cấp lại thẻ căn cước\", hoặc bấm nút dưới đây để được cán bộ hỗ trợ.")
FALLBACK_SUGGEST = "Có phải bạn muốn hỏi về một trong các nội dung sau?"

# -- Feedback ------------------------------------------------------------------------------------

FEEDBACK_DOWN = "Cảm ơn bạn đã cho biết. Bạn chấm câu trả lời bao nhiêu điểm? Nếu cần, bạn có thể gặp cán bộ hỗ trợ."
FEEDBACK_UP = "Cảm ơn bạn! Bạn có muốn chấm điểm câu trả lời (không bắt buộc)?"
FEEDBACK_THANKS = "Cảm ơn bạn đã góp ý! Ý kiến của bạn giúp chúng tôi trả lời tốt hơn."

# -- Buttons -------------------------------------------------------------------------------------

OFFICER_LABEL = "Gặp cán bộ hỗ trợ"
OFFICER_SHORT_LABEL = "Gặp cán bộ"
MENU_LABEL = "Hỏi thủ tục khác"

# -- Forms (dossier status, handover contact) --------------------------------------------------

FORM_STOPPED = "Vâng, tôi đã dừng. Bạn cần hỏi thêm thủ tục nào không?"

DOSSIER_NOT_PERSONAL = ("Đây là số giấy tờ tùy thân hoặc số điện thoại, không phải mã hồ sơ (bạn không cần gửi số "
                        "căn cước để tra cứu). Mã hồ sơ in trên phiếu hẹn trả kết quả, có dạng "
                        "G22.99.01-251120-0001. Bạn nhập lại mã, hoặc gõ \"thôi\" để dừng.")

DOSSIER_GAVE_UP = ("Tôi vẫn chưa nhận ra mã hồ sơ nên dừng tra cứu ở đây. Bạn có thể tra cứu trên "
                   f"{PORTAL_URL} (mục Tra cứu hồ sơ), hỏi thủ tục khác, hoặc gặp cán bộ hỗ trợ.")

CONTACT_INVALID = ("Số điện thoại hoặc email chưa hợp lệ. Ví dụ: 0912345678 hoặc ten@gmail.com. "
                   "Gõ \"thôi\" nếu bạn không muốn để lại liên hệ.")

CONTACT_GAVE_UP = ("Tôi vẫn chưa nhận ra số điện thoại hoặc email nên chưa lưu liên hệ. Yêu cầu gặp cán bộ của "
                   "bạn vẫn được ghi nhận; bạn có thể quay lại trong giờ làm việc hoặc hỏi tôi thủ tục khác.")

CONTACT_DECLINED = ("Vâng, tôi không lưu thông tin liên hệ của bạn. Bạn có thể quay lại trong giờ làm việc hoặc "
                    "hỏi tôi về thủ tục khác.")

# -- Dossier status ----------------------------------------------------------------------------

BAD_CODE = ("Mã hồ sơ chưa đúng định dạng. Mã in trên phiếu hẹn trả kết quả hoặc tin nhắn/email xác nhận "
            "khi nộp hồ sơ, ví dụ G22.99.01-251120-0001. Bạn nhập lại mã, hoặc gõ \"thôi\" để dừng tra cứu.")

UNKNOWN = ("Không tìm thấy hồ sơ có mã {code}. Bạn kiểm tra lại mã trên phiếu hẹn; hồ sơ nộp ở tỉnh khác "
           "hoặc qua cổng khác cần tra cứu trên dichvucong.gov.vn.")

NOT_AVAILABLE = ("Trợ lý này chưa được kết nối với hệ thống một cửa của địa phương nên chưa tra cứu được "
                 "tình trạng hồ sơ. Bạn tra cứu trên Cổng Dịch vụ công quốc gia https://dichvucong.gov.vn (mục "
                 "Tra cứu hồ sơ) bằng mã hồ sơ in trên phiếu hẹn trả kết quả, hoặc hỏi bộ phận một cửa nơi bạn "
                 "đã nộp hồ sơ.")

DOWN = ("Xin lỗi, hệ thống một cửa đang tạm thời không tra cứu được. Bạn thử lại sau ít phút hoặc tra cứu "
        "trên dichvucong.gov.vn (mục Tra cứu hồ sơ) bằng mã hồ sơ.")

# -- Scams and other languages -----------------------------------------------------------------

SCAM_WARNING = (
    "⚠️ Cảnh báo: đây rất có thể là lừa đảo mạo danh cơ quan nhà nước.\n"
    "• Công an, cán bộ xã hay Cổng Dịch vụ công không bao giờ yêu cầu chuyển tiền, đọc mã OTP "
    "hay mật khẩu qua điện thoại hoặc tin nhắn.\n"
    "• Trang web chính thức có địa chỉ kết thúc bằng .gov.vn (Cổng Dịch vụ công quốc gia: dichvucong.gov.vn).\n"
    "• Ứng dụng VNeID chỉ cài từ kho ứng dụng chính thức (App Store, Google Play), không cài từ đường link "
    "trong tin nhắn.\n"
    "Bạn nên: cúp máy, không bấm vào đường link, không cung cấp mã OTP hay mật khẩu. Nếu đã chuyển tiền, "
    "gọi ngay cho ngân hàng của bạn.\n"
    "Để trình báo: báo ngay cho cơ quan công an nơi gần nhất."
)

SCAM_OFFICIAL_REMINDER = (
    "Dù vậy, cán bộ không bao giờ xin mã OTP, mật khẩu hay yêu cầu chuyển tiền qua điện thoại, tin nhắn. "
    "Nếu nghi ngờ bị lừa đảo, báo ngay cho cơ quan công an nơi gần nhất."
)

# -- Other languages --------------------------------------------------------------------------------
OTHER_LANGUAGE = (
    "Xin lỗi, tôi chỉ trả lời bằng tiếng Việt. Tôi hỗ trợ thủ tục hành chính và dịch vụ công trực tuyến: "
    "giấy tờ cần chuẩn bị, lệ phí, nơi nộp, cách nộp online, tra cứu hồ sơ.\n"
    "Sorry, I can only answer in Vietnamese. I help with administrative procedures and online public services "
    "in Vietnam: required documents, fees, where and how to apply online, and application status. Please ask in "
    "Vietnamese (for example \"đăng ký khai sinh\" for a birth registration) or ask for an officer."
)

# Beside OTHER_LANGUAGE, when the English words name one record clearly (actions/data/english_terms.yaml).
OTHER_LANGUAGE_MATCH = "Có thể bạn muốn hỏi / You may be asking about: «{title}»"

# NLU took a Vietnamese message for another language: ask again in Vietnamese.
NOT_OTHER_LANGUAGE = ("Xin lỗi, tôi chưa hiểu câu hỏi. Bạn gõ tên thủ tục cần làm, ví dụ \"làm giấy khai sinh "
                      "online\", \"cấp lại thẻ căn cước\", hoặc gặp cán bộ hỗ trợ.")

# -- Channels (bot/channels, bot/rasa_patches.py) ---------------------------------------------

# A photo, file, sticker or voice message (Facebook; Zalo says TEXT_ONLY_TEXT).
ATTACHMENT_REPLY = ("Hiện tôi chỉ đọc được tin nhắn chữ, chưa xem được ảnh, tệp, âm thanh hay nhãn dán. "
                    "Bạn vui lòng gõ câu hỏi bằng chữ, ví dụ: \"làm giấy khai sinh online thế nào\".")
TEXT_ONLY_TEXT = (
    "Hiện tôi chỉ đọc được tin nhắn chữ. Bạn vui lòng gõ câu hỏi bằng chữ, "
    "ví dụ: \"làm giấy khai sinh online thế nào\"."
)
# Zalo: a follower's first contact.
WELCOME_TEXT = (
    "Xin chào! Tôi là trợ lý ảo hỗ trợ tra cứu thủ tục hành chính và dịch vụ công trực tuyến. "
    "Bạn có thể hỏi tôi, ví dụ: \"làm giấy khai sinh online thế nào\" hoặc \"tra cứu tình trạng hồ sơ\"."
)
# Lead-ins of the messages that carry buttons a platform could not fit in one message.
CHOOSE_PROMPT = "Mời bạn chọn:"
QUICK_REPLY_PROMPT = "Bạn có thể chọn nhanh:"
MORE_LINKS = "Liên kết khác:"
MORE_OPTIONS = "Lựa chọn khác:"
MORE_BUTTONS_TEXT = "Các lựa chọn khác:"
# A message over the channel's limit (DVC_MAX_MESSAGE_CHARS): nothing of it is stored.
TOO_LONG = ("Tin nhắn quá dài (tối đa {limit} ký tự). Bạn vui lòng gửi câu hỏi ngắn gọn hơn, ví dụ: "
            "tên thủ tục và điều bạn cần biết (hồ sơ, lệ phí, thời gian, nơi nộp).")
