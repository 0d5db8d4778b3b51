// The lead page's keyboard shortcuts and its "not saved yet" marks.
//
//   c  log a call (picks "call", focuses the outcome)    n  write a note
//   b  BANT          q  the questionnaire (again: the next one)
//   h  the hand-off  ?  this list          Ctrl+Enter  save the form being typed in
//
// Targets are marked in the templates (data-key="c", data-key-check="c") and looked up
// on every key press, so they work after HTMX has redrawn any part of the page.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    if (tag === "input") {
      // Ticking a box or a radio button is not typing: shortcuts still work there.
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) === -1;
    }
    return (
      tag === "textarea" ||
      tag === "select" ||
      target.isContentEditable === true
    );
  }

  function reveal(el) {
    // A field inside a closed <details> (the note box, the disqualify form) is opened.
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName && node.tagName.toLowerCase() === "details" && !node.open) {
        node.open = true;
      }
    }
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    el.focus({ preventScroll: true });
  }

  function go(key) {
    var all = Array.prototype.slice.call(document.querySelectorAll('[data-key="' + key + '"]'));
    if (!all.length) {
      return false;
    }
    var check = document.querySelector('[data-key-check="' + key + '"]');
    if (check && !check.checked) {
      check.checked = true;
      check.dispatchEvent(new Event("change", { bubbles: true }));
    }
    // Pressed again: the next target of the same key (the next questionnaire).
    var current = all.findIndex(function (el) {
      var form = el.form || el.closest("form");
      return form && form.contains(document.activeElement);
    });
    reveal(all[(current + 1) % all.length]);
    return true;
  }

  function toggleHelp() {
    var dialog = document.getElementById("keys-help");
    if (!dialog || typeof dialog.showModal !== "function") {
      return;
    }
    if (dialog.open) {
      dialog.close();
    } else {
      dialog.showModal();
    }
  }

  function markDirty(form, dirty) {
    if (dirty) {
      form.setAttribute("data-dirty", "");
    } else {
      form.removeAttribute("data-dirty");
    }
    var flag = form.querySelector(".unsaved");
    if (flag) {
      flag.hidden = !dirty;
    }
    var saved = form.querySelector(".saved-note");
    if (dirty && saved) {
      saved.remove();
    }
  }

  // One "saved" note at a time: the last save's, not every card's since the page loaded.
  document.addEventListener("htmx:beforeRequest", function () {
    document.querySelectorAll(".saved-note").forEach(function (note) {
      note.remove();
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    // Ctrl/Cmd+Enter saves the form the cursor is in.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && typing(event.target)) {
      var form = event.target.form || event.target.closest("form");
      var button = form && form.querySelector('button[type="submit"], button:not([type])');
      if (button) {
        event.preventDefault();
        button.click(); // a click, so the button's own name and value are sent too
      }
      return;
    }
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (document.querySelector("dialog[open]") && event.key !== "?") {
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if ("cnbqh".indexOf(event.key) !== -1 && event.key.length === 1) {
      if (go(event.key)) {
        event.preventDefault();
      }
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-keys-help]");
    if (opener) {
      toggleHelp();
      return;
    }
    // A checklist item takes the SDR to the field that is missing.
    var link = event.target.closest && event.target.closest("a[data-focus]");
    if (link) {
      var field = document.getElementById(link.getAttribute("data-focus"));
      if (field) {
        event.preventDefault();
        var input =
          field.matches("input, select, textarea") ? field : field.querySelector("input, select, textarea");
        reveal(input || field);
      }
    }
  });

  // "Not saved yet" beside a form's button once something in it was changed.
  function track(event) {
    var form = event.target.form || (event.target.closest && event.target.closest("form"));
    if (form && form.hasAttribute("data-track-changes")) {
      markDirty(form, true);
    }
  }
  document.addEventListener("input", track);
  document.addEventListener("change", track);

  // Handing off with answers still unsaved on the page: ask first. Runs before htmx's
  // own submit handler (capture phase on the document), so "no" sends nothing.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm-unsaved");
      if (!question || !document.querySelector("form[data-dirty]")) {
        return;
      }
      if (!window.confirm(question)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );
})();
