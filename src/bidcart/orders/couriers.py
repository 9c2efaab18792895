"""The couriers a seller may ship with, each with its public tracking page. One home for the list: the
seller's form, the API's choices and the buyer's tracking link all read it."""

import re
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _

# code → (name shown to people, tracking page with the number in it)
COURIERS: dict[str, tuple] = {
    "cj": (_("CJ Logistics"), "https://trace.cjlogistics.com/next/tracking.html?wblNo={number}"),
    "epost": (_("Korea Post"), "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={number}"),
    "hanjin": (
        _("Hanjin"),
        "https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={number}",
    ),
    "lotte": (
        _("Lotte Global Logistics"),
        "https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={number}",
    ),
    "logen": (_("Logen"), "https://www.ilogen.com/web/personal/trace/{number}"),
}
CHOICES = [(code, name) for code, (name, _url) in COURIERS.items()]
# Korean waybill numbers are 10 to 14 digits; sellers often paste them with dashes or spaces.
TRACKING_RE = re.compile(r"^[0-9]{10,14}$")


def clean_tracking_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def courier_name(code: str) -> str:
    entry = COURIERS.get(code)
    return str(entry[0]) if entry else ""


def tracking_url(code: str, number: str) -> str:
    entry = COURIERS.get(code)
    if not entry or not number:
        return ""
    return entry[1].format(number=quote(number, safe=""))
