// The OAuth client of the official MCP TypeScript SDK against Tessera: from the resource
// server's 401 to an access token for it, with the SDK's own discovery (RFC 9728, RFC 8414),
// dynamic registration (RFC 7591), PKCE and resource indicators (RFC 8707). The sign-in and
// consent a person would do in a browser are done here over HTTP. Driven by
// crates/tessera/tests/e2e/mcp.rs, which passes:
//   MCP_URL       the protected MCP endpoint (a small test resource server)
//   ORIGIN        Tessera's base URL; LOGIN_PATH and CONSENT_PATH under it
//   USERNAME, PASSWORD  the member who signs in and consents
// Prints one JSON line: {"result": "AUTHORIZED", "access_token": …, "status": <MCP status>}.
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const MCP_URL = env("MCP_URL");
const ORIGIN = env("ORIGIN");
const REDIRECT = "http://127.0.0.1:33418/callback";

class Provider {
  constructor() {
    this.saved = {};
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: "MCP SDK interop",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.saved.client;
  }
  saveClientInformation(c) {
    this.saved.client = c;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(t) {
    this.saved.tokens = t;
  }
  redirectToAuthorization(url) {
    this.saved.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.saved.verifier = v;
  }
  codeVerifier() {
    return this.saved.verifier;
  }
}

// A browser's cookie jar, for the sign-in and consent forms.
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
  // As a browser reads an attribute: named and numeric character references decoded.
  const named = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
  return m[1].replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (all, e) =>
    e.startsWith("#x")
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith("#")
        ? String.fromCodePoint(parseInt(e.slice(1), 10))
        : (named[e] ?? all),
  );
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

const provider = new Provider();
// 1. The SDK discovers everything from the server URL and starts the authorization.
const first = await auth(provider, { serverUrl: MCP_URL });
if (first !== "REDIRECT") throw new Error(`expected REDIRECT, got ${first}`);
const authorizationUrl = provider.saved.authorizationUrl;
if (!authorizationUrl.searchParams.get("resource")) {
  throw new Error(`no resource in ${authorizationUrl}`);
}
// 2. The person: the login form, then the consent form.
let res = await fetch(authorizationUrl, { redirect: "manual" });
keep(res);
if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
let html = await res.text();
const request = hidden(html, "request");
const csrf = hidden(html, "csrf_token");
res = await post(env("LOGIN_PATH"), {
  request,
  csrf_token: csrf,
  username: env("USERNAME"),
  password: env("PASSWORD"),
});
if (res.status === 200) {
  html = await res.text();
  res = await post(env("CONSENT_PATH"), { request, csrf_token: csrf, decision: "allow" });
}
const location = res.headers.get("location");
if (!location) throw new Error(`no redirect after consent (${res.status})`);
const code = new URL(location).searchParams.get("code");
if (!code) throw new Error(`no code in ${location}`);
// 3. The SDK redeems the code (with PKCE and the resource).
const second = await auth(provider, { serverUrl: MCP_URL, authorizationCode: code });
const token = provider.saved.tokens?.access_token;
// 4. The MCP server, with the token.
const mcp = await fetch(MCP_URL, { headers: { authorization: `Bearer ${token}` } });
console.log(JSON.stringify({ result: second, access_token: token, status: mcp.status }));
