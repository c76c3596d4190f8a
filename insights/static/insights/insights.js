// Draws the insights page's charts from the report passed as JSON (json_script): no inline script.
(function () {
  "use strict";
  const COLOURS = ["#0f766e", "#2563eb", "#d97706", "#dc2626", "#7c3aed", "#0891b2"];

  function draw() {
    const source = document.getElementById("insights-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const style = getComputedStyle(document.body);
    Chart.defaults.color = style.getPropertyValue("--body-quiet-color").trim() || "#666";
    Chart.defaults.animation = false;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const spec = data[canvas.dataset.chart];
      if (!spec) return;
      const datasets = spec.datasets.map(function (set, index) {
        const colour = COLOURS[index % COLOURS.length];
        return Object.assign({ borderColor: colour, backgroundColor: colour, pointRadius: 0, spanGaps: true }, set);
      });
      const scales = { y: { beginAtZero: true, max: spec.percent ? 100 : undefined } };
      if (datasets.some(function (set) { return set.yAxisID === "cost"; })) {
        scales.cost = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
        scales.x = { stacked: true };
        scales.y.stacked = true;
      }
      canvas.chart = new Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels || data.labels, datasets: datasets },
        options: { responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false }, scales: scales },
      });
    });
    document.body.dataset.chartsDrawn = String(document.querySelectorAll("canvas[data-chart]").length);
  }

  function customDates() {
    const select = document.getElementById("period");
    if (!select) return;
    document.querySelectorAll(".insights-period input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () { select.value = "custom"; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { customDates(); draw(); });
})();
