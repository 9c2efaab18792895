// The live room: price, countdown, bid form, history and chat kept live over /ws/auctions/<lot>/.
// The page is complete without this script (plain forms); this makes it live. No inline script, no
// build step: an ES module that reads its configuration from data- attributes.
import { ServerClock, formatRemaining } from "./clock.js";
import { formatMoney } from "./money.js";
import { LiveSocket } from "./socket.js";

const HISTORY_ROWS = 20;
const CHAT_ROWS = 100;
const PING_EVERY_MS = 20000;

function main() {
  const root = document.getElementById("room");
  if (!root) return;
  const T = document.getElementById("room-strings").dataset;
  const lang = root.dataset.lang || "ko";
  const currency = root.dataset.currency || "KRW";
  const $ = (testid) => root.querySelector(`[data-testid="${testid}"]`);
  const places = Number(root.dataset.moneyPlaces || 0);
  const money = (amount) => formatMoney(amount, currency, lang, places, root.dataset.moneySymbol || "");
  const clock = new ServerClock(root.dataset.serverTime);

  let lot = {
    status: root.dataset.status,
    ends_at: root.dataset.endsAt,
    starts_at: root.dataset.startsAt,
  };
  let you = { my_max: null, leading: false, alias: null };
  let refs = 0;
  // messages this user reported (from the page, then as they report): shown as reported after a reload too
  const sentTexts = []; // our messages on their way (until our alias is known)
  const reported = new Set((root.dataset.reported || "").split(",").filter(Boolean).map(Number));
  const waiting = new Map(); // ref → what the request was for

  // --- rendering ---------------------------------------------------------------------------------
  function statusLabel(status) {
    return { live: T.live, ended: T.ended, sold: T.sold, unsold: T.unsold, scheduled: T.scheduled, cancelled: T.cancelled }[status] || status;
  }

  function renderLot(next) {
    lot = next;
    const badge = $("lot-status");
    badge.textContent = statusLabel(lot.status);
    badge.className = `badge status-${lot.status}`;
    root.dataset.status = lot.status;
    const shown = lot.display_price ?? lot.current_price;
    const price = $("price");
    price.textContent = money(shown);
    price.dataset.amount = shown;
    $("price-label").textContent = priceLabel(lot);
    const barPrice = $("bar-price");
    if (barPrice) barPrice.textContent = money(shown);
    const byBuyNow = lot.status === "sold" && lot.sold_via === "buy_now";
    $("sold-by-bin").hidden = !byBuyNow;
    $("bids-line").hidden = byBuyNow && !lot.bid_count;
    $("bid-count").textContent = lot.bid_count;
    renderLeader();
    renderEnd();
    $("reserve").textContent = !lot.has_reserve ? T.noReserve : lot.reserve_met ? T.reserveMet : T.reserveNotMet;
    $("extended").hidden = !lot.extended;
    const endsAt = $("ends-at");
    endsAt.setAttribute("datetime", lot.ends_at);
    endsAt.textContent = new Date(lot.ends_at).toLocaleString(lang, {
      timeZone: "Asia/Seoul", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    const form = $("bid-form");
    if (form) {
      form.hidden = lot.status !== "live";
      const minNext = $("min-next-bid");
      minNext.textContent = money(lot.min_next_bid);
      minNext.dataset.amount = lot.min_next_bid;
      const input = $("bid-amount");
      input.min = lot.min_next_bid;
      if (document.activeElement !== input && Number(input.value) < lot.min_next_bid) input.value = lot.min_next_bid;
    }
    const buyNow = $("buy-now-form");
    if (buyNow) buyNow.hidden = !lot.buy_now_available;
    if (you.alias && you.my_max) you.leading = lot.leader === you.alias;
    renderYou();
    tick();
  }

  function priceLabel(state) {
    if (state.status === "sold") return state.sold_via === "buy_now" ? T.buyNowPrice : T.winningBid;
    return state.bid_count ? T.currentPrice : T.startingPrice;
  }

  function isMe(alias) {
    return !!(alias && you.alias && alias === you.alias);
  }

  function meMark() {
    const mark = document.createElement("span");
    mark.className = "me";
    mark.textContent = ` (${T.me})`;
    return mark;
  }

  function renderLeader() {
    const leader = $("leader");
    leader.textContent = lot.leader || "—";
    leader.parentElement.querySelector('[data-testid="leader-me"]')?.remove();
    if (isMe(lot.leader)) {
      const mark = meMark();
      mark.dataset.testid = "leader-me";
      leader.after(mark);
    }
  }

  // The end, as everyone sees it: "ended" for all; the loss for a bidder who didn't get the lot; the next
  // step for the winner (their order waits in My auctions).
  function renderEnd() {
    const over = ["ended", "sold", "unsold"].includes(lot.status);
    $("ended-notice").hidden = !over;
    const closed = lot.status === "sold" || lot.status === "unsold";
    const won = lot.status === "sold" && lot.sold_via !== "buy_now" && isMe(lot.leader);
    const lost = $("lost-notice");
    if (lost) lost.hidden = !(closed && you.my_max && !won && !$("won"));
    if (won && !$("won")) {
      const box = document.createElement("p");
      box.className = "ok";
      box.dataset.testid = "won";
      const link = document.createElement("a");
      link.className = "button";
      link.href = T.myAuctions;
      link.dataset.testid = "pay-link";
      link.textContent = T.won;
      box.append(link);
      $("my-status").before(box);
    }
    if (over) $("outbid-notice").hidden = true;
  }

  function renderYou() {
    const box = $("my-status");
    if (!box) return;
    box.textContent = "";
    if (!you.my_max) return;
    const over = ["ended", "sold", "unsold", "cancelled"].includes(lot.status);
    const max = document.createElement("span");
    max.dataset.testid = "my-max";
    max.textContent = money(you.my_max);
    if (over) {
      box.append(`${T.yourMax}: `, max); // the end notices say how it went
    } else {
      const strong = document.createElement("strong");
      strong.className = you.leading ? "ok" : "err";
      strong.textContent = you.leading ? T.leading : T.outbid;
      box.append(strong, ` · ${T.yourMax}: `, max);
    }
    if (you.leading) $("outbid-notice").hidden = true;
  }

  function timeOf(iso) {
    return new Date(iso).toLocaleTimeString(lang, {
      timeZone: "Asia/Seoul", hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  function historyRow(row) {
    const li = document.createElement("li");
    li.dataset.testid = "history-row";
    li.dataset.seq = row.seq;
    // the row names who held the price once the bid was in, as the panel does; a bid an earlier maximum
    // answered says so
    const holder = row.leader ?? (row.leading ? row.bidder : null);
    const alias = document.createElement("span");
    alias.className = "alias";
    alias.dataset.testid = "history-leader";
    alias.textContent = holder || row.bidder;
    if (isMe(holder)) alias.append(meMark());
    const price = document.createElement("strong");
    price.textContent = money(row.price);
    const at = document.createElement("time");
    at.className = "muted";
    at.setAttribute("datetime", row.at);
    at.textContent = timeOf(row.at);
    li.append(alias, " ", price, " ");
    if (!row.leading) {
      const auto = document.createElement("small");
      auto.className = "muted auto";
      auto.dataset.testid = "history-auto";
      auto.textContent = `${T.autoAgainst} ${row.bidder}${isMe(row.bidder) ? ` (${T.me})` : ""}`;
      li.append(auto, " ");
    }
    li.append(at);
    return li;
  }

  function renderHistory(rows) {
    const list = $("history");
    list.textContent = "";
    rows.forEach((row) => list.append(historyRow(row)));
  }

  function addHistory(row) {
    const list = $("history");
    list.querySelector('[data-testid="history-empty"]')?.remove();
    list.prepend(historyRow(row));
    while (list.children.length > HISTORY_ROWS) list.lastElementChild.remove();
  }

  function chatRow(message) {
    const li = document.createElement("li");
    li.dataset.testid = "chat-message";
    li.dataset.id = message.id;
    const author = document.createElement("span");
    author.className = `author${message.role ? ` role-${message.role}` : ""}`;
    author.textContent = message.role === "seller" ? T.seller : message.role === "staff" ? T.staff : message.author;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    li.append(author, " ", text);
    // nobody reports their own message; a message already reported says so instead of offering it again
    const mine = message.role === "seller" ? !!you.is_seller : !message.role && isMe(message.author);
    if (root.dataset.authenticated === "1" && !mine) {
      if (reported.has(Number(message.id))) {
        const done = document.createElement("span");
        done.className = "report muted";
        done.dataset.testid = "reported";
        done.textContent = T.reported;
        li.append(" ", done);
      } else {
        li.append(" ", reportControl(message.id));
      }
    }
    return li;
  }

  function reportControl(messageId) {
    const wrap = document.createElement("span");
    wrap.className = "report";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link small";
    open.dataset.testid = "report";
    open.textContent = T.report;
    open.addEventListener("click", () => {
      open.hidden = true;
      for (const reason of ["profanity", "advertisement", "spam"]) {
        const choice = document.createElement("button");
        choice.type = "button";
        choice.className = "link small";
        choice.dataset.testid = `report-${reason}`;
        choice.textContent = T[reason];
        choice.addEventListener("click", () => {
          const ref = `r${++refs}`;
          waiting.set(ref, { kind: "report", wrap, messageId });
          socket.send({ type: "report", message_id: messageId, reason, ref });
        });
        wrap.append(" ", choice);
      }
    });
    wrap.append(open);
    return wrap;
  }

  function renderChat(messages) {
    const list = $("chat-list");
    list.textContent = "";
    messages.forEach((m) => list.append(chatRow(m)));
    list.scrollTop = list.scrollHeight;
  }

  function addChat(message) {
    // A first message gives its author an alias in this room: learn ours from our own message coming back,
    // so it gets no 신고 button (the server's snapshot says the same after a reload).
    if (!you.alias && !message.role && sentTexts.includes(message.text)) you.alias = message.author;
    const list = $("chat-list");
    list.append(chatRow(message));
    while (list.children.length > CHAT_ROWS) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  // --- the countdown, on the server's clock ---------------------------------------------------------
  function tick() {
    tickOne($("countdown"));
    const bar = $("bar-countdown");
    if (bar) tickOne(bar);
  }

  function tickOne(el) {
    const now = clock.now();
    if (lot.status === "scheduled") {
      el.textContent = `${T.startsIn} ${formatRemaining(Date.parse(lot.starts_at) - now, T.days)}`;
    } else if (lot.status === "live") {
      const left = Date.parse(lot.ends_at) - now;
      // past the end but not yet told: the close is the server's call (a last bid may have extended it)
      el.textContent = left > 0 ? formatRemaining(left, T.days) : T.closing;
      el.classList.toggle("urgent", left > 0 && left <= (lot.soft_close_seconds || 60) * 1000);
    } else {
      el.textContent = "—";
      el.classList.remove("urgent");
    }
  }

  // --- events from the room ------------------------------------------------------------------------
  function onSnapshot(msg) {
    clock.observe(msg.server_time);
    you = msg.you || you;
    renderLot(msg.lot);
    renderHistory(msg.history || []);
    renderChat(msg.chat || []);
    $("viewers").textContent = msg.viewers ?? 0;
  }

  function onEvent(msg) {
    switch (msg.type) {
      case "bid":
        renderLot(msg.lot);
        addHistory(msg.bid);
        break;
      case "extended":
      case "started":
        renderLot(msg.lot);
        break;
      case "ended":
        renderLot(msg.lot);
        showResult("", "");
        break;
      case "chat":
        addChat(msg.message);
        break;
      case "chat_hidden":
        root.querySelector(`[data-testid="chat-message"][data-id="${msg.message_id}"]`)?.remove();
        break;
      default:
        break;
    }
  }

  function showResult(text, kind) {
    const box = $("bid-result") || $("my-status");
    if (!box) return;
    box.textContent = text;
    box.className = `bid-result ${kind}`;
  }

  function onMessage(msg) {
    const pending = msg.ref ? waiting.get(msg.ref) : undefined;
    if (msg.ref) waiting.delete(msg.ref);
    switch (msg.type) {
      case "viewers":
        $("viewers").textContent = msg.count;
        break;
      case "outbid":
        you.leading = false;
        $("outbid-notice").hidden = false;
        showResult("", "");  // "you lead" from our last bid no longer holds
        renderLot(msg.lot);
        break;
      case "pong":
        clock.observe(msg.server_time, msg.t);
        break;
      case "bid_result":
        $("bid-submit").disabled = false;
        if (msg.you) you = msg.you;
        if (msg.accepted) {
          showResult(msg.leading ? T.acceptedLeading : T.acceptedOutbid, msg.leading ? "ok" : "err");
          $("outbid-notice").hidden = !!msg.leading;
          if (msg.lot) socket.expect(msg.lot.seq);
        } else {
          showResult(msg.detail || msg.reason, "err");
          if (msg.lot) socket.expect(msg.lot.seq);
        }
        renderYou();
        break;
      case "chat_sent":
        $("chat-input").value = "";
        $("chat-error").textContent = "";
        break;
      case "reported":
        if (pending?.messageId) reported.add(Number(pending.messageId));
        if (pending?.wrap) {
          pending.wrap.textContent = T.reported;
          pending.wrap.dataset.testid = "reported";
        }
        break;
      case "error":
        if (pending?.kind === "chat") $("chat-error").textContent = msg.detail;
        else if (pending?.kind === "bid") {
          $("bid-submit").disabled = false; // a bid refused before it reached the lot (rate_limited)
          showResult(msg.detail, "err");
        } else if (pending?.wrap) pending.wrap.textContent = msg.detail;
        break;
      default:
        break;
    }
  }

  const socket = new LiveSocket(root.dataset.ws, {
    onSnapshot,
    onEvent,
    onMessage,
    onStatus: (online) => {
      const conn = $("connection");
      conn.classList.toggle("online", online);
      conn.title = online ? "" : T.offline;
      if (online) {
        ping();
      } else {
        // Whatever was in flight gets no reply on a dropped connection: free the bid button (the snapshot
        // sent on reconnect shows whether the bid went in).
        waiting.clear();
        const submit = $("bid-submit");
        if (submit) submit.disabled = false;
      }
    },
  });

  function ping() {
    socket.send({ type: "ping", t: Date.now() });
  }

  // --- forms -------------------------------------------------------------------------------------------
  const bidForm = $("bid-form");
  function sendBid(amount) {
    const ref = `b${++refs}`;
    waiting.set(ref, { kind: "bid" });
    $("bid-submit").disabled = true;
    const autopay = $("bid-autopay");  // "charge my saved card if I win", when the form offers it
    socket.send({ type: "bid", max_amount: Number.isNaN(amount) ? $("bid-amount").value : amount, ref,
                  ...(autopay && !autopay.disabled ? { pay_with_saved_method: autopay.checked } : {}) });
  }

  // A maximum far above the price is more often a typo (an extra zero) than a plan: ask first (eBay does).
  function askFirst(amount) {
    const box = $("bid-confirm");
    const shown = lot.display_price ?? lot.current_price ?? Number($("price").dataset.amount);
    $("bid-confirm-text").textContent = T.confirmBig
      .replace("%(amount)s", money(amount)).replace("%(price)s", money(shown));
    box.hidden = false;
    $("bid-submit").hidden = true;
    $("bid-confirm-yes").focus();
  }

  function closeAsk() {
    $("bid-confirm").hidden = true;
    $("bid-submit").hidden = false;
  }

  if (bidForm) {
    bidForm.addEventListener("submit", (e) => {
      if (!socket.open) return; // the plain form posts instead
      e.preventDefault();
      const amount = Number.parseInt($("bid-amount").value, 10);
      const limit = lot.confirm_above ?? Number(bidForm.dataset.confirmAbove);
      if (!Number.isNaN(amount) && limit && amount > limit) {
        askFirst(amount);
        return;
      }
      sendBid(amount);
    });
    $("bid-confirm-yes").addEventListener("click", () => {
      closeAsk();
      sendBid(Number.parseInt($("bid-amount").value, 10));
    });
    $("bid-confirm-no").addEventListener("click", () => {
      closeAsk();
      $("bid-amount").focus();
    });
  }
  const chatForm = $("chat-form");
  if (chatForm) {
    chatForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("chat-input").value.trim();
      if (!text) return;
      const ref = `c${++refs}`;
      waiting.set(ref, { kind: "chat" });
      if (!you.alias) sentTexts.push(text);
      if (!socket.send({ type: "chat", text, ref })) $("chat-error").textContent = T.offline;
    });
  }

  root.querySelectorAll('[data-testid="history-row"] time').forEach((t) => {
    t.textContent = timeOf(t.getAttribute("datetime"));
  });
  tick();
  setInterval(tick, 250);
  setInterval(ping, PING_EVERY_MS);
  socket.connect();
}

main();
