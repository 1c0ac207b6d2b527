// Small helpers shared by every page: avatars and local times.
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

  // "Alice" -> "A", "Bob Li" -> "BL"; whole characters, so an emoji stays whole.
  function initials(name) {
    const words = (name || "").trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return "?";
    const first = (word) => Array.from(word)[0].toUpperCase();
    return words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

  function localTime(iso) {
    return timeFormat.format(new Date(iso));
  }

  // The local calendar day of a time, as a key.
  function dayKey(iso) {
    const d = new Date(iso);
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  function daysAgo(iso) {
    const d = new Date(iso);
    const midnight = (t) => new Date(t.getFullYear(), t.getMonth(), t.getDate()).getTime();
    return Math.round((midnight(new Date()) - midnight(d)) / 86400000);
  }

  function dayLabel(iso) {
    const ago = daysAgo(iso);
    if (ago === 0) return "Today";
    if (ago === 1) return "Yesterday";
    const d = new Date(iso);
    return d.getFullYear() === new Date().getFullYear() ? dayFormat.format(d) : dayYearFormat.format(d);
  }

  // A short "when" for lists: the time today, "Yesterday", else the date.
  function shortWhen(iso) {
    const ago = daysAgo(iso);
    if (ago === 0) return localTime(iso);
    if (ago === 1) return "Yesterday";
    return shortDayFormat.format(new Date(iso));
  }

  function localizeTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const iso = el.getAttribute("datetime");
      el.textContent = shortWhen(iso);
      el.title = new Date(iso).toLocaleString();
    }
  }

  // Avatars of people (not rooms) show their initials.
  function paintAvatars(root) {
    for (const el of root.querySelectorAll(".avatar[data-name]")) {
      paintAvatar(el);
      if (el.classList.contains("person")) el.textContent = initials(el.dataset.name);
    }
  }

  window.ChatUI = { hue, paintAvatar, paintAvatars, initials, localTime, dayKey, dayLabel, shortWhen, localizeTimes };

  document.addEventListener("DOMContentLoaded", () => {
    paintAvatars(document);
    localizeTimes(document);
  });
})();
