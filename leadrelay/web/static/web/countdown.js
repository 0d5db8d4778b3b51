// The SLA countdown: every element with data-sla-due shows the time left to its
// deadline, or how long it is overdue, and turns amber at data-sla-warn and red at the
// deadline. The server renders the same text and state, so this only keeps them current.
// Time comes from Date.now() (calendar time to the deadline instant, which the server
// already worked out in business hours), so a test can drive it with a fake clock.
(function () {
  "use strict";

  var STATES = ["sla-ok", "sla-warn", "sla-late"];

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // Time left: mm:ss under an hour, else h:mm:ss (as leadrelay_web.clock_left).
  function left(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(secs) : pad(minutes) + ":" + pad(secs);
  }

  // Time overdue: h:mm (as leadrelay_web.clock_overdue).
  function overdue(seconds) {
    return Math.floor(seconds / 3600) + ":" + pad(Math.floor((seconds % 3600) / 60));
  }

  function update(el, now, formats) {
    var due = Date.parse(el.dataset.slaDue);
    if (isNaN(due)) {
      return;
    }
    var warn = el.dataset.slaWarn ? Date.parse(el.dataset.slaWarn) : due;
    var state, text;
    if (now >= due) {
      state = "late";
      text = formats.overdue.replace("%(time)s", overdue(Math.floor((now - due) / 1000)));
    } else {
      state = now >= warn ? "warn" : "ok";
      text = formats.left.replace("%(time)s", left(Math.floor((due - now) / 1000)));
    }
    if (el.dataset.slaState !== state) {
      el.dataset.slaState = state;
      STATES.forEach(function (name) {
        el.classList.toggle(name, name === "sla-" + state);
      });
    }
    var label = el.querySelector(".sla-text") || el;
    if (label.textContent !== text) {
      label.textContent = text;
    }
  }

  function tick() {
    var body = document.body;
    var formats = {
      left: body.dataset.slaLeft || "%(time)s left",
      overdue: body.dataset.slaOverdue || "overdue by %(time)s",
    };
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (el) {
      update(el, now, formats);
    });
  }

  tick();
  window.setInterval(tick, 1000);
  // Content swapped in by htmx is brought up to date at once, not a second later.
  document.addEventListener("htmx:afterSettle", tick);
})();
