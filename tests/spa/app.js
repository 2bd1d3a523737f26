// A single-page app of the kind that signs in against Sigil from another origin: the
// authorization code flow with PKCE (WebCrypto), then token, userinfo, refresh, revocation and
// end-session calls with fetch, which the browser subjects to CORS. No library, no build step.
//
// The page keeps what must survive the trip to the sign-in pages in sessionStorage (per origin,
// per tab). `window.spa` is what a test drives; each method resolves to a plain object of what
// the app saw, including a fetch that the browser refused (`{ blocked: "TypeError: ..." }`).

const CLIENT_ID = 'spa';
const SCOPE = 'openid profile email offline_access orders.read';
const store = sessionStorage;

const here = new URL(location.href);
if (here.searchParams.has('issuer')) {
  store.setItem('issuer', here.searchParams.get('issuer'));
}
const issuer = store.getItem('issuer');
const redirectUri = `${location.origin}/`;

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function pkce() {
  const verifier = random();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(digest) };
}

// What a fetch gave: status and JSON body, or the browser's refusal (a CORS failure is a
// TypeError, with nothing of the response visible).
async function call(url, init = {}) {
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    return {
      status: response.status,
      body,
      wwwAuthenticate: response.headers.get('www-authenticate'),
    };
  } catch (error) {
    return { blocked: String(error) };
  }
}

function form(fields) {
  return { method: 'POST', body: new URLSearchParams(fields) };
}

async function metadata() {
  const saved = store.getItem('metadata');
  if (saved) return JSON.parse(saved);
  const answer = await call(`${issuer}/.well-known/openid-configuration`);
  if (answer.status !== 200) throw new Error(`discovery: ${JSON.stringify(answer)}`);
  store.setItem('metadata', JSON.stringify(answer.body));
  return answer.body;
}

function tokens() {
  return JSON.parse(store.getItem('tokens') ?? '{}');
}

function show(step, result) {
  document.getElementById('status').textContent = step;
  document.getElementById('result').textContent = JSON.stringify(result, null, 2);
  return result;
}

const spa = {
  // Discovery and JWKS, readable from any origin.
  async discover() {
    const discovery = await call(`${issuer}/.well-known/openid-configuration`);
    const jwks = discovery.body?.jwks_uri ? await call(discovery.body.jwks_uri) : {};
    if (discovery.status === 200) store.setItem('metadata', JSON.stringify(discovery.body));
    return {
      discovery: { status: discovery.status, blocked: discovery.blocked, issuer: discovery.body?.issuer },
      jwks: { status: jwks.status, blocked: jwks.blocked, keys: jwks.body?.keys?.length },
    };
  },

  // A new authorization request, remembered for the way back: the endpoint and its
  // parameters. `hold`: keep the code instead of redeeming it when the browser comes back.
  async authorizationRequest({ prompt, hold = false } = {}) {
    const meta = await metadata();
    const { verifier, challenge } = await pkce();
    const request = { state: random(), nonce: random(), verifier, hold };
    store.setItem('request', JSON.stringify(request));
    const params = {
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: SCOPE,
      state: request.state,
      nonce: request.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    if (prompt) params.prompt = prompt;
    return { endpoint: meta.authorization_endpoint, params };
  },

  // Sends the browser to the authorization endpoint (see `authorizationRequest`).
  async signIn(options = {}) {
    const { endpoint, params } = await spa.authorizationRequest(options);
    const url = new URL(endpoint);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    location.assign(url.href);
  },

  // Redeems a code at the token endpoint (a form POST: a CORS "simple" request).
  async redeem(code, verifier) {
    const meta = await metadata();
    const answer = await call(meta.token_endpoint, form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: CLIENT_ID,
    }));
    if (answer.status === 200) store.setItem('tokens', JSON.stringify(answer.body));
    return answer;
  },

  // Userinfo with the access token (the Authorization header makes the browser preflight).
  async userinfo(accessToken = tokens().access_token) {
    const meta = await metadata();
    return call(meta.userinfo_endpoint, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
  },

  async refresh() {
    const meta = await metadata();
    const before = tokens();
    const answer = await call(meta.token_endpoint, form({
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token,
      client_id: CLIENT_ID,
    }));
    if (answer.status === 200) {
      store.setItem('tokens', JSON.stringify({ ...before, ...answer.body }));
    }
    return { ...answer, rotated: answer.body?.refresh_token !== before.refresh_token };
  },

  // Revokes a token, as an app does with one it no longer needs.
  async revoke(token) {
    const meta = await metadata();
    return call(meta.revocation_endpoint, form({ token, client_id: CLIENT_ID }));
  },

  // End-session by fetch: readable, but without cookies it signs nobody out.
  async endSessionByFetch() {
    const meta = await metadata();
    const answer = await call(meta.end_session_endpoint);
    return { status: answer.status, blocked: answer.blocked };
  },

  // RP-initiated logout: a top-level navigation, as the spec has it.
  async signOut() {
    const meta = await metadata();
    const state = random();
    store.setItem('logout_state', state);
    const url = new URL(meta.end_session_endpoint);
    url.searchParams.set('id_token_hint', tokens().id_token);
    url.searchParams.set('post_logout_redirect_uri', `${location.origin}/?signed-out`);
    url.searchParams.set('state', state);
    location.assign(url.href);
  },

  tokens,
};

// What the page does when the browser lands on it: an authorization response, the return
// from logout, or nothing.
async function arrive() {
  const params = here.searchParams;
  if (params.has('signed-out')) {
    const state = store.getItem('logout_state');
    store.removeItem('tokens');
    return show('signed-out', { signedOut: true, stateMatches: params.get('state') === state });
  }
  if (!params.has('code') && !params.has('error')) return show('ready', { ready: true });
  const request = JSON.parse(store.getItem('request') ?? 'null');
  store.removeItem('request');
  history.replaceState(null, '', '/');
  const meta = await metadata();
  const response = {
    stateMatches: request !== null && params.get('state') === request.state,
    issuerMatches: params.get('iss') === meta.issuer,
    error: params.get('error'),
  };
  if (response.error || !response.stateMatches) return show('error', response);
  const code = params.get('code');
  if (request.hold) return show('holding', { ...response, code, verifier: request.verifier });
  const redemption = await spa.redeem(code, request.verifier);
  const idToken = redemption.body?.id_token;
  const claims = idToken ? JSON.parse(atob(idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) : null;
  return show('signed-in', {
    ...response,
    redemption: { status: redemption.status, blocked: redemption.blocked, error: redemption.body?.error },
    tokens: Object.keys(redemption.body ?? {}).filter((key) => key.endsWith('token')).sort(),
    nonceMatches: claims?.nonce === request.nonce,
    subject: claims?.sub,
  });
}

spa.arrived = arrive().catch((error) => show('failed', { failed: String(error) }));
window.spa = spa;
