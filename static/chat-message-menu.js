// A message's menu: react (a row of common emoji), reply, for one's own messages edit,
// and delete for one's own or, for the room's owner and moderators, anyone's (delete
// asks first, in a <dialog>). It opens from the "⋯" button a
// message shows on hover or focus, or by a long press on a phone; arrow keys, Tab,
// Home and End move through it, Escape closes it and the focus goes back to the button.
// Nothing here decides what an action does: the handlers do (chat-actions.js).

import { COMMON_EMOJI } from "./chat-lifecycle.js";

// A press this long on a message opens its menu (touch screens).
const LONG_PRESS_MS = 500;
// A finger that moves more than this (px) is scrolling, not pressing.
const PRESS_SLOP = 10;

export class MessageMenu {
  // elements: {layer, menu}: the full-screen layer that catches clicks outside (a
  // backdrop under the sheet at phone width) and the menu in it. handlers: onReply(id),
  // onEdit(id), onDelete(id), onReact(id, emoji, on).
  constructor(elements, handlers) {
    this.el = elements;
    this.handlers = handlers;
    this.openId = null;
    this.returnTo = null; // where the focus goes when the menu closes
    this.el.layer.addEventListener("click", (event) => {
      if (!this.el.menu.contains(event.target)) this.close(false);
    });
    this.el.menu.addEventListener("click", (event) => this.chose(event));
    this.el.menu.addEventListener("keydown", (event) => this.key(event));
    // A turned phone, a keyboard that went away: the menu stays by its message.
    window.addEventListener("resize", () => {
      if (this.openId !== null && this.anchor.isConnected) this.place(this.anchor);
    });
  }

  isOpenFor(id) {
    return this.openId === id;
  }

  // Opens the menu of `message`, by `anchor` (its button, or the message pressed).
  // reacted: the emoji we reacted with on it; editable, deletable: whether Edit and
  // Delete are offered.
  open(message, { editable, deletable, reacted, anchor }) {
    this.openId = message.id;
    this.anchor = anchor;
    this.returnTo = anchor.closest(".message")?.querySelector(".message-actions") || anchor;
    this.fill(editable, deletable, reacted);
    this.el.layer.hidden = false;
    this.setExpanded(true);
    this.place(anchor);
    this.items().find((b) => b.dataset.action === "reply").focus();
  }

  // The message changed while its menu is open: the same menu, on its new button.
  refresh(message, { editable, deletable, reacted, anchor }) {
    const focused = this.el.menu.contains(document.activeElement) ? document.activeElement : null;
    const key = focused && (focused.dataset.action || focused.dataset.emoji);
    this.returnTo = anchor;
    if (!this.anchor.isConnected) this.anchor = anchor;
    this.fill(editable, deletable, reacted);
    this.setExpanded(true);
    const again = this.items().find((b) => (b.dataset.action || b.dataset.emoji) === key);
    if (again) again.focus();
  }

  close(returnFocus = true) {
    if (this.openId === null) return;
    this.openId = null;
    this.el.layer.hidden = true;
    this.setExpanded(false);
    if (returnFocus && this.returnTo && this.returnTo.isConnected) this.returnTo.focus();
  }

  setExpanded(open) {
    if (this.returnTo && this.returnTo.classList.contains("message-actions")) {
      this.returnTo.setAttribute("aria-expanded", String(open));
    }
  }

