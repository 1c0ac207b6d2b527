// Small helpers shared by every page: avatar colours and local times.
"use strict";
(function () {
  // A stable hue per name, so a person keeps their colour everywhere.
  function hue(name) {
    let h = 0;
    for (const ch of name || "") h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function paintAvatar(el) {
    el.style.setProperty("--hue", hue(el.dataset.name));
  }

  function initials(name) {
    const first = Array.from((name || "?").trim())[0] || "?";
    return first.toUpperCase();
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

  function localTime(iso) {
    return timeFormat.format(new Date(iso));
  }

  function dayKey(iso) {
    const d = new Date(iso);
    return d.getFullYear() + "-" + d.getMonth() + "-" + d.getDate();
  }

  function dayLabel(iso) {
    const d = new Date(iso);
    const today = new Date();
    const yesterday = new Date(Date.now() - 86400000);
    if (dayKey(iso) === dayKey(today.toISOString())) return "Today";
    if (dayKey(iso) === dayKey(yesterday.toISOString())) return "Yesterday";
    return dayFormat.format(d);
  }

  // A short "when" for lists: the time today, else the date.
  function shortWhen(iso) {
    const d = new Date(iso);
    if (dayKey(iso) === dayKey(new Date().toISOString())) return localTime(iso);
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  }

  function localizeTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      if (!el.dataset.localized) {
        el.textContent = shortWhen(el.getAttribute("datetime"));
        el.title = new Date(el.getAttribute("datetime")).toLocaleString();
        el.dataset.localized = "1";
      }
    }
  }

  window.ChatUI = { hue, paintAvatar, initials, localTime, dayKey, dayLabel, shortWhen, localizeTimes };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".avatar[data-name]").forEach(paintAvatar);
    localizeTimes(document);
  });
})();
