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
  // Live preview below what is typed on phones (CSS puts a requested one first).
  body.form.classList.add("live");
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
        panel.classList.remove("empty");
      }
    }, 400);
  });
  // Words typed before this script ran are previewed at once, not at the next key.
  if (body.value !== body.defaultValue) body.dispatchEvent(new Event("input"));
}

// The publish button says "Schedule" while the time chosen is ahead (the server
// decides either way; this only keeps the label honest as the author types).
const when = document.querySelector("input[name=publish_at]");
const publish = document.querySelector("button[data-schedule-label]");
if (when && publish) {
  const relabel = () => {
    if (!when.value) {
      publish.textContent = publish.dataset.emptyLabel;
      return;
    }
    const ahead = new Date(when.value) > new Date();
    publish.textContent = ahead ? publish.dataset.scheduleLabel : publish.dataset.nowLabel;
  };
  when.addEventListener("input", relabel);
  relabel();
}

// Warn before leaving the editor with changes not saved (saving is not leaving).
const editor = document.querySelector("form.editor");
if (editor) {
  const snapshot = (form = editor) => {
    const fields = [];
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrf_token" && name !== "version") fields.push([name, value]);
    }
    return JSON.stringify(fields);
  };
  // What the server sent, not what the fields hold now: words typed before this
  // script ran (it loads after the page) are changes too, to warn about and save.
  const sent = editor.cloneNode(true);
  sent.reset();
  let saved = snapshot(sent);
  let submitting = false;
  editor.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (!submitting && snapshot() !== saved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Drafts save themselves every few seconds while they change (the server
  // keeps a run of autosaves as one version in the history).
  const status = document.querySelector("[data-autosave]");
  if (status) {
    const version = editor.querySelector("input[name=version]");
    const token = editor.querySelector("input[name=csrf_token]");
    setInterval(async () => {
      const now = snapshot();
      if (now === saved || submitting) return;
      const data = new FormData(editor);
      let answer = {};
      try {
        const response = await fetch(status.dataset.autosave, {
          method: "POST",
          body: data,
          headers: token ? { "X-CSRFToken": token.value } : {},
          credentials: "same-origin",
        });
        answer = await response.json();
        if (!response.ok) throw new Error(answer.error);
      } catch (error) {
        status.textContent = (answer && answer.error) || status.dataset.autosaveFailed;
        return;
      }
      version.value = answer.version;
      saved = now;
      status.textContent = answer.message;
    }, Number(status.dataset.autosaveSeconds) * 1000);
  }
}

// Pictures: drop, paste or pick one; it is uploaded (with progress) and its Markdown
// goes where the cursor is. Without the script, the pictures page does the same.
const pictures = document.querySelector("[data-picture-upload]");
if (body && pictures) {
  pictures.hidden = false;
  const status = document.getElementById("picture-status");
  const picker = document.getElementById("picture-file");
  const token = body.form.querySelector("input[name=csrf_token]");
  const say = (text) => { status.textContent = text; };
  const insert = (markdown) => {
    body.setRangeText(`\n\n${markdown}\n\n`, body.selectionStart, body.selectionEnd, "end");
    body.dispatchEvent(new Event("input"));
    body.focus();
  };
  const alt = document.getElementById("picture-alt");
  const decorative = document.getElementById("picture-decorative");
  const asCover = document.getElementById("picture-cover");
  const cover = document.getElementById("cover");
  // Enter in the description must not save the post (the field is not the form's).
  alt.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
  const send = (file) => {
    // The description typed above goes with the picture; the server refuses none.
    const data = new FormData();
    data.append("picture", file);
    data.append("alt", alt.value);
    if (decorative.checked) data.append("decorative", "1");
    const request = new XMLHttpRequest();  // fetch cannot report upload progress
    request.open("POST", pictures.dataset.pictureUpload);
    request.setRequestHeader("Accept", "application/json");
    if (token) request.setRequestHeader("X-CSRFToken", token.value);
    const progress = (percent) => say(pictures.dataset.uploading.replace("%(percent)s", percent));
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress(Math.round((100 * event.loaded) / event.total));
    });
    request.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch { answer = {}; }
      if (request.status === 201) {
        if (asCover.checked) {
          cover.value = answer.markdown;
          asCover.checked = false;
        } else {
          insert(answer.markdown);
        }
        say(pictures.dataset.done);
        alt.value = "";
        decorative.checked = false;
      } else {
        say(answer.error || pictures.dataset.failed);
      }
    });
    request.addEventListener("error", () => say(pictures.dataset.failed));
    progress(0);
    request.send(data);
  };
  const images = (files) => [...(files || [])].filter((file) => file.type.startsWith("image/"));
  body.addEventListener("dragover", (event) => {
    if ([...event.dataTransfer.types].includes("Files")) event.preventDefault();
  });
  body.addEventListener("drop", (event) => {
    const files = images(event.dataTransfer.files);
    if (files.length) {
      event.preventDefault();
      files.forEach(send);
    }
  });
  body.addEventListener("paste", (event) => {
    const files = images(event.clipboardData && event.clipboardData.files);
    if (files.length) {
      event.preventDefault();
      files.forEach(send);
    }
  });
  picker.addEventListener("change", () => {
    images(picker.files).forEach(send);
    picker.value = "";
  });
}

// Like and unlike in place: the same form POST, asking for JSON; the count and
// the button's state come from the server's answer. Without the script the form
// posts and the page comes back. The button keeps the keyboard focus throughout
// (a disabled button would lose it): a click while one is on its way is ignored.
for (const form of document.querySelectorAll("form.like")) {
  const button = form.querySelector("button[name=like]");
  const count = document.getElementById(button.getAttribute("aria-describedby"));
  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    sending = true;
    button.setAttribute("aria-busy", "true");
    const data = new FormData(form);
    data.set("like", button.value);
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch {
      // Never reached the server: send the plain form instead (it leaves out the
      // button's own value, so the field goes in the form).
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = "like";
      field.value = button.value;
      form.append(field);
      form.submit();
      return;
    }
    sending = false;
    button.removeAttribute("aria-busy");
    if (!response.ok) {
      // The server answered (too many likes at once, a session that ended): say so, once.
      count.textContent = form.closest("section").dataset.failed;
      return;
    }
    const answer = await response.json();
    button.value = answer.liked ? "0" : "1";
    button.setAttribute("aria-pressed", answer.liked ? "true" : "false");
    count.textContent = answer.text;
  });
}
