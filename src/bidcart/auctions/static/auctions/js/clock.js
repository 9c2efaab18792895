// The server's clock, seen from the browser: offset = server time - local time, estimated NTP-style
// from ping round trips (the sample with the shortest round trip wins). Countdowns use serverNow(), so a
// wrong local clock never shows a lot as ended while it is still open (or the other way round).
export class ServerClock {
  constructor(serverIso) {
    this.offset = serverIso ? Date.parse(serverIso) - Date.now() : 0;
    this.bestRtt = Infinity;
  }

  // A pong: `sentAt` is the local time the ping left, `serverIso` the server's time when it answered.
  observe(serverIso, sentAt) {
    const now = Date.now();
    const server = Date.parse(serverIso);
    if (Number.isNaN(server)) return;
    if (typeof sentAt !== "number") {
      if (this.bestRtt === Infinity) this.offset = server - now;
      return;
    }
    const rtt = Math.max(0, now - sentAt);
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      this.offset = server + rtt / 2 - now;
    }
  }

  now() {
    return Date.now() + this.offset;
  }
}

function pad(n) {
  return String(n).padStart(2, "0");
}

// 93784000 ms → "1d 02:03:04"; 3723000 → "1:02:03"; 83000 → "1:23"
export function formatRemaining(ms, dayLabel = "d") {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}${dayLabel} ${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  if (hours > 0) return `${hours}:${pad(minutes)}:${pad(seconds)}`;
  return `${minutes}:${pad(seconds)}`;
}
