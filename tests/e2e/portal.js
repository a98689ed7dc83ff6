// Drives the portal page in headless Debian Chromium (playwright-core, no browser download):
// open the page, send a question, wait for the answer, click a button, wait for its answer.
// Usage: node tests/e2e/portal.js <portal-url> <out-dir> <question> <answer-text> <button> <button-answer-text>
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'web', 'node_modules', 'playwright-core'));

const [url, outDir, question, expected, buttonTitle, buttonExpected] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });  // a phone
    await page.goto(url);
    await page.click('.rw-launcher', { timeout: 20000 });
    const input = page.locator('.rw-new-message');
    await input.waitFor({ timeout: 20000 });
    await page.waitForFunction(() => document.body.innerText.includes('Xin chào'), null, { timeout: 30000 });
    await input.fill(question);
    await page.keyboard.press('Enter');
    await page.waitForFunction((t) => document.body.innerText.includes(t), expected, { timeout: 30000 });
    await page.screenshot({ path: path.join(outDir, 'portal-answer.png') });
    await page.locator('.rw-reply', { hasText: buttonTitle }).last().click();
    await page.waitForFunction((t) => document.body.innerText.includes(t), buttonExpected, { timeout: 30000 });
    await page.screenshot({ path: path.join(outDir, 'portal-button.png') });
    // The conversation is kept across a page reload (session_persistence + local storage).
    await page.reload();
    await page.waitForSelector('.rw-new-message, .rw-launcher', { timeout: 20000 });  // reopened or closed
    if (!(await page.locator('.rw-new-message').isVisible())) { await page.click('.rw-launcher'); }
    await page.waitForFunction((t) => document.body.innerText.includes(t), buttonExpected, { timeout: 30000 });
    await page.waitForTimeout(800);  // let the widget's opening animation finish
    await page.screenshot({ path: path.join(outDir, 'portal-after-reload.png') });
    const links = await page.locator('a[href^="https://dichvucong.gov.vn"]').count();
    console.log(JSON.stringify({ ok: true, links }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error('FAIL ' + e.message); process.exit(1); });
