// The questionnaire editor keeps an unpublished draft in the form: warn before leaving
// the page with changes that were not published. Everything else works without this.
(function () {
  "use strict";

  var dirty = false;

  function editor() {
    return document.getElementById("qeditor");
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#qeditor-form")) {
      dirty = true;
    }
  });

  var leaving = false;
  document.addEventListener("submit", function (event) {
    if (event.target.id === "qeditor-form") {
      leaving = true;
    }
  });

  window.addEventListener("beforeunload", function (event) {
    var node = editor();
    // A page rendered from a posted draft (a round trip without HTMX) is unpublished too.
    if (!leaving && node && (dirty || node.dataset.draft === "1")) {
      event.preventDefault();
      event.returnValue = node.dataset.unsavedText || "";
    }
  });
})();
