// Shared by /protect/status and /protect/enrol/status: a number and a secret from the form
// (#lookup) show a record; withdrawal asks for a second click (#withdraw, then
// #withdraw-confirm). Each page says how to post, show and word its answers.
"use strict";

window.receiptPage = function (page) {
  const { form, status, section, say, post, show, texts, paths } = page;
  const confirm = document.getElementById("withdraw-confirm");

  function explain(result) {
    if (result.status === 404) status.textContent = say(texts.notFound);
    else if (result.status === 429) status.textContent = say("too_many");
    else status.textContent = say("failed");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = say(texts.looking);
    const result = await post(paths.read).catch(() => ({ status: 0 }));
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
    const result = await post(paths.withdraw).catch(() => ({ status: 0 }));
    if (result.status === 200) {
      show(result.body);
      status.textContent = say(texts.withdrawn);
    } else {
      explain(result);
    }
  });
};
