// Plays a user of the single-page app in ../spa/ in headless Chromium, against a running
// `sigil dev`; started by ../browser_spa.rs, which checks what this prints.
//
// Environment: ISSUER (http://127.0.0.1:A), SPA (the app's registered origin),
// FOREIGN (the same app from an origin no client registered), USERNAME, PASSWORD,
// CHROMIUM (the browser binary).
//
// Prints one JSON object on standard output: what the app and the browser saw at each step.
// Any step that does not happen (a page that never comes) fails the script with a message
// and the page it was on.

import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const SPA = env('SPA');
const FOREIGN = env('FOREIGN');
const USERNAME = env('USERNAME');
const PASSWORD = env('PASSWORD');

const STEP_TIMEOUT_MS = 15_000;
const seen = {};

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  headless: true,
  // A fresh temporary profile per launch; nothing from the machine's browser.
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const context = await browser.newContext();
context.setDefaultTimeout(STEP_TIMEOUT_MS);
const page = await context.newPage();
const consoleLines = [];
page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));

// Opens the app at `origin` and waits until it has handled how it was reached.
async function openApp(origin) {
  await page.goto(`${origin}/?issuer=${encodeURIComponent(ISSUER)}`);
  return arrived();
}

async function arrived() {
  await page.waitForFunction(() => window.spa !== undefined);
  return page.evaluate(() => window.spa.arrived);
}

// The app navigates away (sign-in or sign-out): starts `action` without waiting on the
// page's promise, which the navigation ends, and waits until the browser shows the next
// document (after any redirects).
async function navigateFromApp(action) {
  const next = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() });
  await page.evaluate(action);
  await next;
  await page.waitForLoadState();
}

// Whatever the user is shown on the way back to the app: the login form, then the
// consent form (ticking "remember"), as a user would fill them.
async function playUser(origin) {
  const pages = [];
  for (;;) {
    await page.waitForURL((url) => url.origin === origin || url.pathname.startsWith('/account/'));
    const url = new URL(page.url());
    if (url.origin === origin) break;
    if ((await page.locator('form').count()) === 0) {
      // An error page (a refused form post): nothing for the user to do.
      throw new Error(`no form on ${url.href}: ${await page.locator('body').innerText()}`);
    }
    if (url.pathname === '/account/login') {
      pages.push('login');
      await page.fill('input[name=username]', USERNAME);
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL((next) => next.href !== url.href), page.click('button[type=submit]')]);
    } else if (url.pathname === '/account/consent') {
      pages.push('consent');
      await page.check('input[name=remember]');
      await Promise.all([
        page.waitForURL((next) => next.href !== url.href),
        page.click('button[name=decision][value=allow]'),
      ]);
    } else {
      throw new Error(`unexpected page ${url.href}`);
    }
  }
  return pages;
}

// What another site's form does: a page on FOREIGN (another site than the issuer, so the
// browser sends no SameSite=Lax cookie with the post) submits a form with `fields` to
// `action`. Runs in `tab` (a new one if not given) and waits until the browser shows the
// document the post led to on `until` (an origin). Returns every document response on the
// way (method, path, status) and the cookies the issuer set.
async function postFromAnotherSite(action, fields, { tab, until = new URL(ISSUER).origin } = {}) {
  const other = tab ?? (await context.newPage());
  try {
    await other.goto(`${FOREIGN}/?issuer=${encodeURIComponent(ISSUER)}`);
    const documents = [];
    const setCookies = [];
    const record = async (response) => {
      if (!response.request().isNavigationRequest()) return;
      const url = new URL(response.url());
      documents.push(`${response.request().method()} ${url.pathname} ${response.status()}`);
      const cookies = await response.headerValue('set-cookie');
      if (cookies && url.origin === new URL(ISSUER).origin) setCookies.push(cookies);
    };
    other.on('response', record);
    const arrived = other.waitForURL((url) => url.origin === until);
    await other.evaluate(([target, values]) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = target;
      for (const [name, value] of Object.entries(values)) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    }, [action, fields]);
    await arrived;
    other.off('response', record);
    return { documents, setCookies };
  } finally {
    if (!tab) await other.close();
  }
}

