// The room list: unread badges and previews kept fresh while the page is open.
"use strict";
(function () {
  const list = document.getElementById("room-list");
  if (!list) return;
  const baseTitle = "Rooms · chatroom";

  function render(rooms) {
    let total = 0;
    for (const room of rooms) {
      total += room.unread;
      const link = list.querySelector(`a[data-room="${CSS.escape(room.name)}"]`);
      if (!link) continue; // a new room shows up on the next page load
      link.classList.toggle("has-unread", room.unread > 0);
      const meta = link.querySelector(".room-meta");
      let badge = meta.querySelector(".badge");
      if (room.unread > 0) {
        if (!badge) {
          badge = document.createElement("span");
          badge.className = "badge";
          meta.appendChild(badge);
        }
        badge.textContent = room.unread > 999 ? "999+" : String(room.unread);
        badge.setAttribute("aria-label", `${room.unread} unread`);
      } else if (badge) {
        badge.remove();
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

  setInterval(() => { if (!document.hidden) refresh(); }, 4000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();
