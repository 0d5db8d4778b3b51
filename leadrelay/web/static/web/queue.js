// Keyboard shortcuts of the incoming queue: j / k select the next / previous request,
// Enter or o opens it, c claims it, / goes to the filters, ? shows the help (Esc hides
// it). Keys typed into a field are left alone, and so are keys with Ctrl, Alt or Cmd.
// The selection is remembered by the lead's id, so it survives htmx swapping the row
// (after a claim) or the rows below it (after "show more").
(function () {
  "use strict";

  var SELECTED = "is-selected";
  var selectedId = null;
  var lastFocus = null;

  function help() {
    return document.getElementById("queue-help");
  }

  function rows() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#queue-table tbody tr.queue-row")
    );
  }

  function current() {
    return selectedId === null ? null : document.getElementById("queue-row-" + selectedId);
  }

  function mark(row) {
    document.querySelectorAll("#queue-table tr." + SELECTED).forEach(function (other) {
      if (other !== row) {
        other.classList.remove(SELECTED);
        other.removeAttribute("aria-current");
      }
    });
    if (row) {
      row.classList.add(SELECTED);
      row.setAttribute("aria-current", "true");
    }
  }

  function select(row) {
    mark(row);
    selectedId = row ? row.dataset.lead : null;
    if (row) {
      // Focus follows the selection, so the row's buttons are one Tab away and the
      // outline shows where the keys act.
      row.setAttribute("tabindex", "-1");
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      return;
    }
    var index = list.indexOf(current());
    if (index < 0) {
      index = 0;
    } else {
      index = Math.min(list.length - 1, Math.max(0, index + step));
    }
    select(list[index]);
  }

  function open() {
    var row = current();
    if (row && row.dataset.url) {
      window.location.assign(row.dataset.url);
    }
  }

  function claimSelected() {
    var row = current();
    var form = row && row.querySelector("form.claim-form");
    if (!form) {
      return;
    }
    if (form.requestSubmit) {
      form.requestSubmit(); // a submit event: htmx posts it and swaps the row
    } else {
      form.submit();
    }
  }

  function focusFilters() {
    var field = document.querySelector("#queue-filters select, #queue-filters input");
    if (field) {
      field.focus();
    }
  }

  function helpOpen() {
    var box = help();
    return Boolean(box) && !box.hidden;
  }

  function toggleHelp(show) {
    var box = help();
    if (!box) {
      return;
    }
    var visible = show === undefined ? box.hidden : show;
    document.querySelectorAll("[data-queue-help]").forEach(function (button) {
      button.setAttribute("aria-expanded", visible ? "true" : "false");
    });
    if (visible) {
      lastFocus = document.activeElement;
      box.hidden = false;
      var close = box.querySelector("[data-queue-help-close]");
      if (close) {
        close.focus();
      }
    } else {
      box.hidden = true;
      if (lastFocus && document.contains(lastFocus)) {
        lastFocus.focus();
      }
      lastFocus = null;
    }
  }

  function typing(target) {
    if (!target || target === document.body) {
      return false;
    }
    if (target.isContentEditable) {
      return true;
    }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  // Enter belongs to a focused link or button; it opens the request only from the row.
  function enterIsOurs(target) {
    return !target || target === document.body || target.classList.contains("queue-row");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    if (typing(event.target)) {
      return;
    }
    var key = event.key;
    if (helpOpen()) {
      if (key === "Escape" || key === "?") {
        event.preventDefault();
        toggleHelp(false);
      }
      return;
    }
    switch (key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "o":
        open();
        break;
      case "Enter":
        if (!enterIsOurs(event.target) || !current()) {
          return;
        }
        open();
        break;
      case "c":
        claimSelected();
        break;
      case "/":
        focusFilters();
        break;
      case "?":
        toggleHelp(true);
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    if (target.closest("[data-queue-help]")) {
      toggleHelp();
      return;
    }
    if (target.closest("[data-queue-help-close]") || target.id === "queue-help") {
      toggleHelp(false); // the close button, or the backdrop around the dialog
      return;
    }
    var row = target.closest("#queue-table tr.queue-row");
    if (row) {
      mark(row);
      selectedId = row.dataset.lead;
    }
  });

  // A swapped-in row is a new element: give it the selection (and focus) back.
  document.addEventListener("htmx:afterSettle", function () {
    var row = current();
    var hadFocus = document.activeElement === document.body || document.activeElement === null;
    mark(row);
    if (row && hadFocus) {
      row.setAttribute("tabindex", "-1");
      row.focus({ preventScroll: true });
    }
    if (!row) {
      selectedId = null;
    }
  });
})();
