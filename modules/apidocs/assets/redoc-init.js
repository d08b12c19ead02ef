// Starts ReDoc on /redoc. A file of its own, not an inline script: the page's
// Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";
  Redoc.init(new URL("openapi.json", document.baseURI).href, {}, document.getElementById("redoc"));
})();
