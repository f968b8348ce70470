// Starts Swagger UI on /docs. Kept out of the page so that the page needs no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = window.SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
