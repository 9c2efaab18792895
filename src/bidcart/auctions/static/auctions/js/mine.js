// "My auctions": once the page has shown the notices, mark them read. A POST of the page's own form (the
// button without JavaScript), never the page's GET; only notices up to the newest shown.
const form = document.querySelector('[data-testid="notices-read"]');
if (form) {
  fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                      headers: {"X-Requested-With": "fetch"}})
    .then((response) => { if (response.ok) form.hidden = true; })
    .catch(() => {});
}
