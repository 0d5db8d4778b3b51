// htmx leaves the page as it was when a request fails outright (a server error or no
// network); without this the user would click and see nothing happen.
(function () {
  "use strict";

  function showFailure() {
    var banner = document.getElementById("failure-banner");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "failure-banner";
      banner.className = "alert alert-error";
      banner.setAttribute("role", "alert");
      banner.textContent = document.body.dataset.failureText || "Error";
      document.body.appendChild(banner);
    }
  }

  document.addEventListener("htmx:responseError", function (event) {
    // 4xx answers carry their own message and are swapped in (see htmx-config).
    if (event.detail.xhr && event.detail.xhr.status >= 500) {
      showFailure();
    }
  });
  document.addEventListener("htmx:sendError", showFailure);

  // The language switch returns to "this page"; after HTMX pushed a new URL (filters,
  // next page) that is the pushed one, not the one the header was rendered for.
  document.addEventListener("htmx:pushedIntoHistory", function (event) {
    document.querySelectorAll("form.lang input[name=next]").forEach(function (input) {
      input.value = event.detail.path;
    });
  });
})();
