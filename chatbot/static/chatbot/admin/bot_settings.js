// Bot settings: the widget preview follows the colour pickers and the title/greeting fields as staff edit them.
(function () {
  "use strict";
  const COLOURS = { id_color_primary: "--wp-primary", id_color_background: "--wp-background", id_color_text: "--wp-text" };

  function bind() {
    const preview = document.getElementById("widget-preview");
    if (!preview) return;
    Object.keys(COLOURS).forEach(function (id) {
      const input = document.getElementById(id);
      if (!input) return;
      const apply = function () { preview.style.setProperty(COLOURS[id], input.value); };
      input.addEventListener("input", apply);
      apply();
    });
    [["id_widget_title", ".wp-title"], ["id_greeting", ".wp-body .wp-bot"]].forEach(function (pair) {
      const input = document.getElementById(pair[0]);
      const target = preview.querySelector(pair[1]);
      if (!input || !target) return;
      const apply = function () { target.textContent = input.value; };
      input.addEventListener("input", apply);
      apply();
    });
    preview.dataset.live = "1";
  }

  document.addEventListener("DOMContentLoaded", bind);
})();