  fill(editable, deletable, reacted) {
    const row = document.createElement("div");
    row.className = "menu-emoji";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "React");
    for (const emoji of COMMON_EMOJI) {
      const on = reacted.includes(emoji);
      const b = item(emoji, "menuitemcheckbox");
      b.dataset.emoji = emoji;
      b.setAttribute("aria-checked", String(on));
      b.setAttribute("aria-label", on ? `Take back your ${emoji}` : `React with ${emoji}`);
      b.title = b.getAttribute("aria-label");
      row.append(b);
    }
    const actions = [["reply", "Reply"]];
    if (editable) actions.push(["edit", "Edit"]);
    if (deletable) actions.push(["delete", "Delete…"]);
    this.el.menu.replaceChildren(row, ...actions.map(([action, label]) => {
      const b = item(label, "menuitem");
      b.dataset.action = action;
      if (action === "delete") b.classList.add("danger");
      return b;
    }));
  }

  items() {
    return Array.from(this.el.menu.querySelectorAll("button"));
  }

  // Under (or above) the button on a wide screen, towards the middle of the screen; a
  // sheet at the bottom on a phone.
  place(anchor) {
    const menu = this.el.menu;
    const sheet = window.matchMedia("(max-width: 600px)").matches;
    this.el.layer.classList.toggle("sheet", sheet);
    menu.style.left = menu.style.top = "";
    if (sheet) return;
    const r = anchor.getBoundingClientRect();
    const { offsetWidth: w, offsetHeight: h } = menu;
    let top = r.bottom + 4;
    if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 4);
    const towardsRight = r.left + r.width / 2 < window.innerWidth / 2;
    const left = Math.min(Math.max(8, towardsRight ? r.left : r.right - w), window.innerWidth - w - 8);
    menu.style.top = `${top}px`;
    menu.style.left = `${left}px`;
  }

  chose(event) {
    const b = event.target.closest("button");
    if (!b || this.openId === null) return;
    const id = this.openId;
    if (b.dataset.emoji) {
      this.close();
      this.handlers.onReact(id, b.dataset.emoji, b.getAttribute("aria-checked") !== "true");
      return;
    }
    const action = b.dataset.action;
    // Reply and edit go on in the composer, delete in its dialog: they take the focus.
    this.close(false);
    if (action === "reply") this.handlers.onReply(id);
    else if (action === "edit") this.handlers.onEdit(id);
    else if (action === "delete") this.handlers.onDelete(id);
  }

  key(event) {
    const items = this.items();
    const i = items.indexOf(document.activeElement);
    const emoji = items.filter((b) => b.dataset.emoji);
    const actions = items.filter((b) => b.dataset.action);
    const inRow = i >= 0 && i < emoji.length;
    const j = i - emoji.length; // the position among the actions
    const wrap = (n) => items[(n + items.length) % items.length];
    let next = null;
    switch (event.key) {
      case "Escape": event.stopPropagation(); event.preventDefault(); return this.close();
      case "ArrowRight": next = wrap(i + 1); break;
      case "ArrowLeft": next = wrap(i - 1); break;
      case "ArrowDown": next = inRow ? actions[0] : actions[j + 1] || emoji[0]; break;
      case "ArrowUp": next = inRow ? actions[actions.length - 1] : j === 0 ? emoji[0] : actions[j - 1]; break;
      case "Home": next = items[0]; break;
      case "End": next = items[items.length - 1]; break;
      case "Tab": next = wrap(event.shiftKey ? i - 1 : i + 1); break;
      default: return;
    }
    event.preventDefault();
    next.focus();
  }
}

function item(label, role) {
  const b = document.createElement("button");
  b.type = "button";
  b.setAttribute("role", role);
  b.tabIndex = -1;
  b.textContent = label;
  return b;
}

// Asks in the dialog whether to delete (the message's text shown in it, and whose it
// is when it is someone else's); true for yes.
export function confirmDelete(dialog, text, author = null) {
  dialog.querySelector(".confirm-quote").textContent = text;
  dialog.querySelector(".confirm-note").textContent = author
    ? `This is ${author}'s message. Everyone in the room will see that it was deleted, and the moderation log will show that you deleted it.`
    : "Everyone in the room will see that it was deleted.";
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
  });
}

// A long press on a message (touch) calls onPress(li); the tap that ends it goes
// nowhere (not to what is under the finger now: the menu's layer), nor does the
// browser's own menu open.
export function watchLongPress(list, onPress) {
  let timer = null;
  let start = null;
  const cancel = () => { clearTimeout(timer); timer = null; };
  const swallow = (event) => {
    event.preventDefault();
    event.stopPropagation();
  };
  list.addEventListener("pointerdown", (event) => {
    const li = event.target.closest(".message[data-id]:not(.deleted)");
    if (event.pointerType !== "touch" || !li) return;
    start = { x: event.clientX, y: event.clientY };
    timer = setTimeout(() => {
      timer = null;
      // Until the next touch: a click that comes is this press's own.
      document.addEventListener("click", swallow, { capture: true, once: true });
      document.addEventListener("pointerdown", () => {
        document.removeEventListener("click", swallow, { capture: true });
      }, { capture: true, once: true });
      onPress(li);
    }, LONG_PRESS_MS);
  });
  list.addEventListener("pointermove", (event) => {
    if (timer && Math.hypot(event.clientX - start.x, event.clientY - start.y) > PRESS_SLOP) cancel();
  });
  for (const type of ["pointerup", "pointercancel"]) list.addEventListener(type, cancel);
  document.addEventListener("contextmenu", (event) => {
    if (timer || event.target.closest?.(".menu-layer")) event.preventDefault();
  });
}
