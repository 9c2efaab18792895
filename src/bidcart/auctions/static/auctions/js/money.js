// Money is an integer count of minor units. The digits and symbol come from the page (core.money's one
// table, written into the room's data-money-places / data-money-symbol), so this only does the layout
// that core.money.format_money does: "15,000원" in Korean for KRW, the symbol first otherwise.
export function formatMoney(amount, currency = "KRW", lang = "ko", places = 0, symbol = "") {
  if (amount === null || amount === undefined) return "";
  const major = (Number(amount) / 10 ** places).toLocaleString("en-US", {
    minimumFractionDigits: places,
    maximumFractionDigits: places,
  });
  if (currency === "KRW" && lang.startsWith("ko")) return `${major}원`;
  return symbol ? `${symbol}${major}` : `${major} ${currency}`;
}
