// The product header's price follows the option chosen (each option's price is on its radio button).
// Without this script the header shows the preselected option's price, which the server renders.
const form = document.querySelector('[data-testid="add-to-cart-form"]');
const price = document.querySelector('[data-testid="detail-price"]');
if (form && price) {
  form.addEventListener("change", (e) => {
    if (e.target.name === "variant" && e.target.dataset.price) price.textContent = e.target.dataset.price;
  });
}
