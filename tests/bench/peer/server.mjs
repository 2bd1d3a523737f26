// Peer OpenID provider for the client-credentials throughput comparison.
//
// panva's oidc-provider (certified), configured to issue JWT access tokens for
// the client_credentials grant, signed with the algorithm in ALG (RS256|ES256).
// It runs as WORKERS processes under node:cluster (its best case on a
// multi-core machine) that share one listening socket and one signing key: the
// primary generates the key and hands it to every worker through the
// environment, so a token from any worker verifies against the same JWKS.
//
// Environment:
//   PORT            port on 127.0.0.1 to listen on (default 3000)
//   HOST            address to listen on (default 127.0.0.1)
//   ALG             RS256 | ES256 (default RS256)
//   WORKERS         worker processes (default 2); 0 = serve from this process
//   CLIENT_ID       client id (default bench)
//   CLIENT_SECRET   client secret (default bench-secret)
//   SCOPE           scope the client may request (default api.read)
//   RESOURCE        resource indicator used when none is requested
//                   (default https://api.bench.example)
//   NODE_ENV        forced to "production" unless set

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import process from 'node:process';

process.env.NODE_ENV ??= 'production';

const ALG = process.env.ALG ?? 'RS256';
const PORT = Number.parseInt(process.env.PORT ?? '3000', 10);
const HOST = process.env.HOST ?? '127.0.0.1';
const WORKERS = Number.parseInt(process.env.WORKERS ?? '2', 10);
const CLIENT_ID = process.env.CLIENT_ID ?? 'bench';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'bench-secret';
const SCOPE = process.env.SCOPE ?? 'api.read';
const RESOURCE = process.env.RESOURCE ?? 'https://api.bench.example';
const KEY_ENV = 'BENCH_PEER_SIGNING_JWK';

const SUPPORTED = new Set(['RS256', 'ES256']);
if (!SUPPORTED.has(ALG)) {
  console.error(`peer: unsupported ALG ${ALG} (want RS256 or ES256)`);
  process.exit(2);
}
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
  console.error(`peer: bad PORT ${process.env.PORT}`);
  process.exit(2);
}
if (!Number.isInteger(WORKERS) || WORKERS < 0) {
  console.error(`peer: bad WORKERS ${process.env.WORKERS}`);
  process.exit(2);
}

async function makeSigningJwk() {
  const { generateKeyPair, exportJWK, calculateJwkThumbprint } = await import('jose');
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = ALG;
  jwk.use = 'sig';
  return jwk;
}

async function serve(jwk) {
  const { default: Provider } = await import('oidc-provider');

  const issuer = `http://${HOST}:${PORT}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: SCOPE,
      },
    ],
    jwks: { keys: [jwk] },
    scopes: [SCOPE],
    cookies: { keys: ['bench-cookie-key-not-secret'] },
    ttl: { ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope: SCOPE,
            audience: RESOURCE,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: ALG } },
          };
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: [ALG],
    },
    clientDefaults: {
      id_token_signed_response_alg: ALG,
    },
    // Nothing renders an interaction in this benchmark; keep the default
    // "missing interactions" warning quiet.
    interactions: { url: () => '/interaction' },
  });
  provider.proxy = false;

  // Errors on the token endpoint would otherwise go unnoticed: log the first few.
  let logged = 0;
  provider.on('grant.error', (_ctx, err) => {
    if (logged < 5) {
      logged += 1;
      console.error(`peer: grant.error ${err.name}: ${err.message}`);
    }
  });
  provider.on('server_error', (_ctx, err) => {
    console.error('peer: server_error', err);
  });

  await new Promise((resolve, reject) => {
    const server = provider.listen(PORT, HOST, resolve);
    server.on('error', reject);
    server.keepAliveTimeout = 65_000;
  });
}

if (WORKERS > 0 && cluster.isPrimary) {
  const jwk = await makeSigningJwk();
  const n = WORKERS;
  let ready = 0;
  let stopping = false;
  const workers = [];
  for (let i = 0; i < n; i += 1) {
    const w = cluster.fork({ [KEY_ENV]: JSON.stringify(jwk) });
    workers.push(w);
    w.on('listening', () => {
      ready += 1;
      if (ready === n) {
        console.log(
          `peer: oidc-provider listening on http://${HOST}:${PORT} alg=${ALG} workers=${n} `
          + `kid=${jwk.kid} (cores available: ${availableParallelism()})`,
        );
      }
    });
  }
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) {
      console.error(`peer: worker ${w.process.pid} exited (code=${code} signal=${signal}); stopping`);
      stopping = true;
      for (const other of workers) other.process.kill('SIGTERM');
      process.exitCode = 1;
    }
  });
  const stop = () => {
    stopping = true;
    for (const w of workers) w.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const fromPrimary = process.env[KEY_ENV];
  const jwk = fromPrimary ? JSON.parse(fromPrimary) : await makeSigningJwk();
  await serve(jwk);
  if (cluster.isPrimary) {
    console.log(`peer: oidc-provider listening on http://${HOST}:${PORT} alg=${ALG} workers=0 kid=${jwk.kid}`);
  }
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
