// The assignment's target rows: once an integration is chosen, offer its platform's send
// methods, and for a trigger-only method what the platform can trigger (its broadcasts,
// campaigns or journeys), as suggestions in the text fields (datalists).
(function () {
  "use strict";
  const url = window.location.pathname.replace(/\/(add|\d+\/change)\/?$/, "/trigger-choices/");

  function field(row, name) {
    return row.querySelector(`[name$="-${name}"]`);
  }

  function suggest(input, id, options) {
    let list = document.getElementById(id);
    if (!list) {
      list = document.createElement("datalist");
      list.id = id;
      document.body.appendChild(list);
    }
    list.replaceChildren(...options.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.label = label;
      option.textContent = label;
      return option;
    }));
    input.setAttribute("list", id);
  }

  function note(input, text) {
    let small = input.parentElement.querySelector(".trigger-choices-note");
    if (!small) {
      small = document.createElement("div");
      small.className = "help trigger-choices-note";
      input.parentElement.appendChild(small);
    }
    small.textContent = text;
  }

  async function refresh(row) {
    const integration = field(row, "integration");
    const method = field(row, "method");
    const remote = field(row, "remote_template_or_campaign_id");
    if (!integration || !method || !remote || !integration.value) return;
    const query = new URLSearchParams({integration: integration.value, method: method.value});
    const answer = await fetch(`${url}?${query}`, {credentials: "same-origin"});
    if (!answer.ok) return;
    const data = await answer.json();
    const prefix = integration.name.replace(/-integration$/, "");
    suggest(method, `${prefix}-methods`, data.methods.map((m) => [m.key, m.label]));
    suggest(remote, `${prefix}-triggers`, data.choices.map((c) => [c.id, `${c.name} (${c.id})`]));
    const chosen = data.methods.find((m) => m.key === method.value);
    if (data.error) note(remote, data.error);
    else if (chosen && chosen.trigger_only)
      note(remote, data.choices.length ? `${data.choices.length} to choose from` : "None listed");
    else note(remote, "");
  }

  document.addEventListener("change", (event) => {
    const row = event.target.closest(".form-row, tr");
    if (row && /-(integration|method)$/.test(event.target.name || "")) refresh(row);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".form-row, tr").forEach((row) => refresh(row));
  });
})();
