// Opens PortOne's payment window (V1 `IMP.request_pay` or V2 `PortOne.requestPayment`) for the pay page.
//
// The page renders, with no inline script (CSP):
//   <div id="pay-client" data-provider="portone|portone_v2" data-script="<SDK URL>"
//        data-params='<Next.params as JSON>' data-return="<urls.approve>" data-fail="<urls.fail>"></div>
// Optional texts (the page's language): data-text-opening, data-text-checking, data-text-error.
//
// Whatever the window answers, the browser goes to data-return with the SDK's answer in the query
// string; the server then reads the payment from PortOne and decides (the browser's "success" counts
// for nothing). Only when the SDK cannot even start (script blocked, SDK refuses the parameters)
// does it go to data-fail?error_msg=…, since then nothing happened at PortOne.
//   V1: data-return?imp_uid=&merchant_uid=&imp_success=&error_code=&error_msg=
//   V2: data-return?paymentId=&txId=&transactionType=&code=&message=
// With m_redirect_url / redirectUrl (always set by the adapters) the SDK may instead leave the page
// for the provider's window and come back to data-return by itself, with the same query.

const el = document.getElementById("pay-client");

const TEXTS = {
  en: { opening: "Opening the payment window…", checking: "Checking the payment…", error: "The payment window could not be opened." },
  ko: { opening: "결제창을 여는 중입니다…", checking: "결제를 확인하는 중입니다…", error: "결제창을 열 수 없습니다." },
};

function text(key) {
  const lang = (document.documentElement.lang || "en").slice(0, 2);
  return el.dataset[`text${key[0].toUpperCase()}${key.slice(1)}`] || (TEXTS[lang] || TEXTS.en)[key];
}

function say(key) {
  el.textContent = text(key);
}

function go(target, query) {
  const url = new URL(target, window.location.href);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  window.location.assign(url.toString());
}

function fail(error) {
  say("error");
  go(el.dataset.fail || el.dataset.return, { error_msg: (error && error.message) || String(error) });
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

// V1: the merchant code travels in params.imp_code (for IMP.init); request_pay gets the rest.
function payV1(params) {
  const { imp_code: merchantCode, ...request } = params;
  window.IMP.init(merchantCode);
  window.IMP.request_pay(request, (rsp) => {
    rsp = rsp || {};
    say("checking");
    go(el.dataset.return, {
      imp_uid: rsp.imp_uid,
      merchant_uid: rsp.merchant_uid || request.merchant_uid,
      imp_success: String(Boolean(rsp.success ?? rsp.imp_success)),
      error_code: rsp.error_code,
      error_msg: rsp.error_msg,
    });
  });
}

// V2: the promise resolves in popup/iframe mode; in redirect mode the page has left already.
async function payV2(params) {
  const rsp = await window.PortOne.requestPayment(params);
  if (!rsp) return;
  say("checking");
  go(el.dataset.return, {
    paymentId: rsp.paymentId || params.paymentId,
    txId: rsp.txId,
    transactionType: rsp.transactionType,
    code: rsp.code,
    message: rsp.message,
  });
}

// V2 card registration (saved cards): params carry billingKeyMethod; the answer is
// data-return?billingKey=&transactionType=ISSUE_BILLING_KEY&code=&message= (the server reads the key from PortOne).
async function issueBillingKeyV2(params) {
  const rsp = await window.PortOne.requestIssueBillingKey(params);
  if (!rsp) return;
  say("checking");
  go(el.dataset.return, {
    billingKey: rsp.billingKey,
    transactionType: rsp.transactionType,
    code: rsp.code,
    message: rsp.message,
  });
}

async function main() {
  if (!el.textContent.trim()) say("opening"); // the page may say it already, in its own words
  const params = JSON.parse(el.dataset.params);
  await loadScript(el.dataset.script);
  if (el.dataset.provider === "portone") {
    if (!window.IMP) throw new Error("IMP is not available");
    payV1(params);
  } else if (el.dataset.provider === "portone_v2") {
    if (!window.PortOne) throw new Error("PortOne is not available");
    await (params.billingKeyMethod ? issueBillingKeyV2(params) : payV2(params));
  } else {
    throw new Error(`unknown provider ${el.dataset.provider}`);
  }
}

if (el) {
  main().catch(fail);
}
