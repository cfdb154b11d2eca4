// The analytics pages' charts (vendored Chart.js), from the JSON each page carries
// (#analytics-chart): rates by assignment on the dashboard, growth over 72 h on an assignment.
(function () {
  const source = document.getElementById("analytics-chart");
  if (!source || typeof Chart === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997"];
  const base = {responsive: true, maintainAspectRatio: false, animation: false,
                plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}}};
  const percent = {ticks: {callback: (v) => Math.round(v * 1000) / 10 + " %"}, beginAtZero: true};
  const rates = document.getElementById("chart-assignments");
  if (rates && data.labels) {
    new Chart(rates, {type: "bar", data: {labels: data.labels, datasets: [
      {label: "open rate", data: data.open_rate, backgroundColor: palette[0]},
      {label: "click rate", data: data.click_rate, backgroundColor: palette[1]},
    ]}, options: Object.assign({}, base, {scales: {y: percent}})});
  }
  const growth = document.getElementById("chart-growth");
  if (growth && data.growth) {
    const datasets = [];
    Object.entries(data.growth).forEach(([name, points], i) => {
      const colour = palette[i % palette.length];
      datasets.push({label: name + " opened", data: points.map((p) => ({x: p.hours, y: p.opened})),
                     borderColor: colour, backgroundColor: colour, showLine: true});
      datasets.push({label: name + " clicked", data: points.map((p) => ({x: p.hours, y: p.clicked})),
                     borderColor: colour, backgroundColor: colour, borderDash: [4, 3], showLine: true});
    });
    new Chart(growth, {type: "scatter", data: {datasets: datasets}, options: Object.assign({}, base, {
      scales: {x: {type: "linear", min: 0, max: 72, title: {display: true, text: "hours since the send"}},
               y: {beginAtZero: true}}})});
  }
})();
(function () {
  const source = document.getElementById("analytics-chart");
  const canvas = document.getElementById("chart-test");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  const test = JSON.parse(source.textContent).test;
  if (!test) { return; }
  // The interval as a floating bar, the estimate as a point on it.
  new Chart(canvas, {data: {labels: test.labels, datasets: [
    {type: "bar", label: "interval", data: test.interval, backgroundColor: "rgba(13,110,253,.25)"},
    {type: "scatter", label: "rate", data: test.rate, backgroundColor: "#0d6efd", pointRadius: 5},
  ]}, options: {responsive: true, maintainAspectRatio: false, animation: false, indexAxis: "x",
    plugins: {legend: {position: "bottom"}},
    scales: {y: {beginAtZero: true, ticks: {callback: (v) => Math.round(v * 1000) / 10 + " %"}}}}});
})();
