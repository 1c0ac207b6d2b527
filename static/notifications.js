// Browser notifications: while the tab is in the background, a message that mentions
// you, or any message in a direct conversation (not your own), shows as a system
// notification; clicking it brings the window forward and opens the room at that
// message. The browser asks for permission only after a click on the page's "Turn on
// notifications" button, which hides once the answer is given (or where the browser
// has no notifications).
//
// The rules are plain functions (tested in tests/js/notifications.test.mjs); the rest
// touches `window` only when called, so node can import this module.

// The "Not now" of the chat page's offer, remembered in this browser.
const DISMISSED_KEY = "chatroom.notifications.dismissed";

// The longest body a notification gets (whole characters).
const BODY_CHARS = 140;

// What the browser allows: "granted", "denied", "default" (not asked yet) or
// "unsupported".
export function permission() {
  if (typeof window === "undefined" || !("Notification" in window)) return "unsupported";
  return window.Notification.permission;
}

// Whether the offer to turn notifications on shows: only while the browser has not
// been asked, and not after "Not now" (where the page offers that).
export function offerShown(state, dismissed) {
  return state === "default" && !dismissed;
}

// Whether a message should make a notification: allowed, the page not in view, not our
// own, not deleted, and naming us or in a direct room.
export function shouldNotify({ message, meId, direct, hidden, state }) {
  if (state !== "granted" || !hidden || !message || message.deleted) return false;
  if (!message.user || message.user.id === meId) return false;
  return !!direct || (message.mentions || []).includes(meId);
}

// The first line with something in it, cut to `max` whole characters.
function shortText(text, max) {
  const line = (text || "").split("\n").map((l) => l.trim()).find(Boolean) || "";
  const chars = Array.from(line);
  return chars.length > max ? chars.slice(0, max - 1).join("").trimEnd() + "…" : line;
}

// What the notification says: who (and where, outside a direct room), the message's
// first line, and a tag per message, so that two tabs showing it make one.
export function notificationContent(message, { direct, roomTitle }) {
  const who = message.user.nickname;
  return {
    title: direct ? who : `${who} in #${roomTitle || message.room}`,
    body: shortText(message.text, BODY_CHARS),
    tag: `message-${message.id}`,
  };
}

// Shows a notification; `onClick` after the window is brought forward.
export function notify(content, onClick) {
  if (permission() !== "granted") return null;
  let note;
  try {
    note = new window.Notification(content.title, { body: content.body, tag: content.tag, icon: "/static/icon.svg" });
  } catch (_) {
    return null; // a browser that only notifies from a service worker
  }
  note.addEventListener("click", (event) => {
    event.preventDefault();
    window.focus();
    note.close();
    onClick();
  });
  return note;
}

function dismissed() {
  try {
    return window.localStorage.getItem(DISMISSED_KEY) === "1";
  } catch (_) {
    return false;
  }
}

// The offer on a page: `element` holds a button `[data-notify=on]` and maybe one
// `[data-notify=later]`. It shows while the browser has not been asked; the browser
// asks on the click. `refocus()` puts the focus somewhere sensible when the button
// that had it goes.
export function setUpOffer(element, refocus = () => document.getElementById("main")?.focus({ preventScroll: true })) {
  if (!element) return;
  const on = element.querySelector("[data-notify=on]");
  const later = element.querySelector("[data-notify=later]");
  const render = () => {
    const shown = offerShown(permission(), !!later && dismissed());
    const hadFocus = element.contains(document.activeElement);
    element.hidden = !shown;
    if (!shown && hadFocus) refocus();
  };
  let asking = false;
  on.addEventListener("click", async () => {
    if (asking) return;
    asking = true;
    try {
      await window.Notification.requestPermission();
    } catch (_) {
      // An old browser's callback form: the state is read below all the same.
    }
    asking = false;
    render();
  });
  later?.addEventListener("click", () => {
    try {
      window.localStorage.setItem(DISMISSED_KEY, "1");
    } catch (_) {
      // Private mode: it shows again next time.
    }
    render();
  });
  // Allowed or blocked meanwhile (in another tab, or the browser's settings).
  document.addEventListener("visibilitychange", render);
  render();
}
