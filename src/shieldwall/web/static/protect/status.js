// The /protect/status page: a case's timeline with its number and secret, withdrawal, and
// asking for a decision to be looked at again (a complaint: the case's decision, or a copy a
// reviewer found was not the reported picture).
"use strict";

(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const say = (key, values) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  const form = document.getElementById("lookup");
  const status = document.getElementById("lookup-status");
  const section = document.getElementById("case");
  // One form, moved under the decision it is about (`item`: null for the case's own).
  const complaintForm = document.getElementById("complaint-form");
  const complaintStatus = document.getElementById("complaint-status");
  let complaintItem = null;

  function key() {
    return {
      case_number: form.elements.case_number.value.trim(),
      secret: form.elements.secret.value.trim(),
    };
  }

  async function post(path, extra) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign(key(), extra || {})),
      credentials: "omit",
    });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  }

  const day = (at) => at.replace("T", " ").slice(0, 16);

  function show(body) {
    document.getElementById("case-title").textContent = say("case_title", { value: body.case_number });
    document.getElementById("case-state").textContent = say("state_" + body.state);
    document.getElementById("case-copies").textContent = say("copies_found", { n: body.copies_found });
    const blocked = document.getElementById("case-blocked");
    blocked.hidden = !body.blocked_since_decision;
    blocked.textContent = body.blocked_since_decision
      ? say("blocked_since", { n: body.blocked_since_decision, value: day(body.last_blocked_at) + " UTC" })
      : "";
    const timeline = document.getElementById("timeline");
    timeline.replaceChildren(...body.timeline.map((event) => {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = event.at;
      time.textContent = day(event.at) + " UTC";
      const lookedAgain = event.kind === "decided" && event.detail.startsWith("complaint");
      item.append(time, " ", say(lookedAgain ? "event_complaint_decided" : "event_" + event.kind));
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
    complaintForm.hidden = true;
    section.append(complaintForm);
    showDecision(body.decision);
    showComplaints(body.complaints || []);
    showUploads(body.uploads || []);
    document.getElementById("withdraw-box").hidden = body.state === "withdrawn";
    document.getElementById("withdraw-confirm").hidden = true;
    section.hidden = false;
    document.getElementById("case-title").focus();
  }

  function showDecision(decision) {
    const box = document.getElementById("case-decision");
    box.hidden = !decision;
    if (!decision) return;
    document.getElementById("decision-outcome").textContent = say("decision_" + decision.outcome);
    const ground = document.getElementById("decision-ground");
    ground.textContent = say("decision_ground", { value: decision.ground });
    ground.hidden = !decision.ground;
    const reasons = document.getElementById("decision-reasons");
    reasons.textContent = say("decision_reasons", { value: decision.reasons });
    reasons.hidden = !decision.reasons;
    document.getElementById("decision-at").textContent = say("decision_at", { value: day(decision.at) });
    const complain = document.getElementById("decision-complain");
    complain.hidden = !decision.can_complain;
    complain.textContent = say("decision_complain", { value: decision.complaint_until.slice(0, 10) });
    if (decision.can_complain) {
      openComplaint(document.getElementById("decision-complaint-slot"), null);
    }
  }

  function showComplaints(complaints) {
    const box = document.getElementById("case-complaints");
    box.hidden = complaints.length === 0;
    document.getElementById("complaints-list").replaceChildren(...complaints.map((complaint) => {
      const item = document.createElement("li");
      const about = document.createElement("strong");
      about.textContent = say("complaint_about_" + complaint.about);
      const state = document.createElement("p");
      state.textContent = complaint.state === "open"
        ? say("complaint_open", { value: day(complaint.lodged_at) + " UTC" })
        : say("complaint_" + complaint.outcome, { value: day(complaint.decided_at) + " UTC" });
      item.append(about, state);
      if (complaint.reasons) {
        const reasons = document.createElement("p");
        reasons.className = "reasons";
        reasons.textContent = say("complaint_reasons", { value: complaint.reasons });
        item.append(reasons);
      }
      return item;
    }));
  }

  function showUploads(uploads) {
    document.getElementById("case-uploads").hidden = uploads.length === 0;
    document.getElementById("uploads-list").replaceChildren(...uploads.map((upload) => {
      const item = document.createElement("li");
      const text = document.createElement("p");
      text.textContent = say("upload_rejected", { value: upload.decided_at.slice(0, 10) });
      item.append(text);
      if (upload.can_complain) {
        const until = document.createElement("p");
        until.textContent = say("upload_until", { value: upload.complaint_until.slice(0, 10) });
        const ask = document.createElement("button");
        ask.type = "button";
        ask.className = "secondary";
        ask.textContent = say("upload_complain");
        ask.addEventListener("click", () => {
          openComplaint(item, upload.item);
          ask.hidden = true;
          complaintForm.elements.explanation.focus();
        });
        item.append(until, ask);
      }
      return item;
    }));
  }

  function openComplaint(place, item) {
    document.querySelectorAll("#uploads-list button[hidden]").forEach((b) => { b.hidden = false; });
    complaintItem = item;
    document.getElementById("complaint-intro").textContent = say("complaint_intro");
    complaintStatus.textContent = "";
    place.append(complaintForm);
    complaintForm.hidden = false;
  }

  function refused(result) {
    if (result.status === 409) return "complaint_taken";
    if (result.status === 422 && /ended/.test(String(result.body.detail || ""))) return "complaint_late";
    if (result.status === 422) return "complaint_empty";
    if (result.status === 404) return "not_found";
    if (result.status === 429) return "too_many";
    return "failed";
  }

  complaintForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const explanation = complaintForm.elements.explanation.value.trim();
    if (!explanation) {
      complaintStatus.textContent = say("complaint_empty");
      complaintForm.elements.explanation.focus();
      return;
    }
    complaintStatus.textContent = say("complaint_sending");
    const extra = complaintItem === null ? { explanation } : { explanation, item: complaintItem };
    const result = await post("/protect/api/complaint", extra).catch(() => ({ status: 0 }));
    if (result.status === 201) {
      complaintForm.elements.explanation.value = "";
      show(result.body);
      status.textContent = say("complaint_sent");
      document.getElementById("complaints-title").focus();
    } else {
      complaintStatus.textContent = say(refused(result));
    }
  });

  window.receiptPage({
    form, status, section, say, post, show,
    texts: { looking: "looking", notFound: "not_found", withdrawn: "withdrawn" },
    paths: { read: "/protect/api/status", withdraw: "/protect/api/withdraw" },
  });
})();
