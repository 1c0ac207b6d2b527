// The settings page: the avatar is previewed before it is sent, sent to
// PUT /api/me/avatar as it is (the server decodes, crops and re-encodes it), and the
// page is then loaded again to show it (the top bar, the Remove button). The other
// forms are plain forms.

// A field the server refused (further down the page, maybe) has the focus, and shows
// in the middle of the screen with its error under it. Without this script, its
// autofocus still brings the field itself into view.
const refused = document.querySelector(".settings [aria-invalid=true]");
if (refused) {
  refused.focus({ preventScroll: true });
  refused.closest(".field").scrollIntoView({ block: "center" });
}

const editor = document.getElementById("avatar-editor");
const input = document.getElementById("avatar-file");
const preview = document.getElementById("avatar-preview");
const upload = document.getElementById("avatar-upload");
const cancel = document.getElementById("avatar-cancel");
const error = document.getElementById("avatar-error");
const maxBytes = Number(editor.dataset.maxBytes);
let chosen = null;
let previewUrl = null;

// 2097152 -> "2", 3040000 -> "2.9": megabytes as the hint under the field writes them.
function megabytes(bytes) {
  return (bytes / 1048576).toFixed(1).replace(/\.0$/, "");
}

function tooBig(file) {
  return `“${file.name}” is ${megabytes(file.size)} MB; a picture can be at most ${megabytes(maxBytes)} MB.`;
}

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
  input.setAttribute("aria-invalid", text ? "true" : "false");
}

function reset() {
  chosen = null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  preview.hidden = true;
  preview.removeAttribute("src");
  document.getElementById("avatar-current").hidden = false;
  upload.hidden = true;
  cancel.hidden = true;
  input.value = "";
}

input.addEventListener("change", () => {
  showError("");
  const file = input.files && input.files[0];
  if (!file) return reset();
  // The field is emptied again, so the message names the file it was about.
  if (!/^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
    reset();
    return showError(`“${file.name}” is not a PNG, JPEG, GIF or WebP picture.`);
  }
  if (file.size > maxBytes) {
    reset();
    return showError(tooBig(file));
  }
  chosen = file;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  preview.src = previewUrl;
  preview.hidden = false;
  document.getElementById("avatar-current").hidden = true;
  upload.hidden = false;
  cancel.hidden = false;
  upload.focus();
});

// What the browser cannot show as a picture, the server would refuse too.
preview.addEventListener("error", () => {
  if (!chosen) return;
  const name = chosen.name;
  reset();
  showError(`“${name}” could not be read as a picture: it may be damaged.`);
});

cancel.addEventListener("click", () => {
  reset();
  showError("");
  input.focus();
});

// Sends the chosen picture; true once it is saved (or the login is over), and the page
// is on its way to another.
async function send(file) {
  try {
    const response = await fetch("/api/me/avatar", {
      method: "PUT",
      headers: { "Content-Type": file.type },
      body: file,
      credentials: "same-origin",
    });
    if (response.status === 401) {
      window.location.assign("/login");
      return true;
    }
    if (response.status === 413) {
      showError(tooBig(file));
      return false;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      const message = body && body.error ? body.error.message : "the picture could not be saved";
      showError(message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? "" : "."));
      return false;
    }
    // The whole page (the top bar, the Remove button) shows the new picture.
    window.location.assign("/settings?saved=avatar");
    return true;
  } catch {
    showError("The picture could not be sent; check the connection and try again.");
    return false;
  }
}

upload.addEventListener("click", async () => {
  if (!chosen) return;
  upload.disabled = true;
  upload.textContent = "Uploading…";
  // Once saved, the button stays busy until the next page shows.
  if (await send(chosen)) return;
  upload.disabled = false;
  upload.textContent = "Use this picture";
});
