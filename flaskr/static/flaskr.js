// flaskr's only script. Every page works without it; it adds confirmations and live preview.

// Ask before a destructive submit (the button carries data-confirm).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// Live Markdown preview: the server renders and sanitizes, exactly as it will on save.
const body = document.querySelector("textarea[data-preview]");
if (body) {
  const panel = document.querySelector(body.dataset.preview);
  const target = panel.querySelector(".body");
  const token = body.form.querySelector("input[name=csrf_token]");
  let timer;
  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const data = new FormData();
      data.append("body", body.value);
      const response = await fetch("/preview", {
        method: "POST",
        body: data,
        headers: token ? { "X-CSRFToken": token.value } : {},
        credentials: "same-origin",
      });
      if (response.ok) {
        target.innerHTML = await response.text();
        panel.hidden = false;
      }
    }, 400);
  });
}
