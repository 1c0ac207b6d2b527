// The room list: unread badges, previews and new rooms kept fresh while the page is open.
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
    const response = await fetch(`/api/rooms/${encodeURIComponent(room.name)}/messages?limit=1`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const [message] = (await response.json()).messages;
    if (!message) return;
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

  function render(rooms) {
    let total = 0;
    for (const room of rooms) {
      total += room.unread;
      const link = list.querySelector(`a[data-room="${CSS.escape(room.name)}"]`) || newItem(room);
      renderBadge(link, room.unread);
      if (Number(link.dataset.lastId) !== room.last_message_id && room.last_message_id > 0) {
        renderPreview(link, room).catch(() => {});
      }
    }
    document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
  }

  async function refresh() {
    try {
      const response = await fetch("/api/rooms", { headers: { Accept: "application/json" } });
      if (response.status === 401) return location.assign("/login");
      if (response.ok) render((await response.json()).rooms);
    } catch (_) {
      // Offline for a moment: the next round tries again.
    }
  }

  setInterval(() => { if (!document.hidden) refresh(); }, 3000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  // Coming back with the browser's Back button shows a fresh list at once.
  window.addEventListener("pageshow", (event) => { if (event.persisted) refresh(); });
})();
