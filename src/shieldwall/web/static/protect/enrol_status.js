// The /protect/enrol/status page: an enrolment with its number and secret, and withdrawal.
"use strict";

(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const say = (key, values) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  const form = document.getElementById("lookup");
  const status = document.getElementById("lookup-status");
  const section = document.getElementById("enrolment");
  const when = (at) => (at ? at.replace("T", " ").slice(0, 16) : "");

  async function post(path) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        enrolment_number: form.elements.enrolment_number.value.trim(),
        secret: form.elements.secret.value.trim(),
      }),
      credentials: "omit",
    });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  }

  function show(body) {
    document.getElementById("enrolment-title").textContent =
      say("enrolment_title", { value: body.enrolment_number });
    document.getElementById("enrolment-state").textContent =
      say("enrolment_state_" + body.state, { value: when(body.ended_at) });
    document.getElementById("enrolment-enrollee").textContent = say("enrolment_by_" + body.enrollee);
    document.getElementById("enrolment-given").textContent = when(body.given_at);
    document.getElementById("enrolment-expires").textContent = when(body.ended_at || body.expires_at);
    document.getElementById("enrolment-templates").textContent = String(body.templates);
    const actedOn = document.getElementById("enrolment-acted-on");
    actedOn.replaceChildren(...body.acted_on.map((at) => {
      const item = document.createElement("li");
      item.textContent = say("enrolment_acted_on", { value: when(at) });
      return item;
    }));
    if (body.acted_on.length === 0) {
      const item = document.createElement("li");
      item.textContent = say("enrolment_acted_on_none");
      actedOn.append(item);
    }
    document.getElementById("withdraw-box").hidden = body.state !== "active";
    document.getElementById("withdraw-confirm").hidden = true;
    section.hidden = false;
    document.getElementById("enrolment-title").focus();
  }

  window.receiptPage({
    form, status, section, say, post, show,
    texts: { looking: "enrolment_looking", notFound: "enrolment_not_found", withdrawn: "enrolment_withdrawn" },
    paths: { read: "/protect/api/enrolments/status", withdraw: "/protect/api/enrolments/withdraw" },
  });
})();
