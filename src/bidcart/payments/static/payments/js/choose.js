// The pay form's radio buttons carry "provider:method"; the server reads two plain fields.
// Without JavaScript the server falls back to the `pay` field itself (see views.pay).
const form = document.querySelector("[data-testid=pay-form]");
if (form) {
  // the pay button says what the chosen provider charges, e.g. "$19.29 (27,000원) 결제하기" for PayPal
  const button = form.querySelector("[data-testid=pay-submit]");
  form.addEventListener("change", (event) => {
    const amount = event.target.dataset && event.target.dataset.amount;
    if (amount && button && button.dataset.label) button.textContent = button.dataset.label.replace("__AMOUNT__", amount);
  });
  form.addEventListener("submit", () => {
    const picked = form.querySelector("input[name=pay]:checked");
    if (!picked) return;
    const [provider, method] = picked.value.split(":");
    form.elements.provider.value = provider;
    form.elements.method.value = method;
  });
}
