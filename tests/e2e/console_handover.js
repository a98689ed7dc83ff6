// The live handover in headless Debian Chromium (playwright-core, as portal.js): a citizen asks the
// portal widget for an officer; an officer logs in to the console, takes the case, reads the citizen's
// new message, replies; the reply appears in the citizen's widget; the officer closes the case and
// the assistant answers the citizen again. Prints one JSON line (the handover's reference).
// Usage: node tests/e2e/console_handover.js <knowledge-url> <out-dir> <username> <password>
const path = require('path');
const { launch } = require('./browser');

const [base, outDir, username, password] = process.argv.slice(2);
const WAIT = { timeout: 30000 };
const REPLY = 'Bạn mang theo căn cước bản gốc khi đến nộp hồ sơ nhé.';
const LATER = 'Ngoài ra tôi cần hỏi thêm về lệ phí';

const shows = (page, text) => page.waitForFunction((t) => document.body.innerText.includes(t), text, WAIT);

// The console has no script: the officer reloads the case page until the citizen's message is there.
async function reloadUntil(page, text) {
  for (let i = 0; i < 60; i += 1) {
    await page.reload();
    if ((await page.locator('ol.live').innerText()).includes(text)) { return; }
    await page.waitForTimeout(500);
  }
  throw new Error('the officer never saw: ' + text);
}

async function ask(widget, text) {
  await widget.locator('.rw-new-message').fill(text);
  await widget.keyboard.press('Enter');
}

(async () => {
  const browser = await launch();
  try {
    // The citizen, on the portal.
    const widget = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await widget.goto(base + '/');
    await widget.click('.rw-launcher', { timeout: 20000 });
    await widget.locator('.rw-new-message').waitFor({ timeout: 20000 });
    await shows(widget, 'Xin chào');
    await ask(widget, 'tôi muốn gặp cán bộ');
    await shows(widget, 'Tôi đã chuyển cuộc trò chuyện tới cán bộ hỗ trợ (mã yêu cầu HT-');
    const ref = (await widget.evaluate(() => document.body.innerText)).match(/HT-[2-9A-Z]{8}/)[0];

    // The officer, in the console (another browser context: no shared cookies).
    const desk = await (await browser.newContext()).newPage();
    await desk.goto(base + '/console/login');
    await desk.fill('#username', username);
    await desk.fill('#password', password);
    await Promise.all([desk.waitForURL(base + '/console/'), desk.click('button[type=submit]')]);
    await desk.click(`a[href="/console/handovers/${ref}"]`);
    await shows(desk, 'Người dân yêu cầu gặp cán bộ');
    await Promise.all([desk.waitForURL(/m=taken/), desk.click('text=Nhận yêu cầu này')]);
    await shows(desk, 'Trợ lý ảo đã tạm dừng trong cuộc trò chuyện này.');
    await shows(widget, `Cán bộ ${username} đã nhận yêu cầu ${ref}`);

    // The bot is paused: the citizen's next message reaches the officer, not the assistant.
    await ask(widget, LATER);
    await reloadUntil(desk, LATER);
    await desk.fill('#reply', REPLY);
    await Promise.all([desk.waitForURL(/m=sent/), desk.click('text=Gửi trả lời')]);
    await shows(widget, `Cán bộ ${username}: ${REPLY}`);
    await widget.screenshot({ path: path.join(outDir, 'officer-reply.png') });
    const answeredWhilePaused = await widget.evaluate(() => /Lệ phí «/.test(document.body.innerText));

    // Closing hands the conversation back: the assistant answers again.
    await Promise.all([desk.waitForURL(/m=closed/), desk.click('text=Kết thúc và trả lại cho trợ lý ảo')]);
    await shows(widget, 'Trợ lý ảo đã quay lại');
    await ask(widget, 'lam giay khai sinh online the nao');
    await shows(widget, 'Thủ tục đăng ký khai sinh');
    await widget.screenshot({ path: path.join(outDir, 'bot-back.png') });
    const status = await desk.locator('dd.status').innerText();
    console.log(JSON.stringify({ ok: true, ref, answeredWhilePaused, status }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error('FAIL ' + e.message); process.exit(1); });
