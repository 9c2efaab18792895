// The pay form's radio buttons carry "provider:method"; the server reads two plain fields.
// Without JavaScript the server falls back to the `pay` field itself (see views.pay).
const form = document.querySelector("[data-testid=pay-form]");
if (form) {
  form.addEventListener("submit", () => {
    const picked = form.querySelector("input[name=pay]:checked");
    if (!picked) return;
    const [provider, method] = picked.value.split(":");
    form.elements.provider.value = provider;
    form.elements.method.value = method;
  });
}
