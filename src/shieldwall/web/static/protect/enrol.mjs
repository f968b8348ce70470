// The /protect/enrol page: face templates made on this device from 1-5 photos, sent with
// the consent record. The photos themselves are never sent (faces.mjs works on the pixels
// in memory; the only request carries the templates and the form's answers).

import { FaceTemplates } from "/protect/static/faces.mjs";

const MAX_PHOTOS = 5;
const messages = JSON.parse(document.getElementById("messages").textContent);
const say = (key, values) =>
  (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));

const form = document.getElementById("enrol");
const picker = document.getElementById("photos");
const list = document.getElementById("photo-list");
const modelStatus = document.getElementById("model-status");
const sendStatus = document.getElementById("send-status");
const photos = []; // {file, url, state: working|ready|no_face|many_faces|unreadable, template, ms}
const faces = new FaceTemplates();
let loading = null;

function ready() {
  if (!loading) {
    modelStatus.textContent = say("enrol_loading");
    loading = faces.load().then(
      () => { modelStatus.textContent = ""; },
      (error) => { loading = null; throw error; },
    );
  }
  return loading;
}

async function examine(photo) {
  const started = performance.now();
  try {
    const bitmap = await createImageBitmap(photo.file, { imageOrientation: "from-image" });
    const found = await faces.faces(bitmap);
    bitmap.close();
    if (found.length === 1) {
      photo.state = "ready";
      photo.template = found[0].template;
    } else {
      photo.state = found.length === 0 ? "no_face" : "many_faces";
      photo.count = found.length;
    }
  } catch (error) {
    photo.state = "unreadable";
  }
  photo.ms = performance.now() - started;
}

function render() {
  list.replaceChildren(...photos.map((photo, index) => {
    const item = document.createElement("li");
    item.dataset.state = photo.state;
    if (photo.ms !== undefined) item.dataset.ms = photo.ms.toFixed(0);
    const preview = document.createElement("img");
    preview.className = "thumb";
    preview.src = photo.url;
    preview.alt = say("enrol_photo_alt", { n: index + 1 });
    const label = document.createElement("span");
    label.className = photo.state === "ready" || photo.state === "working" ? "" : "problem";
    label.textContent = say("enrol_photo_" + photo.state, { n: index + 1, count: photo.count });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = say("remove");
    remove.setAttribute("aria-label", say("enrol_remove_n", { n: index + 1 }));
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photos.splice(photos.indexOf(photo), 1);
      render();
      picker.focus();
    });
    item.append(preview, label, remove);
    return item;
  }));
}

picker.addEventListener("change", async () => {
  const chosen = Array.from(picker.files);
  picker.value = "";
  const room = MAX_PHOTOS - photos.length;
  const errors = document.getElementById("photos-error");
  errors.textContent = chosen.length > room ? say("enrol_too_many", { n: MAX_PHOTOS }) : "";
  const added = chosen.slice(0, Math.max(0, room)).map((file) => ({
    file, url: URL.createObjectURL(file), state: "working",
  }));
  photos.push(...added);
  render();
  try {
    await ready();
  } catch (error) {
    modelStatus.textContent = say("enrol_unavailable");
    return;
  }
  for (const photo of added) {
    await examine(photo);
    render();
  }
  const done = photos.filter((p) => p.state === "ready").length;
  modelStatus.textContent = say("enrol_templates_ready", { n: done });
});

function chosen(name) {
  return form.querySelector(`input[name=${name}]:checked`)?.value;
}

function showGuardian() {
  document.getElementById("guardian-fields").hidden = chosen("enrollee") !== "guardian";
}
form.querySelectorAll("input[name=enrollee]").forEach((input) => input.addEventListener("change", showGuardian));
showGuardian();

function mark(id, problem) {
  const input = document.getElementById(id);
  if (input) input.setAttribute("aria-invalid", "true");
  return problem;
}

/** What is missing or wrong, by the error element's id; empty when the form can be sent. */
function problems() {
  const found = {};
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  if (photos.length === 0) found["photos-error"] = say("enrol_need_photo");
  else if (photos.some((p) => p.state === "working")) found["photos-error"] = say("enrol_wait");
  else if (photos.some((p) => p.state !== "ready")) found["photos-error"] = say("enrol_fix_photos");
  if (chosen("enrollee") === "guardian") {
    const name = form.elements.guardian_name.value.trim();
    const signature = form.elements.guardian_signature.value.trim();
    if (!name) found["guardian-error"] = mark("guardian_name", say("enrol_guardian_name"));
    else if (signature.replace(/\s+/g, " ") !== name.replace(/\s+/g, " "))
      found["guardian-error"] = mark("guardian_signature", say("enrol_guardian_signature"));
  }
  const email = form.elements.email.value.trim();
  if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) found["email-error"] = mark("email", say("problem_email_invalid"));
  const unticked = form.querySelectorAll("input[name=statements]:not(:checked)");
  if (unticked.length) {
    unticked.forEach((box) => box.setAttribute("aria-invalid", "true"));
    found["statements-error"] = say("enrol_tick_all");
  }
  for (const id of ["photos-error", "guardian-error", "email-error", "statements-error"]) {
    document.getElementById(id).textContent = found[id] || "";
  }
  return found;
}

function body() {
  const guardian = chosen("enrollee") === "guardian";
  return {
    enrollee: chosen("enrollee"),
    guardian_name: guardian ? form.elements.guardian_name.value.trim() : "",
    guardian_signature: guardian ? form.elements.guardian_signature.value.trim() : "",
    term_days: Number(form.elements.term_days.value),
    email: form.elements.email.value.trim(),
    statements: Array.from(form.querySelectorAll("input[name=statements]:checked"), (box) => box.value),
    templates: photos.map((p) => p.template),
  };
}

function receipt(enrolled) {
  const lines = [
    say("enrol_receipt_title"),
    say("enrol_receipt_number", { value: enrolled.enrolment_number }),
    say("receipt_secret", { value: enrolled.secret }),
    say("enrol_receipt_given", { value: enrolled.given_at }),
    say("enrol_receipt_expires", { value: enrolled.expires_at }),
    say("enrol_receipt_templates", { n: enrolled.templates }),
    say("enrol_receipt_status", { value: location.origin + "/protect/enrol/status" }),
  ];
  return URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/plain" }));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const found = problems();
  if (Object.keys(found).length) {
    sendStatus.textContent = say("fix_fields");
    return;
  }
  sendStatus.textContent = say("enrol_sending");
  let response;
  try {
    response = await fetch("/protect/api/enrolments", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body()),
      credentials: "omit",
    });
  } catch (error) {
    sendStatus.textContent = say("offline");
    return;
  }
  if (response.status === 201) {
    const enrolled = await response.json();
    for (const photo of photos) URL.revokeObjectURL(photo.url);
    photos.length = 0;
    form.hidden = true;
    document.getElementById("enrolment-number").textContent = enrolled.enrolment_number;
    document.getElementById("enrolment-secret").textContent = enrolled.secret;
    document.getElementById("enrolment-expires").textContent = enrolled.expires_at.replace("T", " ").slice(0, 16);
    document.getElementById("receipt").href = receipt(enrolled);
    document.getElementById("done").hidden = false;
    document.getElementById("done-title").focus();
  } else if (response.status === 422) {
    sendStatus.textContent = say("fix_fields");
  } else if (response.status === 429) {
    sendStatus.textContent = say("too_many");
  } else {
    sendStatus.textContent = say("failed");
  }
});
