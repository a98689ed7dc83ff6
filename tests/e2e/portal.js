// Drives the portal page in headless Debian Chromium (playwright-core, no browser download):
// open the page, send a question, wait for the answer, click a button, wait for its answer; the
// page must carry its Content-Security-Policy and the browser must report no violation of it.
// Usage: node tests/e2e/portal.js <portal-url> <out-dir> <question> <answer-text> <button> <button-answer-text>
const path = require('path');
const { launch } = require('./browser');

const [url, outDir, question, expected, buttonTitle, buttonExpected] = process.argv.slice(2);

(async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });  // a phone
    const page = await context.newPage();
    const violations = [];
    const watch = (p) => {
      p.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
      p.on('pageerror', (e) => { if (/Content Security Policy|EvalError/i.test(String(e))) violations.push(String(e)); });
    };
    watch(page);
    const response = await page.goto(url);
    const headers = response.headers();
    const csp = headers['content-security-policy'] || '';
    if (!/script-src 'self'(;|$)/.test(csp) || !/object-src 'none'/.test(csp) || !/frame-ancestors 'none'/.test(csp)) {
      throw new Error('missing or weak Content-Security-Policy: ' + JSON.stringify(csp));
    }
    if (headers['x-content-type-options'] !== 'nosniff' || headers['referrer-policy'] !== 'no-referrer') {
      throw new Error('missing security headers: ' + JSON.stringify(headers));
    }
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
    // The conversation is kept across a reload of the same tab (server-issued session + sessionStorage).
    await page.reload();
    await page.waitForSelector('.rw-new-message, .rw-launcher', { timeout: 20000 });  // reopened or closed
    if (!(await page.locator('.rw-new-message').isVisible())) { await page.click('.rw-launcher'); }
    await page.waitForFunction((t) => document.body.innerText.includes(t), buttonExpected, { timeout: 30000 });
    await page.waitForTimeout(800);  // let the widget's opening animation finish
    await page.screenshot({ path: path.join(outDir, 'portal-after-reload.png') });
    const links = await page.locator('a[href^="https://dichvucong.gov.vn"]').count();
    const unsafeLinks = await page.locator('a[href^="javascript:"]').count();
    // Another tab starts its own conversation: the first one's answers are not shown there.
    const other = await context.newPage();
    watch(other);
    await other.goto(url);
    await other.click('.rw-launcher', { timeout: 20000 });
    await other.waitForFunction(() => document.body.innerText.includes('Xin chào'), null, { timeout: 30000 });
    const otherTabSees = await other.evaluate((t) => document.body.innerText.includes(t), buttonExpected);
    if (otherTabSees) { throw new Error('a new tab showed the other tab\'s conversation'); }
    if (violations.length) { throw new Error('CSP violations: ' + JSON.stringify(violations)); }
    console.log(JSON.stringify({ ok: true, links, unsafeLinks, csp, violations: violations.length }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error('FAIL ' + e.message); process.exit(1); });
