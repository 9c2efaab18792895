"""Korean banks a buyer can be refunded to, and what each provider calls them.

A deposited virtual-account (가상계좌) payment is given back by bank transfer, so its refund needs the
buyer's own account: PortOne V1 takes the bank as a 금융결제원 code (`refund_bank`, "004"), V2 as its
`Bank` enum ("KOOKMIN"; ../shared/specs/portone-v2.openapi.json). bidcart keys banks by the V2 name and
shows the Korean name (the English one in English).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Bank:
    key: str  # PortOne V2's Bank enum
    code: str  # 금융결제원 code: PortOne V1's refund_bank / vbank_code
    name_ko: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko


BANKS = [
    Bank(*row)
    for row in (
        ("KDB", "002", "KDB산업은행", "KDB Korea Development Bank"),
        ("IBK", "003", "IBK기업은행", "IBK Industrial Bank of Korea"),
        ("KOOKMIN", "004", "KB국민은행", "KB Kookmin Bank"),
        ("SUHYUP", "007", "수협은행", "Suhyup Bank"),
        ("NONGHYUP", "011", "NH농협은행", "NongHyup Bank"),
        ("LOCAL_NONGHYUP", "012", "지역농·축협", "Local NongHyup"),
        ("WOORI", "020", "우리은행", "Woori Bank"),
        ("STANDARD_CHARTERED", "023", "SC제일은행", "SC First Bank"),
        ("CITI", "027", "한국씨티은행", "Citibank Korea"),
        ("DAEGU", "031", "iM뱅크(대구은행)", "iM Bank (Daegu)"),
        ("BUSAN", "032", "부산은행", "Busan Bank"),
        ("KWANGJU", "034", "광주은행", "Kwangju Bank"),
        ("JEJU", "035", "제주은행", "Jeju Bank"),
        ("JEONBUK", "037", "전북은행", "Jeonbuk Bank"),
        ("KYONGNAM", "039", "경남은행", "Kyongnam Bank"),
        ("KFCC", "045", "새마을금고", "Korean Federation of Community Credit Cooperatives"),
        ("SHINHYUP", "048", "신협", "Shinhyup (Credit Union)"),
        ("SAVINGS_BANK", "050", "저축은행", "Savings bank"),
        ("POST", "071", "우체국", "Korea Post"),
        ("HANA", "081", "하나은행", "Hana Bank"),
        ("SHINHAN", "088", "신한은행", "Shinhan Bank"),
        ("K_BANK", "089", "케이뱅크", "K Bank"),
        ("KAKAO", "090", "카카오뱅크", "KakaoBank"),
        ("TOSS", "092", "토스뱅크", "Toss Bank"),
    )
]
BY_KEY = {bank.key: bank for bank in BANKS}
BY_CODE = {bank.code: bank for bank in BANKS}
ACCOUNT_NUMBER = re.compile(r"^[0-9]{6,16}$")


def choices() -> list[tuple[str, str]]:
    return [(bank.key, bank.name) for bank in BANKS]


def find(value: str) -> Bank | None:
    """A bank by bidcart's key, or by the code or the Korean name a provider reports."""
    value = (value or "").strip()
    return BY_KEY.get(value.upper()) or BY_CODE.get(value) or next((b for b in BANKS if b.name_ko == value), None)


@dataclass(frozen=True)
class RefundAccount:
    """The buyer's account a virtual-account payment is refunded to. Passed to the provider and kept
    nowhere: not on the Refund, not in the event log (providers/http.py redacts it)."""

    bank: Bank
    number: str
    holder: str

    def __repr__(self) -> str:  # never the number, even in a traceback
        return f"RefundAccount({self.bank.key}, ****{self.number[-4:]}, {self.holder[:1]}*)"


def refund_account(bank: str, number: str, holder: str) -> RefundAccount:
    """Validate what a buyer or staff typed; raises ValueError with a sentence for them."""
    found = find(bank)
    if found is None:
        raise ValueError(_("Choose the bank from the list."))
    digits = re.sub(r"[\s-]", "", number or "")
    if not ACCOUNT_NUMBER.match(digits):
        raise ValueError(_("Enter the account number as 6 to 16 digits."))
    holder = (holder or "").strip()
    if not holder or len(holder) > 30:
        raise ValueError(_("Enter the account holder's name."))
    return RefundAccount(found, digits, holder)
