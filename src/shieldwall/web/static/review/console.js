/* The review console's behaviour (no inline script: the CSP forbids it):
   countdowns and the exposure timer, the break prompt, claim renewal while the item page is
   visible, re-blurring the original on leaving, and keyboard shortcuts that never act
   while the reviewer types in a field. Every text comes from the page (translated). */
(function () {
  "use strict";
  var loadedAt = Date.now();
  var wellbeing = document.getElementById("wellbeing");
  if (!wellbeing) { return; }
  var text = function (name) { return wellbeing.getAttribute("data-t-" + name) || ""; };
  var secondsSinceLoad = function () { return Math.floor((Date.now() - loadedAt) / 1000); };

  function duration(seconds) {
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes / 60) % 24, mins = minutes % 60;
    if (days) { return days + " d " + hours + " h"; }
    if (hours) { return hours + " h " + mins + " min"; }
    return mins + " min";
  }

  function refreshCountdowns() {
    document.querySelectorAll(".countdown[data-left]").forEach(function (node) {
      var left = parseInt(node.getAttribute("data-left"), 10) - secondsSinceLoad();
      var margin = parseInt(node.getAttribute("data-at-risk"), 10) || 12 * 3600;
      var status = left <= 0 ? "overdue" : (left <= margin ? "at-risk" : "ok");
      node.className = "countdown " + status;
      node.querySelector(".state").textContent =
        text(status === "overdue" ? "overdue" : (status === "at-risk" ? "at-risk" : "on-time"));
      node.querySelector(".time").textContent =
        text(status === "overdue" ? "past" : "left").replace("{time}", duration(Math.abs(left)));
    });
  }

  var elapsedAtLoad = parseInt(wellbeing.getAttribute("data-elapsed"), 10) || 0;
  var breakSeconds = (parseInt(wellbeing.getAttribute("data-break-minutes"), 10) || 60) * 60;
  // Breaks already prompted, per session (a new sign-in starts counting again).
  var breaksKey = "sw-review-breaks:" + (wellbeing.getAttribute("data-since") || "");
  var breakDialog = document.getElementById("break-dialog");
  var helpDialog = document.getElementById("help-dialog");

  function openDialog(dialog) {
    if (dialog && !dialog.open && typeof dialog.showModal === "function") { dialog.showModal(); }
  }

  function tickWellbeing() {
    var elapsed = elapsedAtLoad + secondsSinceLoad();
    var exposure = document.getElementById("exposure");
    if (exposure) { exposure.textContent = duration(elapsed); }
    var periods = Math.floor(elapsed / breakSeconds);
    var prompted = parseInt(sessionStorage.getItem(breaksKey) || "0", 10);
    if (periods > prompted) {
      sessionStorage.setItem(breaksKey, String(periods));
      openDialog(breakDialog);
    }
  }

  function tick() { refreshCountdowns(); tickWellbeing(); }
  tick();
  setInterval(tick, 15000);

  document.getElementById("take-break").addEventListener("click", function () { openDialog(breakDialog); });
  document.getElementById("show-help").addEventListener("click", function () { openDialog(helpDialog); });

  /* The item page: claim renewal and re-blurring. */
  var item = document.getElementById("item");
  function say(message) {
    var box = document.getElementById("script-alert");
    if (!box) {
      box = document.createElement("p");
      box.id = "script-alert";
      box.className = "alert";
      box.setAttribute("role", "alert");
      item.insertBefore(box, item.firstChild.nextSibling);
    }
    box.textContent = message;
  }

  if (item && item.getAttribute("data-mine") === "yes") {
    var renew = function () {
      if (document.visibilityState !== "visible") { return; }
      fetch("/review/items/" + item.getAttribute("data-item") + "/claim", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": item.getAttribute("data-csrf") }
      }).then(function (answer) {
        if (answer.status === 403 || answer.status === 409) { say(text("claim-lost")); }
      }).catch(function () { /* offline for a moment: the next renewal tries again */ });
    };
    setInterval(renew, 120000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { renew(); }
    });
  }

  function reblur() {
    var img = document.getElementById("media-img");
    if (!img || img.getAttribute("data-state") !== "original") { return; }
    img.setAttribute("data-state", "blurred");
    img.src = img.getAttribute("data-blurred");
    var caption = document.getElementById("media-caption");
    if (caption) { caption.textContent = text("reblurred"); }
  }
  window.addEventListener("pagehide", reblur);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { reblur(); }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { reblur(); } });

  /* After a refused decision, the first field to fix has the focus. */
  var invalid = document.querySelector("form.decision [aria-invalid=true]");
  if (invalid) { invalid.focus(); }

  /* Keyboard shortcuts. */
  var WORD_PAUSE_MS = 1000;
  var lastWordKeyAt = 0;

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function focusForm(ids) {
    for (var i = 0; i < ids.length; i += 1) {
      var form = document.getElementById(ids[i]);
      if (form) {
        var field = form.querySelector("select, textarea, input[type=radio]:checked");
        form.scrollIntoView({ block: "center" });
        (field || form.querySelector("button")).focus();
        return true;
      }
    }
    return false;
  }

  function moveInQueue(step) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll("#queue .open-item"));
    if (!buttons.length) { return; }
    var at = buttons.indexOf(document.activeElement);
    var next = at < 0 ? 0 : Math.min(buttons.length - 1, Math.max(0, at + step));
    buttons[next].focus();
    buttons[next].closest("tr").scrollIntoView({ block: "nearest" });
  }

  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.assign(link.getAttribute("href")); }
  }

  var actions = {
    "j": function () { if (item) { go("next-item"); } else { moveInQueue(1); } },
    "k": function () { if (item) { go("previous-item"); } else { moveInQueue(-1); } },
    "v": function () {
      var reveal = document.getElementById("reveal-form");
      if (reveal) { reveal.requestSubmit(); }
    },
    "c": function () { focusForm(["decide-confirm", "decide-accept", "decide-uphold"]); },
    "r": function () { focusForm(["decide-reject", "decide-refuse", "decide-reverse"]); },
    "e": function () { focusForm(["decide-escalate"]); },
    "i": function () { focusForm(["decide-need_info"]); },
    "q": function () { window.location.assign("/review"); },
    "b": function () { openDialog(breakDialog); },
    "?": function () { openDialog(helpDialog); }
  };

  document.addEventListener("keydown", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form.decision") : null;
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if ((breakDialog && breakDialog.open) || (helpDialog && helpDialog.open)) { return; }
    var action = actions[event.key];
    var now = Date.now();
    if (!action) {
      // Words typed where no field has the focus: the letters after them are words too,
      // not shortcuts (the "r" of "sure" must not open the rejection and take the rest).
      if (event.key.length === 1 && event.key !== " ") { lastWordKeyAt = now; }
      else if (event.key === " " && now - lastWordKeyAt < WORD_PAUSE_MS) { lastWordKeyAt = now; }
      return;
    }
    if (now - lastWordKeyAt < WORD_PAUSE_MS) { return; }
    event.preventDefault();
    action();
  });
}());
