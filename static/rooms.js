// The room list: unread and mention badges, previews and new rooms kept fresh while
// the page is open. A preview is the room's last message that is not deleted
// (`last_message_id`), as it is now: a delete moves it to the one before; an edit
// shows when the page comes back into view or is drawn again. While the page is in the
// background, with notifications allowed (notifications.js), a new mention of us or a
// new message in a direct room shows as a notification that opens the room at it.
// A long list also offers "Browse rooms", the room directory (rooms-directory.js), and
// "Message someone" suggests people as their nickname is typed (people-picker.js).

import { notificationContent, notify, permission, setUpOffer, shouldNotify } from "./notifications.js";
import { setUpPeoplePicker } from "./people-picker.js";
import { setUpDirectory } from "./rooms-directory.js";
import { messageUrl } from "./search-format.js";

const list = document.getElementById("room-list");
if (list) start(list);
const someone = document.getElementById("direct-nickname");
if (someone) setUpPeoplePicker(someone, document.getElementById("people-list"), window.ChatUI);

function start(list) {
  const UI = window.ChatUI;
  const baseTitle = "Rooms · chatroom";
  const meId = Number(list.dataset.meId);
  // Each room's counts at the last look (after the first), to see what is new.
  let counts = null;
  // "Browse rooms", offered once the list is long.
  const directory = setUpDirectory();
  directory.update(list.children.length);

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // A room that appeared since the page loaded (someone opened a direct room with us,
  // or created a room), built like the server-rendered ones.
  function newItem(room) {
    const direct = room.kind === "direct";
    const link = document.createElement("a");
    link.className = "room-item";
    link.href = `/rooms/${encodeURIComponent(room.name)}`;
    link.dataset.room = room.name;
    link.dataset.lastId = "0";
    const avatar = span(direct ? "avatar person" : "avatar", direct ? UI.initials(room.title) : "#");
    avatar.setAttribute("aria-hidden", "true");
    avatar.dataset.name = room.title;
    UI.paintAvatar(avatar);
    const text = span("room-text");
    text.append(
      span("room-title", direct ? room.title : `#${room.title}`),
      span("room-preview muted", direct ? "Direct conversation" : "No messages yet"),
    );
    const meta = span("room-meta");
    meta.append(span("room-counts"));
    link.append(avatar, text, meta);
    const li = document.createElement("li");
    li.appendChild(link);
    list.appendChild(li);
    return link;
  }

  // The mention badge ("@2") before the unread one; "999+" past the server's cap.
  function renderBadges(link, room) {
    const counts = link.querySelector(".room-counts");
    link.classList.toggle("has-unread", room.unread > 0);
    link.classList.toggle("has-mention", room.mentions > 0);
    const mentions = room.mentions === 1 && !room.mentions_capped ? " mention of you" : " mentions of you";
    renderBadge(counts, "mention-badge", room.mentions, room.mentions_capped, "@", mentions);
    renderBadge(counts, "badge", room.unread, room.unread_capped, "", " unread");
  }

  function renderBadge(counts, className, count, capped, prefix, said) {
    let badge = counts.querySelector(`.${className}`);
    if (count === 0) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = span(className);
      if (className === "mention-badge") {
        badge.title = "Mentions of you";
        counts.prepend(badge);
      } else {
        counts.append(badge);
      }
    }
    badge.replaceChildren(`${prefix}${capped ? "999+" : String(count)}`, span("sr-only", said));
  }

  async function lastMessage(room) {
    const id = room.last_message_id;
    const response = await fetch(`/api/rooms/${encodeURIComponent(room.name)}/messages/${id}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return null;
    const { message } = await response.json();
    return message && !message.deleted ? message : null;
  }

  // The room's last message as its preview; a notification of it when it is news.
  async function renderPreview(link, room, news) {
    const message = await lastMessage(room);
    if (!message) return;
    if (news) notifyOf(message, room);
    // "You:" before our own words; the sender's name in a public room only.
    const preview = link.querySelector(".room-preview");
    const mine = message.user.nickname === list.dataset.me;
    if (mine || room.kind !== "direct") {
      const who = document.createElement("b");
      who.textContent = mine ? "You:" : `${message.user.nickname}:`;
      preview.replaceChildren(who, " ", message.text);
    } else {
      preview.replaceChildren(message.text);
    }
    const meta = link.querySelector(".room-meta");
    let time = meta.querySelector("time");
    if (!time) {
      time = document.createElement("time");
      time.className = "muted";
      meta.prepend(time);
    }
    time.setAttribute("datetime", message.sent_at);
    UI.localizeTimes(meta);
    link.dataset.lastId = String(message.id);
  }

  // Every message of the room was deleted: as if none was ever sent.
  function clearPreview(link, room) {
    link.querySelector(".room-preview").textContent = room.kind === "direct" ? "Direct conversation" : "No messages yet";
    link.querySelector(".room-meta time")?.remove();
    link.dataset.lastId = "0";
  }

  // A new message that mentions us, or in a direct room, while the page is hidden.
  function notifyOf(message, room) {
    const direct = room.kind === "direct";
    if (!shouldNotify({ message, meId, direct, hidden: document.hidden, state: permission() })) return;
    notify(notificationContent(message, { direct, roomTitle: room.title }), () => {
      location.assign(messageUrl(room.name, message.id));
    });
  }

  // Whether a room has news worth a notification since the last look: more mentions of
  // us, or more unread in a direct room.
  function isNews(room) {
    const before = counts && counts.get(room.name);
    if (!counts) return false; // the first look only learns where things stand
    if (!before) return room.mentions > 0 || (room.kind === "direct" && room.unread > 0);
    return room.mentions > before.mentions || (room.kind === "direct" && room.unread > before.unread);
  }

  // `again`: fetch every preview, even where the last message is the same (it may
  // have been edited).
  function render(rooms, again) {
    let total = 0;
    for (const room of rooms) {
      total += room.unread;
      const link = list.querySelector(`a[data-room="${CSS.escape(room.name)}"]`) || newItem(room);
      renderBadges(link, room);
      const changed = Number(link.dataset.lastId) !== room.last_message_id;
      const news = changed && isNews(room);
      if (room.last_message_id > 0 && (changed || again)) renderPreview(link, room, news).catch(() => {});
      else if (room.last_message_id === 0 && changed) clearPreview(link, room);
    }
    counts = new Map(rooms.map((r) => [r.name, { mentions: r.mentions, unread: r.unread }]));
    directory.update(list.children.length);
    document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
  }

  async function refresh(again = false) {
    try {
      const response = await fetch("/api/rooms", { headers: { Accept: "application/json" } });
      if (response.status === 401) return location.assign("/login");
      if (response.ok) render((await response.json()).rooms, again);
    } catch (_) {
      // Offline for a moment: the next round tries again.
    }
  }

  // In the background only when there may be something to notify of.
  setInterval(() => { if (!document.hidden || permission() === "granted") refresh(); }, 3000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(true); });
  // Coming back with the browser's Back button shows a fresh list at once.
  window.addEventListener("pageshow", (event) => { if (event.persisted) refresh(true); });
  setUpOffer(document.getElementById("notify-offer"));
  refresh();
}
