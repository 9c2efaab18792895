/* pgsim drop-in for the PortOne V1 browser SDK (`IMP.init` / `IMP.request_pay`).
 * Load it instead of https://cdn.iamport.kr/v1/iamport.js:
 *   <script src="{pgsim base}/iamport/v1/iamport.js"></script>
 * request_pay opens the simulator's hosted checkout in a popup and calls back with
 * {success, imp_uid, merchant_uid, error_msg, ...}; with `m_redirect_url` (or when the
 * popup is blocked) the whole page goes to the checkout and comes back to m_redirect_url
 * with ?imp_uid=&merchant_uid=&imp_success=. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/\/iamport\/v1\/iamport\.js(\?.*)?$/, "") : "";
  var simOrigin = base ? new URL(base, window.location.href).origin : window.location.origin;
  var FIELDS = ["pg", "pay_method", "merchant_uid", "name", "amount", "currency", "buyer_name",
    "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "custom_data", "notice_url", "m_redirect_url",
    "customer_uid"];
  var userCode = null;

  function checkoutUrl(params) {
    var q = [];
    if (userCode) q.push("imp_code=" + encodeURIComponent(userCode));
    FIELDS.forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null) return;
      if (typeof v === "object") v = JSON.stringify(v);
      if (Array.isArray(params[k])) v = params[k][0];
      q.push(k + "=" + encodeURIComponent(v));
    });
    return base + "/iamport/checkout?" + q.join("&");
  }

  window.IMP = {
    init: function (code) { userCode = code; },
    request_pay: function (params, callback) {
      params = params || {};
      if (params.m_redirect_url) {
        window.location.href = checkoutUrl(params);
        return;
      }
      var popup = window.open(checkoutUrl(params), "pgsim_iamport", "width=480,height=720");
      if (!popup) {  // popup blocked: fall back to a full-page redirect back to this page
        params.m_redirect_url = window.location.href;
        window.location.href = checkoutUrl(params);
        return;
      }
      var done = false;
      function onMessage(event) {
        if (event.source !== popup || event.origin !== simOrigin) return;  // only the window we opened
        if (!event.data || event.data.pgsim !== "iamport") return;
        done = true;
        window.removeEventListener("message", onMessage);
        if (typeof callback === "function") callback(event.data.rsp);
      }
      window.addEventListener("message", onMessage);
      var timer = setInterval(function () {  // the buyer closed the popup without finishing
        if (!popup.closed) return;
        clearInterval(timer);
        setTimeout(function () {
          if (done) return;
          window.removeEventListener("message", onMessage);
          if (typeof callback === "function") callback({
            success: false, imp_success: false, imp_uid: null, merchant_uid: params.merchant_uid,
            error_code: "F0005", error_msg: "사용자가 결제를 취소하셨습니다"
          });
        }, 300);
      }, 250);
    }
  };
})();
