// Money is an integer count of minor units; KRW has none. Same output as the `money` template filter.
const CURRENCIES = { KRW: ["₩", 0], USD: ["$", 2], EUR: ["€", 2], JPY: ["¥", 0] };

export function formatMoney(amount, currency = "KRW", lang = "ko") {
  if (amount === null || amount === undefined) return "";
  const [symbol, digits] = CURRENCIES[currency] || ["", 2];
  const major = (Number(amount) / 10 ** digits).toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  if (currency === "KRW" && lang.startsWith("ko")) return `${major}원`;
  return symbol ? `${symbol}${major}` : `${major} ${currency}`;
}
