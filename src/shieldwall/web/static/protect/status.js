// The /protect/status page: a case's timeline with its number and secret, and withdrawal.
"use strict";

(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const say = (key, values) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  const form = document.getElementById("lookup");
  const status = document.getElementById("lookup-status");
  const section = document.getElementById("case");

  function key() {
    return {
      case_number: form.elements.case_number.value.trim(),
      secret: form.elements.secret.value.trim(),
    };
  }

  async function post(path) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(key()),
      credentials: "omit",
    });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  }

  function show(body) {
    document.getElementById("case-title").textContent = say("case_title", { value: body.case_number });
    document.getElementById("case-state").textContent = say("state_" + body.state);
    document.getElementById("case-copies").textContent = say("copies_found", { n: body.copies_found });
    const timeline = document.getElementById("timeline");
    timeline.replaceChildren(...body.timeline.map((event) => {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = event.at;
      time.textContent = event.at.replace("T", " ").slice(0, 16) + " UTC";
      item.append(time, " ", say("event_" + event.kind));
      return item;
    }));
    const locators = document.getElementById("case-locators");
    locators.replaceChildren(...body.locators.map((locator) => {
      const item = document.createElement("li");
      item.textContent = locator.value + " (" + say("locator_" + locator.state) + ")";
      if (locator.notice) {
        const notice = document.createElement("span");
        notice.className = "notice-state";
        notice.textContent = say("notice_" + locator.notice.state, {
          platform: locator.notice.platform,
          value: locator.notice.notified_at.slice(0, 10),
        });
        item.append(document.createElement("br"), notice);
      }
      return item;
    }));
    if (body.locators.length === 0) {
      const item = document.createElement("li");
      item.textContent = say("no_locators");
      locators.append(item);
    }
    showDecision(body.decision);
    document.getElementById("withdraw-box").hidden = body.state === "withdrawn";
    document.getElementById("withdraw-confirm").hidden = true;
    section.hidden = false;
    document.getElementById("case-title").focus();
  }

  function showDecision(decision) {
    const box = document.getElementById("case-decision");
    box.hidden = !decision;
    if (!decision) return;
    const day = (at) => at.replace("T", " ").slice(0, 16);
    document.getElementById("decision-outcome").textContent = say("decision_" + decision.outcome);
    document.getElementById("decision-ground").textContent = say("decision_ground", { value: decision.ground });
    const reasons = document.getElementById("decision-reasons");
    reasons.textContent = say("decision_reasons", { value: decision.reasons });
    reasons.hidden = !decision.reasons;
    document.getElementById("decision-at").textContent = say("decision_at", { value: day(decision.at) });
    document.getElementById("decision-complain").textContent =
      say("decision_complain", { value: decision.complaint_until.slice(0, 10) });
  }

  window.receiptPage({
    form, status, section, say, post, show,
    texts: { looking: "looking", notFound: "not_found", withdrawn: "withdrawn" },
    paths: { read: "/protect/api/status", withdraw: "/protect/api/withdraw" },
  });
})();
