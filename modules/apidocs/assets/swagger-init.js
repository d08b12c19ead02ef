// Starts Swagger UI on /docs. A file of its own, not an inline script: the page's
// Content-Security-Policy allows scripts from 'self' only. The options are FastAPI's defaults,
// but for validatorUrl: the online validator's badge would send the document's URL to a third
// party (and the policy would block its image anyway).
(function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
