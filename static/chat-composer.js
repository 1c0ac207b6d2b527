// The message box: it grows with its text, counts characters near the limit, sends on
// Enter (Shift+Enter for a new line), and shows why a message was not sent.

import { charCount, countShown, countText, tooLongText } from "./chat-format.js";

// The box grows up to this height (px), then scrolls.
const MAX_HEIGHT = 160;

export class Composer {
  // elements: {form, draft, count, error}; handlers: onSend(), onInput() (after the
  // box has updated itself).
  constructor(elements, maxChars, handlers) {
    this.el = elements;
    this.maxChars = maxChars;
    this.handlers = handlers;
    this.el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      handlers.onSend();
    });
    this.el.draft.addEventListener("keydown", (event) => {
      // Not while an input method is composing: its Enter picks a candidate.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        handlers.onSend();
      }
    });
    this.el.draft.addEventListener("input", () => this.typed());
  }

  typed() {
    this.fitToText();
    if (this.errorKind() === "fatal" && charCount(this.el.draft.value) <= this.maxChars) this.hideError();
    this.handlers.onInput();
  }

  isEmpty() {
    return !this.el.draft.value.trim();
  }

  // The trimmed draft, or null when there is nothing to send or it is too long (then
  // saying so). A previous error goes away when it can be sent.
  textToSend() {
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
