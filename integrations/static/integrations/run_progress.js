// A run page follows its run until it finishes: polls the run's status JSON and updates the
// counts in place, then reloads for the records. The status URL is on #run-live.
(function () {
  const live = document.getElementById("run-live");
  if (!live) { return; }
  const url = live.dataset.statusUrl;
  async function poll() {
    const response = await fetch(url, {headers: {"Accept": "application/json"}});
    if (!response.ok) { return setTimeout(poll, 3000); }
    const s = await response.json();
    document.getElementById("run-progress").style.width = s.progress + "%";
    document.getElementById("run-seen").textContent = s.seen;
    document.getElementById("run-total").textContent = s.total;
    document.getElementById("run-total-noun").textContent = s.total === 1 ? "subscriber" : "subscribers";
    document.getElementById("run-api-calls").textContent = s.api_calls_text;
    document.getElementById("run-job").textContent = s.job_state;
    const badge = document.getElementById("run-status");
    badge.textContent = s.status_label; badge.className = "badge " + s.status;
    const waiting = document.getElementById("run-waiting");
    if (waiting && s.status !== "queued") { waiting.remove(); }
    for (const [outcome, count] of Object.entries(s.counts)) {
      const cell = document.querySelector('[data-outcome="' + outcome + '"]');
      if (cell) { cell.textContent = count; }
    }
    if (s.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
  }
  setTimeout(poll, 1000);
})();