async function sessionCookie() {
  const cookies = await context.cookies(ISSUER);
  const cookie = cookies.find((c) => c.name === 'sigil_session');
  return cookie ? { secure: cookie.secure, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite } : null;
}

try {
  // 1. The app, on its own origin, reads discovery and JWKS, and signs the user in.
  seen.start = await openApp(SPA);
  seen.discovery = await page.evaluate(() => window.spa.discover());
  await navigateFromApp(() => { window.spa.signIn(); });
  //    While the login page is open, another site posts a form to end-session: it must not
  //    break the login form (whose CSRF token is bound to the browser cookie).
  await page.waitForURL((url) => url.pathname === '/account/login');
  seen.crossSiteEndSession = await postFromAnotherSite(`${ISSUER}/connect/endsession`, {});
  seen.pages = await playUser(SPA);
  seen.sessionCookie = await sessionCookie();
  seen.signIn = await arrived();

  // 2. With the tokens: userinfo (preflighted), a refresh, an end-session fetch.
  seen.userinfo = await page.evaluate(() => window.spa.userinfo());
  seen.refresh = await page.evaluate(() => window.spa.refresh());
  seen.userinfoAfterRefresh = await page.evaluate(() => window.spa.userinfo());
  seen.endSessionFetch = await page.evaluate(() => window.spa.endSessionByFetch());
  const accessToken = await page.evaluate(() => window.spa.tokens().access_token);

  // 3. A silent sign-in (still signed in: the fetch above ended nothing) whose code the app
  //    keeps for the foreign page to try.
  await navigateFromApp(() => { window.spa.signIn({ prompt: 'none', hold: true }); });
  seen.held = await arrived();

  // 3b. The same silent sign-in, posted by a form on another site (OIDC Core §3.1.2.1: the
  //     authorization endpoint takes POST): the browser sends no SameSite=Lax cookie with a
  //     cross-site post, yet single sign-on must hold.
  const silent = await page.evaluate(() => window.spa.authorizationRequest({ prompt: 'none', hold: true }));
  const posted = await postFromAnotherSite(silent.endpoint, silent.params, { tab: page, until: SPA });
  seen.crossSiteSilent = { ...(await arrived()), documents: posted.documents };

  // 4. The same app from an origin no client registered: public documents yes, the rest no.
  seen.foreign = { start: await openApp(FOREIGN) };
  seen.foreign.discovery = await page.evaluate(() => window.spa.discover());
  seen.foreign.redeem = await page.evaluate(
    ([code, verifier]) => window.spa.redeem(code, verifier),
    [seen.held.code, seen.held.verifier],
  );
  seen.foreign.userinfo = await page.evaluate((token) => window.spa.userinfo(token), accessToken);

  // 5. Back on its own origin, the app redeems the code the foreign page could not spend.
  await openApp(SPA);
  seen.heldRedeemed = await page.evaluate(
    ([code, verifier]) => window.spa.redeem(code, verifier),
    [seen.held.code, seen.held.verifier],
  );
  seen.heldRedeemed = { status: seen.heldRedeemed.status, blocked: seen.heldRedeemed.blocked };

  // 6. Logout: a navigation to end-session with the id_token as hint, back to the app.
  await navigateFromApp(() => { window.spa.signOut(); });
  seen.signedOut = await arrived();
  seen.sessionCookieAfterLogout = await sessionCookie();

  // 7. The session is over: a silent sign-in now gets login_required.
  await navigateFromApp(() => { window.spa.signIn({ prompt: 'none' }); });
  seen.silentAfterLogout = await arrived();

  process.stdout.write(`${JSON.stringify(seen)}\n`);
} catch (error) {
  let where = '';
  try {
    where = `\non ${page.url()}:\n${(await page.content()).slice(0, 2000)}`;
  } catch {
    // The page itself is gone.
  }
  process.stderr.write(
    `browser scenario failed: ${error.stack ?? error}${where}\nconsole:\n${consoleLines.join('\n')}\nseen so far: ${JSON.stringify(seen)}\n`,
  );
  process.exitCode = 1;
} finally {
  await browser.close();
}
