// The photo gallery: a thumbnail shows its photo as the main one (same size class, so nothing jumps);
// the main photo links to the large size. Works without this script (the first photo is shown).
(function () {
  "use strict";
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var link = gallery.querySelector(".gallery-main");
    var img = link && link.querySelector("img");
    var source = link && link.querySelector("source");
    gallery.querySelectorAll(".gallery-thumb").forEach(function (thumb) {
      thumb.addEventListener("click", function () {
        var d = thumb.dataset;
        if (source) { source.srcset = d.webp || d.src; }
        img.src = d.src;
        img.alt = d.alt;
        if (d.width) { img.width = +d.width; img.height = +d.height; }
        link.href = d.zoom;
        gallery.querySelectorAll(".gallery-thumb").forEach(function (t) { t.removeAttribute("aria-current"); });
        thumb.setAttribute("aria-current", "true");
      });
    });
  });
})();
