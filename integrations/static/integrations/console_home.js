// The console home's charts, drawn with the vendored Chart.js from the JSON the page carries
// (#console-charts): one line or bar per integration, hourly buckets, and calls by feature.
(function () {
  const source = document.getElementById("console-charts");
  if (!source || typeof Chart === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const hours = data.hourly.hours;
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997",
                   "#6610f2", "#d63384", "#ffc107", "#0dcaf0", "#6c757d", "#795548"];
  const colour = (i) => palette[i % palette.length];
  const perIntegration = (key, extra) => data.hourly.integrations.map((s, i) => Object.assign({
    label: s.name, data: s[key], borderColor: colour(i), backgroundColor: colour(i),
    spanGaps: true, pointRadius: 2,
  }, extra || {}));
  const base = {responsive: true, maintainAspectRatio: false, animation: false,
                plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}}};
  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }
  draw("chart-calls", {type: "bar", data: {labels: hours, datasets: perIntegration("calls")},
    options: Object.assign({}, base, {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}})});
  draw("chart-errors", {type: "line", data: {labels: hours, datasets: perIntegration("error_rate")},
    options: Object.assign({}, base, {scales: {y: {beginAtZero: true, suggestedMax: 0.1,
      ticks: {callback: (v) => Math.round(v * 100) + " %"}}}})});
  draw("chart-latency", {type: "line", data: {labels: hours, datasets: perIntegration("latency_ms")},
    options: Object.assign({}, base, {scales: {y: {beginAtZero: true}}})});
  draw("chart-features", {type: "bar", data: {
      labels: data.features.map((f) => f.label),
      datasets: [
        {label: "calls", data: data.features.map((f) => f.calls), backgroundColor: "#0d6efd"},
        {label: "errors", data: data.features.map((f) => f.errors), backgroundColor: "#dc3545"},
      ]},
    options: Object.assign({}, base, {indexAxis: "y", scales: {x: {beginAtZero: true}}})});
})();
