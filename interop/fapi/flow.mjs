// oauth4webapi (a strict, spec-following client library) as a FAPI 2.0 client of Tessera:
// discovery, a signed request object pushed to the PAR endpoint with a DPoP proof and a
// private_key_jwt assertion, the sign-in and consent a person would do (over HTTP here), the
// code redeemed with DPoP, the id_token checked with jose against the JWKS, userinfo and a
// refresh with DPoP, every DPoP nonce challenge answered as the library does. Then the user
// logs out, and a back-channel logout receiver (this process) checks the logout token with
// jose. Driven by crates/tessera/tests/e2e/interop_fapi.rs, which passes:
//   ISSUER         the organization's issuer URL
//   CLIENT_ID      a fapi2 client; CLIENT_PKCS8 its private key (ES256, PEM)
//   REDIRECT_URI   its registered redirect URI
//   BC_PORT        the port its backchannelLogoutUri names (http://127.0.0.1:BC_PORT/bc)
//   ORIGIN, LOGIN_PATH, CONSENT_PATH, USERNAME, PASSWORD  the sign-in pages and the member
// Prints one JSON line with what it saw.
import * as oauth from "oauth4webapi";
import * as jose from "jose";
import http from "node:http";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const ISSUER = new URL(env("ISSUER"));
const ORIGIN = env("ORIGIN");
const REDIRECT_URI = env("REDIRECT_URI");
// The test server speaks plain HTTP on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };

// The back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0 §2.5).
const logoutTokens = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    logoutTokens.push(new URLSearchParams(body).get("logout_token"));
    res.writeHead(200, { "cache-control": "no-store" }).end();
  });
});
await new Promise((ok) => receiver.listen(Number(env("BC_PORT")), "127.0.0.1", ok));

const as = await oauth
  .discoveryRequest(ISSUER, { algorithm: "oidc", ...insecure })
  .then((r) => oauth.processDiscoveryResponse(ISSUER, r));
const client = { client_id: env("CLIENT_ID"), id_token_signed_response_alg: "ES256" };
const clientKey = await jose.importPKCS8(env("CLIENT_PKCS8"), "ES256");
const clientAuth = oauth.PrivateKeyJwt(clientKey);
const dpopKeys = await oauth.generateKeyPair("ES256", { extractable: true });
const DPoP = oauth.DPoP(client, dpopKeys);
let nonceRetries = 0;

// Sends a request and, on a DPoP nonce challenge, once more (the library keeps the nonce).
const withNonce = async (send, process) => {
  try {
    return await process(await send());
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    nonceRetries += 1;
    return await process(await send());
  }
};

// 1. The request, signed, pushed with DPoP (which binds the code to the key).
const verifier = oauth.generateRandomCodeVerifier();
const state = oauth.generateRandomState();
const nonce = oauth.generateRandomNonce();
const params = new URLSearchParams({
  client_id: client.client_id,
  redirect_uri: REDIRECT_URI,
  response_type: "code",
  scope: "openid profile",
  code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  nonce,
});
const request = await oauth.issueRequestObject(as, client, params, clientKey);
const pushed = await withNonce(
  () =>
    oauth.pushedAuthorizationRequest(as, client, clientAuth, new URLSearchParams({ request }), {
      DPoP,
      ...insecure,
    }),
  (res) => oauth.processPushedAuthorizationResponse(as, client, res),
);

// 2. The person: the authorization endpoint, the login form, the consent form.
const jar = new Map();
const keep = (res) => {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
};
const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
const hidden = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!m) throw new Error(`no hidden field ${name} in ${html.slice(0, 400)}`);
  return m[1].replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, "&");
};
const post = async (path, form) => {
  const res = await fetch(ORIGIN + path, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams(form),
  });
  keep(res);
  return res;
};
const authorizationUrl = new URL(as.authorization_endpoint);
authorizationUrl.searchParams.set("client_id", client.client_id);
authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
let res = await fetch(authorizationUrl, { redirect: "manual", headers: { cookie: cookie() } });
keep(res);
if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
let html = await res.text();
const form = { request: hidden(html, "request"), csrf_token: hidden(html, "csrf_token") };
res = await post(env("LOGIN_PATH"), { ...form, username: env("USERNAME"), password: env("PASSWORD") });
if (res.status === 200) {
  res = await post(env("CONSENT_PATH"), { ...form, decision: "allow" });
}
const location = res.headers.get("location");
if (!location) throw new Error(`no redirect after consent (${res.status})`);

// 3. The callback (iss checked, RFC 9207), the code redeemed with DPoP.
const callback = oauth.validateAuthResponse(as, client, new URL(location), state);
const tokens = await withNonce(
  () =>
    oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, REDIRECT_URI, verifier, {
      DPoP,
      ...insecure,
    }),
  (r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: nonce, requireIdToken: true }),
);
const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri), { [jose.customFetch]: fetch });
const { payload: idToken } = await jose.jwtVerify(tokens.id_token, jwks, {
  issuer: as.issuer,
  audience: client.client_id,
  algorithms: ["ES256"],
});

// 4. Userinfo and a refresh, with DPoP.
const userinfo = await withNonce(
  () => oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }),
  (r) => oauth.processUserInfoResponse(as, client, idToken.sub, r),
);
const refreshed = await withNonce(
  () =>
    oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, {
      DPoP,
      ...insecure,
    }),
  (r) => oauth.processRefreshTokenResponse(as, client, r),
);

// 5. The user logs out; the logout token reaches the receiver and is checked with jose.
const endSession = new URL(as.end_session_endpoint);
endSession.searchParams.set("id_token_hint", tokens.id_token);
res = await fetch(endSession, { redirect: "manual", headers: { cookie: cookie() } });
const deadline = Date.now() + 15000;
while (logoutTokens.length === 0 && Date.now() < deadline) {
  await new Promise((ok) => setTimeout(ok, 100));
}
if (logoutTokens.length === 0) throw new Error("no logout token arrived");
const { payload: logout, protectedHeader } = await jose.jwtVerify(logoutTokens[0], jwks, {
  issuer: as.issuer,
  audience: client.client_id,
  typ: "logout+jwt",
});
receiver.close();

console.log(
  JSON.stringify({
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    dpop_jkt: await DPoP.calculateThumbprint(),
    id_token_sid: idToken.sid,
    userinfo_sub: userinfo.sub,
    refreshed_token_type: refreshed.token_type,
    nonce_retries: nonceRetries,
    end_session_status: res.status,
    logout: { ...logout, typ: protectedHeader.typ },
    logout_tokens: logoutTokens.length,
  }),
);
