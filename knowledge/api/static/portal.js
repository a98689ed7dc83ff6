// The portal page's script (knowledge/api/static/portal.html), a file of its own so the page can
// send a Content-Security-Policy without 'unsafe-inline' scripts (knowledge/api/routers/portal.py).
// It reads the page's JSON configuration, loads rasa-webchat and starts it. The conversation is
// kept per tab (sessionStorage): a reload keeps it, another tab or a shared computer's next user
// after the tab is closed does not see it. Session ids are issued and checked by Rasa
// (bot/channels/portal.py).
(function () {
  "use strict";
  var status = document.getElementById("widget-status");
  var config = {};
  try {
    config = JSON.parse(document.getElementById("portal-config").textContent || "{}");
  } catch (e) {
    status.textContent = "Không đọc được cấu hình khung trò chuyện.";
    return;
  }
  if (status.dataset.missing) {
    status.textContent = "Chưa cài khung trò chuyện: quản trị viên chạy `make setup`.";
    return;
  }
  var socketUrl = config.socketUrl ||
    (window.location.protocol + "//" + window.location.hostname + ":" + config.rasaPort);
  var s = document.createElement("script");
  s.src = "/static/webchat/index.js";
  s.async = true;
  s.onload = function () {
    window.WebChat.default({
      selector: "#webchat",
      initPayload: "/greet",
      customData: { language: "vi" },
      socketUrl: socketUrl,
      socketPath: "/socket.io/",
      title: config.title,
      subtitle: "Hỏi đáp dịch vụ công trực tuyến",
      inputTextFieldHint: "Nhập câu hỏi, ví dụ: làm giấy khai sinh online thế nào?",
      connectingText: "Đang kết nối…",
      showFullScreenButton: true,
      showMessageDate: false,
      params: { storage: "session" },
      embedded: false
    }, null);
  };
  s.onerror = function () { status.textContent = "Không tải được khung trò chuyện."; };
  document.body.appendChild(s);
})();
