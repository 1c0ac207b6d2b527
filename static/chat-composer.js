// The message box: it grows with its text, counts characters near the limit, sends on
// Enter (Shift+Enter for a new line), and shows why a message was not sent. It writes a
// reply ("Replying to …") or an edit ("Editing message", the draft kept aside until
// it ends) when asked; Escape or × ends either, Up-arrow in an empty box asks to edit.
// The @ suggestions (chat-mention-picker.js) hear its keys first while they are open.
// While one may not write (muted, or out of the room) the box and the button are off,
// with the reason under them; what was typed stays.

import { charCount, composerModeText, countShown, countText, tooLongText } from "./chat-format.js";

// The box grows up to this height (px), then scrolls.
const MAX_HEIGHT = 160;

export class Composer {
  // elements: {form, draft, count, error, blocked, send, mode, modeText, modeSnippet, modeCancel};
  // handlers: onSend(), onInput() (after the box has updated itself), onEditLast() (Up
  // in an empty box: true when an edit began), onModeChange(mode), onKeyDown(event)
  // (first to hear a key: true when it took it, as the @ suggestions do).
  constructor(elements, maxChars, handlers) {
    this.el = elements;
    this.maxChars = maxChars;
    this.handlers = handlers;
    this.mode = null; // {kind: "reply", id, nickname, snippet} or {kind: "edit", id, saved}
    this.el.modeCancel.addEventListener("click", () => {
      this.cancelMode();
      this.focus();
    });
    this.el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      handlers.onSend();
    });
    this.el.draft.addEventListener("keydown", (event) => {
      if (handlers.onKeyDown && handlers.onKeyDown(event)) return;
      // Not while an input method is composing: its Enter picks a candidate.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        handlers.onSend();
      } else if (event.key === "Escape" && this.mode) {
        event.preventDefault();
        event.stopPropagation();
        this.cancelMode();
      } else if (event.key === "ArrowUp" && !this.mode && !this.el.draft.value && !event.isComposing) {
        if (handlers.onEditLast()) event.preventDefault();
      }
    });
    this.el.draft.addEventListener("input", () => this.typed());
  }

  typed() {
    this.fitToText();
    if (this.errorKind() === "fatal" && charCount(this.el.draft.value) <= this.maxChars) this.hideError();
    this.handlers.onInput();
  }

  // Writing is off, saying why (text; "" for no line here), or on again (null).
  setBlocked(text) {
    const blocked = text !== null;
    this.blocked = blocked;
    this.el.draft.disabled = blocked;
    this.el.send.disabled = blocked;
    this.el.form.classList.toggle("blocked", blocked);
    this.el.blocked.textContent = text || "";
    this.el.blocked.hidden = !text;
  }

  isEmpty() {
    return !this.el.draft.value.trim();
  }

  // The trimmed draft, or null when there is nothing to send or it is too long (then
  // saying so). A previous error goes away when it can be sent.
  textToSend() {
    if (this.blocked) return null;
    const text = this.el.draft.value.trim();
    if (!text) return null;
    const length = charCount(text);
    if (length > this.maxChars) {
      this.showError(tooLongText(length, this.maxChars), "fatal");
      return null;
    }
    this.hideError();
    return text;
  }

  clear() {
    this.el.draft.value = "";
    this.fitToText();
  }

  // A refused message comes back to be fixed.
  putBack(text) {
    this.el.draft.value = text;
    this.fitToText();
  }

  // Its author asked to edit a refused message: it comes back, with the focus.
  editAgain(text) {
    this.el.draft.value = text;
    this.focus();
    this.fitToText();
  }

  // ---- replying and editing ----

  startReply(id, nickname, snippet) {
    if (this.mode && this.mode.kind === "edit") this.endEdit();
    this.showMode({ kind: "reply", id, nickname, snippet });
    this.focus();
  }

  // The message's text in the box to change; what was typed waits until the edit ends.
  startEdit(id, text) {
    const saved = this.mode && this.mode.kind === "edit" ? this.mode.saved : this.el.draft.value;
    this.showMode({ kind: "edit", id, saved });
    this.el.draft.value = text;
    this.focus();
    this.el.draft.setSelectionRange(text.length, text.length);
    this.fitToText();
  }

  // The edit was sent or given up: the draft from before comes back.
  endEdit() {
    const saved = this.mode ? this.mode.saved : "";
    this.showMode(null);
    this.el.draft.value = saved || "";
    this.fitToText();
  }

  // The message being edited is gone: what was typed stays in the box as a new
  // message, after the draft kept aside, if any.
  dropEdit() {
    const saved = this.mode ? this.mode.saved : "";
    this.showMode(null);
    if (saved && saved.trim()) this.el.draft.value = `${saved.trimEnd()}\n${this.el.draft.value}`;
    this.fitToText();
  }

  cancelMode() {
    if (this.mode && this.mode.kind === "edit") this.endEdit();
    else this.showMode(null);
    if (this.errorKind() === "fatal" && charCount(this.el.draft.value) <= this.maxChars) this.hideError();
  }

  showMode(mode) {
    this.mode = mode;
    this.el.mode.hidden = !mode;
    this.el.form.classList.toggle("editing", !!mode && mode.kind === "edit");
    this.el.send.textContent = mode && mode.kind === "edit" ? "Save" : "Send";
    this.handlers.onModeChange(mode);
    // The box's description for screen readers: empty without a mode.
    this.el.modeText.textContent = mode ? composerModeText(mode) : "";
    this.el.modeSnippet.textContent = mode && mode.kind === "reply" ? mode.snippet : "";
    if (!mode) return;
    const what = mode.kind === "edit" ? "Cancel editing" : "Cancel the reply";
    this.el.modeCancel.setAttribute("aria-label", what);
    this.el.modeCancel.title = `${what} (Escape)`;
  }

  fitToText() {
    this.autosize();
    this.renderCount();
  }

  focus() {
    this.el.draft.focus();
  }

  // kind: "fatal" (the draft needs changing; it goes when it is fixed) or "retry"
  // (it will go by itself; it goes when a message gets through).
  showError(text, kind) {
    this.el.error.textContent = text;
    this.el.error.dataset.kind = kind;
    this.el.error.hidden = false;
    this.el.draft.setAttribute("aria-invalid", kind === "fatal" ? "true" : "false");
  }

  hideError() {
    this.el.error.hidden = true;
    this.el.error.textContent = "";
    delete this.el.error.dataset.kind;
    this.el.draft.removeAttribute("aria-invalid");
  }

  errorKind() {
    return this.el.error.dataset.kind;
  }

  autosize() {
    const draft = this.el.draft;
    draft.style.height = "auto";
    const border = draft.offsetHeight - draft.clientHeight;
    draft.style.height = Math.min(draft.scrollHeight + border, MAX_HEIGHT) + "px";
    draft.style.overflowY = draft.scrollHeight + border > MAX_HEIGHT ? "auto" : "hidden";
  }

  // The count appears near the limit, and says by how much a draft is over it.
  renderCount() {
    const length = charCount(this.el.draft.value);
    const show = countShown(length, this.maxChars);
    this.el.count.hidden = !show;
    this.el.count.classList.toggle("over", length > this.maxChars);
    if (show) this.el.count.textContent = countText(length, this.maxChars);
  }
}
