// The example front end (examples/web) end to end in headless Chromium,
// against a real server that runs only the example's trusted documents:
// Ada signs in with a pasted token, creates a workspace and invites three
// addresses at once (one result each); Bob, in a second browser context,
// accepts; Dan, in a third, declines; Ada's page, never reloaded, sees
// both change through the subscription.
// Usage: APP_URL=http://127.0.0.1:4173 API_URL=http://127.0.0.1:8080 \
//   ADA=<jwt> BOB=<jwt> DAN=<jwt> [SCREENSHOT=file.png] node example.mjs
import { chromium } from 'playwright-core';

const { APP_URL: app, API_URL: api, ADA, BOB, DAN, SCREENSHOT } = process.env;
if (!app || !api || !ADA || !BOB || !DAN) {
  console.error('APP_URL, API_URL, ADA, BOB and DAN must be set');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const problems = [];
const step = (what) => console.log(`  ${what}`);

/** A new browser context (its own storage: another person), signed in. */
async function signedIn(token, who) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${who}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: ${e}`));
  await page.goto(app, { waitUntil: 'load' });
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My workspaces' }).waitFor();
  return page;
}

/** The status shown in the row of `email` on Ada's workspace page. */
const statusOf = (page, email) => page.locator(`tr[data-email="${email}"] [data-testid=status]`);

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: 10000 });
  } catch {
    const seen = await locator.allTextContents().catch(() => []);
    throw new Error(`${what}: expected ${text}, saw ${JSON.stringify(seen)}`);
  }
}

let ada;
let failed = false;
try {
  // The server runs the example's documents only.
  const stranger = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADA}` },
    body: JSON.stringify({ query: '{ me { email } }' }),
  }).then((r) => r.json());
  if (stranger.errors?.[0]?.extensions?.code !== 'PERSISTED_QUERY_NOT_FOUND') {
    throw new Error(`an untrusted document ran: ${JSON.stringify(stranger)}`);
  }
  step('an untrusted document is refused (PERSISTED_QUERY_NOT_FOUND)');

  ada = await signedIn(ADA, 'ada');
  await ada.getByLabel('Name').fill('Acme');
  await ada.getByLabel('Allowed domains').fill('acme.test');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('link', { name: 'Acme' }).click();
  await ada.getByRole('heading', { name: 'Acme' }).waitFor();
  await expectText(ada.getByTestId('live'), 'live', 'the subscription');
  step('Ada created a workspace and opened it; its invitations are live');

  await ada
    .getByLabel('Email addresses')
    .fill('bob@acme.test\ndan@acme.test\nnot-an-address\nzed@elsewhere.test');
  await ada.getByRole('button', { name: 'Invite' }).click();
  await expectText(ada.getByTestId('invited-count'), '2 invited', 'the bulk result');
  const outcomes = {
    'bob@acme.test': 'INVITED',
    'dan@acme.test': 'INVITED',
    'not-an-address': 'INVALID_EMAIL',
    'zed@elsewhere.test': 'DOMAIN_NOT_ALLOWED',
  };
  for (const [email, outcome] of Object.entries(outcomes)) {
    await expectText(ada.locator(`tr[data-result="${email}"]`), outcome, email);
  }
  await expectText(statusOf(ada, 'bob@acme.test'), 'PENDING', 'bob before');
  await expectText(statusOf(ada, 'dan@acme.test'), 'PENDING', 'dan before');
  step('Ada invited four addresses at once: two invited, two refused, each with its reason');

  const bob = await signedIn(BOB, 'bob');
  await bob.getByRole('link', { name: 'Received invitations' }).click();
  const bobs = bob.locator('tr[data-workspace="Acme"]');
  await expectText(bobs.getByTestId('status'), 'PENDING', "bob's invitation");
  await bobs.getByRole('button', { name: 'Accept' }).click();
  await expectText(bobs.getByTestId('status'), 'ACCEPTED', 'bob after accepting');
  step('Bob, in a second browser context, accepted');
  await expectText(statusOf(ada, 'bob@acme.test'), 'ACCEPTED', "bob's row on Ada's page");
  step("Ada's page shows it, live, without a reload");

  const dan = await signedIn(DAN, 'dan');
  await dan.getByRole('link', { name: 'Received invitations' }).click();
  const dans = dan.locator('tr[data-workspace="Acme"]');
  await dans.getByRole('button', { name: 'Decline' }).click();
  await expectText(dans.getByTestId('status'), 'DECLINED', 'dan after declining');
  await expectText(statusOf(ada, 'dan@acme.test'), 'DECLINED', "dan's row on Ada's page");
  step("Dan declined in a third context; Ada's page shows that too");

  if (problems.length) throw new Error(`the pages reported errors: ${problems.join('\n')}`);
} catch (e) {
  console.error(`FAIL ${e.message}`);
  failed = true;
} finally {
  if (SCREENSHOT && ada) await ada.screenshot({ path: SCREENSHOT, fullPage: true });
  await browser.close();
}
if (failed) process.exit(1);
console.log('example front end: ok');
