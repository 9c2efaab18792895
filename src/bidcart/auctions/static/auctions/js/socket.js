// A live-room WebSocket that keeps the lot's event sequence whole.
//
// Every room event carries the lot's sequence number. An event at seq + 1 is applied; one at or below
// seq is already in the state and dropped; one further ahead is held while the missing ones may still
// arrive (broadcasts of two commits can overtake each other), and after GAP_WAIT_MS a fresh snapshot is
// asked for. Events without a number (viewer counts, the personal "outbid") and replies to our own
// messages are handed over as they come. A dropped connection reconnects with backoff; the server sends
// a snapshot on every connect.
const GAP_WAIT_MS = 1000;
const UNSEQUENCED = new Set(["viewers", "outbid", "bid_result", "pong", "error", "chat_sent", "reported"]);

export class LiveSocket {
  constructor(path, { onSnapshot, onEvent, onMessage, onStatus }) {
    this.path = path;
    this.onSnapshot = onSnapshot;
    this.onEvent = onEvent;
    this.onMessage = onMessage;
    this.onStatus = onStatus || (() => {});
    this.seq = -1;
    this.pending = new Map();
    this.gapTimer = null;
    this.backoff = 500;
    this.ws = null;
    this.closedByUs = false;
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${this.path}`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.backoff = 500;
      this.onStatus(true);
    });
    ws.addEventListener("message", (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.receive(msg);
    });
    ws.addEventListener("close", () => {
      this.onStatus(false);
      if (this.closedByUs) return;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    });
  }

  send(message) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  resync() {
    clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.send({ type: "snapshot" });
  }

  receive(msg) {
    if (msg.type === "snapshot") {
      this.seq = msg.seq;
      this.onSnapshot(msg);
      const later = [...this.pending.keys()].filter((s) => s > this.seq);
      const held = new Map(later.map((s) => [s, this.pending.get(s)]));
      this.pending = held;
      this.drain();
      return;
    }
    if (UNSEQUENCED.has(msg.type) || typeof msg.seq !== "number") {
      (this.onMessage || this.onEvent)(msg);
      return;
    }
    if (this.seq < 0 || msg.seq <= this.seq) return; // no snapshot yet (one is coming), or already applied
    this.pending.set(msg.seq, msg);
    this.drain();
  }

  drain() {
    while (this.pending.has(this.seq + 1)) {
      const next = this.pending.get(this.seq + 1);
      this.pending.delete(this.seq + 1);
      this.seq += 1;
      this.onEvent(next);
    }
    if (this.pending.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    } else if (this.gapTimer === null) {
      this.gapTimer = setTimeout(() => this.resync(), GAP_WAIT_MS);
    }
  }

  // Our own bid's reply says the lot reached `seq`: if its events don't follow soon, resync.
  expect(seq) {
    setTimeout(() => {
      if (this.seq < seq) this.resync();
    }, GAP_WAIT_MS * 1.5);
  }
}
