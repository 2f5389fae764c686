// GraphiQL in headless Chromium against a running server: types a query
// and a bearer header into the page, runs it, reads the answer; then runs a
// subscription (over the page's WebSocket, with the same header) and sees
// an invitation made meanwhile arrive; and checks that no request left the
// server's origin and the page broke no CSP rule.
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
let page;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
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

  // A subscription, live in the response pane.
  const http = async (query, variables) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()).data;
  };
  const ws = (await http('mutation { createWorkspace(input: { name: "Browser", domains: ["browser.test"] }) { id } }'))
    .createWorkspace.id;
  const sockets = [];
  page.on('websocket', (s) => sockets.push(s.url()));
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('subscription Live { invitationEvents { kind invitation { email } } }');
  // The editor parses what was typed after a pause; only then does the
  // fetcher know it holds a subscription.
  await page.waitForTimeout(1000);
  await page.click('.graphiql-execute-button');
  // Subscribed once the socket is open and the server has read the
  // subscribe message; a moment covers the latter.
  for (let i = 0; i < 100 && sockets.length === 0; i += 1) await page.waitForTimeout(50);
  await page.waitForTimeout(500);
  await http('mutation($ws: ID!) { createInvitation(workspaceId: $ws, email: "live@browser.test") { id } }', { ws });
  await response.filter({ hasText: 'live@browser.test' }).waitFor({ timeout: 20000 });
  const live = await response.innerText();
  console.log(`subscription: ${live.replace(/\s+/g, ' ').trim()}`);
  if (!live.includes('"CREATED"')) fail(`no CREATED event in the pane: ${live}`);
  console.log(`sockets: ${sockets.join(', ')}`);
  if (!sockets.some((u) => u.endsWith('/graphql'))) fail('no WebSocket to /graphql');

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
  for (const p of problems) console.error(`console: ${p}`);
  if (page && process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
