/* pgsim drop-in for the PortOne V2 browser SDK: `PortOne.requestPayment(params)` and
 * `PortOne.requestIssueBillingKey(params)` (the card window for a billing key: resolves with
 * {transactionType: "ISSUE_BILLING_KEY", billingKey, code?, message?}, or redirects to redirectUrl with them).
 * Load it instead of https://cdn.portone.io/v2/browser-sdk.js:
 *   <script src="{pgsim base}/portone/browser-sdk.js"></script>
 * Resolves with {paymentId, txId, transactionType, code?, message?} like the real SDK
 * (code is set on failure). With `redirectUrl` the whole page goes to the hosted checkout
 * and comes back to redirectUrl?paymentId=&txId=&code=&message=. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/\/portone\/browser-sdk\.js(\?.*)?$/, "") : "";
  var simOrigin = base ? new URL(base, window.location.href).origin : window.location.origin;

  function checkoutUrl(p) {
    var q = [];
    function add(k, v) { if (v !== undefined && v !== null) q.push(k + "=" + encodeURIComponent(v)); }
    ["storeId", "channelKey", "paymentId", "orderName", "totalAmount", "taxFreeAmount", "currency",
     "payMethod", "redirectUrl"].forEach(function (k) { add(k, p[k]); });
    if (p.noticeUrls) add("noticeUrls", [].concat(p.noticeUrls).join(","));
    if (p.customData !== undefined) add("customData", typeof p.customData === "string" ? p.customData : JSON.stringify(p.customData));
    if (p.customer) ["fullName", "email", "phoneNumber"].forEach(function (k) { add("customer." + k, p.customer[k]); });
    return base + "/portone/checkout?" + q.join("&");
  }

  function billingKeyUrl(p) {
    var q = [];
    function add(k, v) { if (v !== undefined && v !== null) q.push(k + "=" + encodeURIComponent(v)); }
    ["storeId", "channelKey", "billingKeyMethod", "issueId", "issueName", "redirectUrl"].forEach(function (k) { add(k, p[k]); });
    if (p.noticeUrls) add("noticeUrls", [].concat(p.noticeUrls).join(","));
    if (p.customer && p.customer.customerId) add("customer.customerId", p.customer.customerId);
    return base + "/portone/billing-key-checkout?" + q.join("&");
  }

  function openWindow(url, params, cancelled) {
    if (params.redirectUrl && params.windowType !== "POPUP") {
      window.location.href = url;
      return new Promise(function () {});
    }
    return new Promise(function (resolve) {
        var popup = window.open(url, "pgsim_portone", "width=480,height=720");
        if (!popup) {
          resolve(Object.assign({}, cancelled, { message: "popup blocked" }));
          return;
        }
        var done = false;
        function onMessage(event) {
          if (event.source !== popup || event.origin !== simOrigin) return;  // only the window we opened
          if (!event.data || event.data.pgsim !== "portone") return;
          done = true;
          window.removeEventListener("message", onMessage);
          resolve(event.data.response);
        }
        window.addEventListener("message", onMessage);
        var timer = setInterval(function () {
          if (!popup.closed) return;
          clearInterval(timer);
          setTimeout(function () {
            if (!done) resolve(cancelled);
          }, 300);
        }, 250);
    });
  }

  window.PortOne = {
    requestPayment: function (params) {
      params = params || {};
      return openWindow(checkoutUrl(params), params,
        { code: "FAILURE_TYPE_PG", message: "사용자가 결제를 취소하였습니다.", paymentId: params.paymentId });
    },
    requestIssueBillingKey: function (params) {
      params = params || {};
      return openWindow(billingKeyUrl(params), params,
        { transactionType: "ISSUE_BILLING_KEY", code: "FAILURE_TYPE_PG", message: "사용자가 빌링키 발급을 취소하였습니다." });
    }
  };
})();
