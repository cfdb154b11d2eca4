// "Use the sandbox" on the wizard's credentials step: fetch the sandbox's base URL, region and
// working credentials for this platform (staff only) and fill them into the form.
(function () {
  const button = document.getElementById("use-sandbox");
  if (!button) { return; }
  button.addEventListener("click", function () {
    const data = button.dataset;
    fetch(data.url, {credentials: "same-origin"}).then(function (response) {
      return response.json();
    }).then(function (values) {
      const named = {api_base_url: values.api_base_url, region: values.region};
      Object.keys(values.credentials).forEach(function (key) {
        named[data.credentialPrefix + key] = values.credentials[key];
      });
      Object.keys(named).forEach(function (name) {
        const field = document.querySelector('#wizard [name="' + data.prefix + name + '"]');
        if (field && named[name]) { field.value = named[name]; }
      });
    });
  });
})();
