// The room list: unread badges, previews and new rooms kept fresh while the page is open.
// A preview is the room's last message that is not deleted (`last_message_id`), as it
// is now: a delete moves it to the one before; an edit shows when the page comes back
// into view or is drawn again.
"use strict";
(function () {
  const list = document.getElementById("room-list");
  if (!list) return;
  const UI = window.ChatUI;
  const baseTitle = "Rooms · chatroom";

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
    link.append(avatar, text, span("room-meta"));
    const li = document.createElement("li");
    li.appendChild(link);
    list.appendChild(li);
    return link;
  }

  function renderBadge(link, unread) {
    const meta = link.querySelector(".room-meta");
    let badge = meta.querySelector(".badge");
    link.classList.toggle("has-unread", unread > 0);
    if (unread === 0) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = span("badge");
      meta.appendChild(badge);
    }
    badge.replaceChildren(unread > 999 ? "999+" : String(unread), span("sr-only", " unread"));
    badge.setAttribute("aria-label", `${unread} unread`);
  }

  async function renderPreview(link, room) {
    const id = room.last_message_id;
    const response = await fetch(`/api/rooms/${encodeURIComponent(room.name)}/messages/${id}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const { message } = await response.json();
    if (!message || message.deleted) return;
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

  // `again`: fetch every preview, even where the last message is the same (it may
  // have been edited).
  function render(rooms, again) {
    let total = 0;
    for (const room of rooms) {
      total += room.unread;
      const link = list.querySelector(`a[data-room="${CSS.escape(room.name)}"]`) || newItem(room);
      renderBadge(link, room.unread);
      const changed = Number(link.dataset.lastId) !== room.last_message_id;
      if (room.last_message_id > 0 && (changed || again)) renderPreview(link, room).catch(() => {});
      else if (room.last_message_id === 0 && changed) clearPreview(link, room);
    }
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

  setInterval(() => { if (!document.hidden) refresh(); }, 3000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(true); });
  // Coming back with the browser's Back button shows a fresh list at once.
  window.addEventListener("pageshow", (event) => { if (event.persisted) refresh(true); });
})();
