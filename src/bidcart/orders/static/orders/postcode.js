// Daum (Kakao) postcode search on the checkout page. If the script can't load (offline, blocked),
// the button stays hidden and the plain fields do the job.
(function () {
  const row = document.querySelector("[data-testid=postcode-search-row]");
  const layer = document.getElementById("postcode-layer");
  if (!row || !layer) return;
  const script = document.createElement("script");
  script.src = "https://t1.daumcdn.net/mapjsapi/bundle/postcode/prod/postcode.v2.js";
  script.async = true;
  script.onload = function () {
    if (!window.daum || !window.daum.Postcode) return;
    row.hidden = false;
    document.getElementById("postcode-search").addEventListener("click", function () {
      layer.hidden = false;
      new window.daum.Postcode({
        oncomplete: function (data) {
          document.querySelector("input[name=postcode]").value = data.zonecode;
          document.querySelector("input[name=address1]").value = data.roadAddress || data.jibunAddress || data.address;
          layer.hidden = true;
          document.querySelector("input[name=address2]").focus();
        },
        width: "100%", height: "100%",
      }).embed(layer);
    });
  };
  document.head.appendChild(script);
})();
