// GraphiQL in headless Chromium against a running server: types a query
// and a bearer header into the page, runs it, reads the answer, and checks
// that no request left the server's origin and the page broke no CSP rule.
// Usage: BASE_URL=http://127.0.0.1:8080 TOKEN=<jwt> [SCREENSHOT=file.png] node graphiql.mjs
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const token = process.env.TOKEN;
if (!base || !token) {
  console.error('BASE_URL and TOKEN must be set');
  process.exit(2);
}
const origin = new URL(base).origin;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let failed = false;
const fail = (message) => {
  console.error(`FAIL ${message}`);
  failed = true;
};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  await page.goto(`${base}/graphql`, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 20000 });

  // The query, typed into the query editor.
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('{ me { handle } }');

  // The bearer header, typed into the Headers tab.
  await page.getByRole('button', { name: 'Headers' }).click();
  const headers = page.locator('.graphiql-editor-tool .CodeMirror').last();
  await headers.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(`{"Authorization": "Bearer ${token}"}`);

  await page.click('.graphiql-execute-button');
  const response = page.locator('.graphiql-response .CodeMirror');
  await response.filter({ hasText: '"handle"' }).waitFor({ timeout: 20000 });
  const answer = await response.innerText();
  console.log(`answer: ${answer.replace(/\s+/g, ' ').trim()}`);
  if (!answer.includes('"handle": "@')) fail(`no handle in the answer: ${answer}`);
  if (answer.includes('"errors"')) fail(`errors in the answer: ${answer}`);

  const outside = requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
  console.log(`requests: ${requests.length}, outside ${origin}: ${outside.length}`);
  for (const u of outside) fail(`request outside the origin: ${u}`);
  for (const p of problems) fail(`console: ${p}`);

  if (process.env.SCREENSHOT) {
    await page.screenshot({ path: process.env.SCREENSHOT });
    console.log(`screenshot: ${process.env.SCREENSHOT}`);
  }
} catch (e) {
  fail(String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
