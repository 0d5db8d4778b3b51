// The SLA countdown: every element with data-sla-due shows the time left to its
// deadline, or how long it is overdue, and turns amber at data-sla-warn and red at the
// deadline. The server renders the same text and state (leadrelay_web.countdown), so
// this only keeps them current. Time comes from Date.now() (calendar time to the
// deadline instant, which the server already worked out in business hours), so a test
// can drive it with a fake clock. The words come from <body data-sla-*>, translated.
(function () {
  "use strict";

  var STATES = ["sla-ok", "sla-warn", "sla-late"];
  var DAY = 86400;

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // "2 d " for a day or more, and the seconds left over.
  function days(seconds, formats) {
    if (seconds < DAY) {
      return ["", seconds];
    }
    return [formats.days.replace("%(days)s", Math.floor(seconds / DAY)) + " ", seconds % DAY];
  }

  // Time left: mm:ss under an hour, h:mm:ss under a day, else "N d h:mm" (clock_left).
  function left(seconds, formats) {
    var split = days(seconds, formats);
    var rest = split[1];
    var hours = Math.floor(rest / 3600);
    var minutes = Math.floor((rest % 3600) / 60);
    var secs = rest % 60;
    if (split[0]) {
      return split[0] + hours + ":" + pad(minutes);
    }
    return hours ? hours + ":" + pad(minutes) + ":" + pad(secs) : pad(minutes) + ":" + pad(secs);
  }

  // Time overdue: h:mm, with whole days in front from a day on (clock_overdue).
  function overdue(seconds, formats) {
    var split = days(seconds, formats);
    var rest = split[1];
    return split[0] + Math.floor(rest / 3600) + ":" + pad(Math.floor((rest % 3600) / 60));
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
      text = formats.overdue.replace("%(time)s", overdue(Math.floor((now - due) / 1000), formats));
    } else {
      state = now >= warn ? "warn" : "ok";
      text = formats.left.replace("%(time)s", left(Math.floor((due - now) / 1000), formats));
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
    var data = document.body.dataset;
    var formats = {
      left: data.slaLeft || "%(time)s left",
      overdue: data.slaOverdue || "overdue by %(time)s",
      days: data.slaDays || "%(days)s d",
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
