// The /protect/enrol/status page: an enrolment with its number and secret, and withdrawal.
"use strict";

(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const say = (key, values) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  const form = document.getElementById("lookup");
  const status = document.getElementById("lookup-status");
  const section = document.getElementById("enrolment");
  const confirm = document.getElementById("withdraw-confirm");
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
    confirm.hidden = true;
    section.hidden = false;
    document.getElementById("enrolment-title").focus();
  }

  function explain(result) {
    if (result.status === 404) status.textContent = say("enrolment_not_found");
    else if (result.status === 429) status.textContent = say("too_many");
    else status.textContent = say("failed");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = say("enrolment_looking");
    const result = await post("/protect/api/enrolments/status").catch(() => ({ status: 0 }));
    if (result.status === 200) {
      status.textContent = "";
      show(result.body);
    } else {
      section.hidden = true;
      explain(result);
    }
  });

  document.getElementById("withdraw").addEventListener("click", () => {
    confirm.hidden = false;
    confirm.focus();
  });

  confirm.addEventListener("click", async () => {
    const result = await post("/protect/api/enrolments/withdraw").catch(() => ({ status: 0 }));
    if (result.status === 200) {
      show(result.body);
      status.textContent = say("enrolment_withdrawn");
    } else {
      explain(result);
    }
  });
})();
