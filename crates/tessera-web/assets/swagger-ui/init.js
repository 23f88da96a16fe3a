// Starts Swagger UI on the admin REST API of the page's organization. Kept out of the page so
// that the page's Content-Security-Policy can forbid inline scripts.
//
// The OpenAPI document is the server's own (/api/v1/openapi.json); the page fills in the
// organization of every path and adds the sign-in: OAuth 2.0 authorization code with PKCE
// through the organization's own `tessera-explorer` client, whose access token the admin API
// accepts for the signed-in member (with their permissions).
(function () {
  var el = document.getElementById("swagger-ui");
  var org = el.getAttribute("data-org");
  var issuer = el.getAttribute("data-issuer");
  fetch(el.getAttribute("data-spec"))
    .then(function (r) { return r.json(); })
    .then(function (spec) {
      Object.keys(spec.paths || {}).forEach(function (p) {
        var item = spec.paths[p];
        Object.keys(item).forEach(function (m) {
          (item[m].parameters || []).forEach(function (prm) {
            if (prm.in === "path" && prm.name === "org") {
              prm.schema = Object.assign({}, prm.schema, { default: org });
              prm.example = org;
            }
          });
        });
      });
      spec.components = spec.components || {};
      spec.components.securitySchemes = spec.components.securitySchemes || {};
      spec.components.securitySchemes.signIn = {
        type: "oauth2",
        description: "Sign in as a member of " + org + " (the tessera-explorer client, PKCE).",
        flows: {
          authorizationCode: {
            authorizationUrl: issuer + "/api/v1/oauth/authorize",
            tokenUrl: issuer + "/api/v1/oauth/token",
            scopes: { openid: "Who you are" },
          },
        },
      };
      spec.security = [{ signIn: ["openid"] }].concat(spec.security || []);
      var ui = SwaggerUIBundle({
        spec: spec,
        dom_id: "#swagger-ui",
        deepLinking: true,
        persistAuthorization: false,
        oauth2RedirectUrl: el.getAttribute("data-redirect"),
      });
      ui.initOAuth({
        clientId: el.getAttribute("data-client"),
        usePkceWithAuthorizationCodeGrant: true,
        scopes: "openid",
      });
      window.tesseraExplorer = ui;
    })
    .catch(function (e) {
      el.textContent = "The API description could not be loaded: " + e;
    });
})();
