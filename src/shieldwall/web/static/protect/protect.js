// The /protect page: hash chosen images on this device, then file the report.
// Only hashes and the form's fields are sent (fetch to /protect/api/cases); the files are
// read here and never leave. Thumbnails are object URLs, blurred until asked.
"use strict";

(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const say = (key, values) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  const items = [];
  const list = document.getElementById("items");
  const hashStatus = document.getElementById("hash-status");

  function toHex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // PDQ of the whole photo and of its regions (regions.js), or null for a format this
  // browser cannot draw: the digests still protect it.
  async function photoPdq(file) {
    try {
      const bitmap = await createImageBitmap(file);
      const { width, height } = bitmap;
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
      const data = context.getImageData(0, 0, width, height).data;
      canvas.width = canvas.height = 0; // the full-size canvas can go before hashing
      const table = await window.ShieldwallRegions.loadTable();
      const jpeg = file.type === "image/jpeg" || /\.jpe?g$/i.test(file.name);
      return await window.ShieldwallRegions.hashImage(data, width, height, table, jpeg);
    } catch (error) {
      return null;
    }
  }

  function render(item, file, index) {
    const row = document.createElement("li");
    const preview = document.createElement(item.kind === "video" ? "video" : "img");
    preview.className = "thumb blurred";
    preview.src = URL.createObjectURL(file);
    if (item.kind === "video") preview.muted = true;
    else preview.alt = say("preview_alt", { n: index + 1 });
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.textContent = say("show");
    toggle.setAttribute("aria-pressed", "false");
    toggle.addEventListener("click", () => {
      const shown = preview.classList.toggle("blurred") === false;
      toggle.textContent = say(shown ? "hide" : "show");
      toggle.setAttribute("aria-pressed", String(shown));
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = say("remove");
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(item), 1);
      URL.revokeObjectURL(preview.src);
      row.remove();
      hashStatus.textContent = say("hashed", { n: items.length });
    });
    const label = document.createElement("span");
    label.className = "item-label";
    label.textContent = say(item.kind === "video" ? "video_n" : "photo_n", { n: index + 1 });
    row.append(preview, label, toggle, remove);
    list.append(row);
  }

  async function add(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const item = {
      kind: file.type.startsWith("video/") ? "video" : "photo",
      sha256: toHex(await crypto.subtle.digest("SHA-256", bytes)),
      md5: window.ShieldwallMd5.md5Hex(bytes),
    };
    if (item.kind === "photo") {
      const hashed = await photoPdq(file);
      // The server refuses a PDQ hash below quality 50 (a blank or near-blank image's hash
      // would match every blank upload); such a photo is reported by its exact digests.
      if (hashed && hashed.pdq.quality >= 50) {
        item.pdq = hashed.pdq.hash;
        item.pdq_quality = hashed.pdq.quality;
        // Regions let a cropped or partly covered copy match (bank add keeps the same).
        if (hashed.regions.length) item.regions = hashed.regions;
      }
    }
    render(item, file, items.length);
    items.push(item);
  }

  // Hashing runs in slices (regions.js hands the page back its turn between them), so a
  // report sent meanwhile waits for it: every chosen image is in what is sent.
  let hashing = Promise.resolve();
  window.ShieldwallRegions.loadTable(); // fetched while the person chooses
  document.getElementById("files").addEventListener("change", (event) => {
    const files = Array.from(event.target.files || []);
    event.target.value = "";
    hashing = hashing
      .then(async () => {
        hashStatus.textContent = say("hashing", { n: files.length });
        try {
          for (const file of files) await add(file);
        } finally {
          hashStatus.textContent = say("hashed", { n: items.length });
        }
      })
      .catch(() => {}); // a file that cannot be read is left out; the others are kept
  });

  const form = document.getElementById("report");
  const authority = document.getElementById("authority-field");
  function showAuthority() {
    authority.hidden = form.elements.reporter.value !== "representative";
  }
  form.addEventListener("change", showAuthority);
  showAuthority();

  function fields() {
    const value = (name) => form.elements[name].value.trim();
    const checked = (name) => form.elements[name].checked;
    const locators = value("locators")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => ({ kind: /^https?:\/\//i.test(line) ? "url" : "text", value: line }));
    return {
      reporter: form.elements.reporter.value,
      name: value("name"),
      email: value("email"),
      country: value("country"),
      authority: value("authority"),
      signature: value("signature"),
      signature_confirmed: checked("signature_confirmed"),
      good_faith: checked("good_faith"),
      accurate: checked("accurate"),
      depicted_minor: checked("depicted_minor"),
      language: document.documentElement.lang,
      locators: locators,
      hashes: items.map((item) => {
        const hashes = { md5: item.md5, sha256: item.sha256 };
        if (item.pdq) {
          hashes.pdq = item.pdq;
          hashes.pdq_quality = item.pdq_quality;
          if (item.regions) hashes.regions = item.regions;
        }
        return hashes;
      }),
    };
  }

  function clearProblems() {
    form.querySelectorAll(".error").forEach((node) => { node.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  }

  function showProblems(problems) {
    let first = null;
    for (const problem of problems) {
      const note = document.getElementById(problem.field + "-error");
      if (note) note.textContent = say("problem_" + problem.field + "_" + problem.code);
      const input = form.elements[problem.field];
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        if (note) input.setAttribute("aria-describedby", note.id);
        first = first || input;
      }
    }
    (first || document.getElementById("hashes-error")).focus?.();
  }

  function receipt(filed, sent) {
    const lines = [
      say("receipt_title"),
      say("receipt_number", { value: filed.case_number }),
      say("receipt_secret", { value: filed.secret }),
      say("receipt_received", { value: filed.received_at }),
      "",
      say("receipt_items", { n: sent.hashes.length }),
      ...sent.hashes.map((h, i) => `${i + 1}. sha256 ${h.sha256}  md5 ${h.md5}${h.pdq ? "  pdq " + h.pdq : ""}`),
      "",
      say("receipt_locators", { n: sent.locators.length }),
      ...sent.locators.map((l) => `- ${l.value}`),
    ];
    return URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/plain" }));
  }

  const sendStatus = document.getElementById("send-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems();
    await hashing;
    const sent = fields();
    if (sent.hashes.length === 0) {
      document.getElementById("hashes-error").textContent = say("problem_hashes_required");
      document.getElementById("files").focus();
      return;
    }
    sendStatus.textContent = say("sending");
    let response;
    try {
      response = await fetch("/protect/api/cases", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(sent),
        credentials: "omit",
      });
    } catch (error) {
      sendStatus.textContent = say("offline");
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 201) {
      sendStatus.textContent = "";
      form.hidden = true;
      document.getElementById("case-number").textContent = body.case_number;
      document.getElementById("case-secret").textContent = body.secret;
      document.getElementById("case-received").textContent = body.received_at;
      document.getElementById("receipt").href = receipt(body, sent);
      const done = document.getElementById("done");
      done.hidden = false;
      document.getElementById("done-title").focus();
    } else if (response.status === 422 && body.problems) {
      sendStatus.textContent = say("fix_fields");
      showProblems(body.problems);
    } else if (response.status === 429) {
      sendStatus.textContent = say("too_many");
    } else {
      sendStatus.textContent = say("failed");
    }
  });
})();
