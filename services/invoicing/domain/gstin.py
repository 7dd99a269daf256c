"""GSTINs and India's GST state codes: the 15-character number checked offline (state, PAN shape,
the fixed Z, and the mod-36 check digit), and the state code of a place of supply."""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SHAPE = re.compile(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")

# GST state and union-territory codes (the GSTIN's first two digits; the place of supply's code on
# an invoice). 25 (Daman and Diu) was merged into 26 in January 2020; 28 (Andhra Pradesh before
# 2014) is no longer issued; 97 is "other territory" (offshore areas).
STATE_CODES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}
_CODE_OF_STATE = {name.upper(): code for code, name in STATE_CODES.items()}
# The pincode directory's spellings that differ from the GST list's.
_CODE_OF_STATE["THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU"] = "26"


def state_code(state: str) -> str:
    """The GST state code of a state's name (any case, as the pincode directory spells it); KeyError
    for a name that is not an Indian state or union territory."""
    return _CODE_OF_STATE[" ".join(state.upper().replace("&", "AND").split())]


def check_character(first14: str) -> str:
    """The 15th character of a GSTIN from its first 14: Luhn mod 36 over 0-9A-Z, the rightmost of
    the 14 weighted 2, then alternately 1 and 2 leftwards (the same as weights 1,2,1,2… from the left)."""
    total = 0
    for index, char in enumerate(first14):
        product = CHARSET.index(char) * (2 if index % 2 else 1)
        total += product // 36 + product % 36
    return CHARSET[(36 - total % 36) % 36]


def gstin_problem(gstin: str) -> str | None:
    """Why a GSTIN is not a valid one, or None: shape, state code, then the check digit."""
    if len(gstin) != 15:
        return "a GSTIN has 15 characters"
    if not _SHAPE.fullmatch(gstin):
        return "not a GSTIN: 2-digit state code, 10-character PAN, entity number, Z, check character"
    if gstin[:2] not in STATE_CODES:
        return f"state code {gstin[:2]} is not an Indian state's GST code"
    expected = check_character(gstin[:14])
    if gstin[14] != expected:
        return f"check digit is wrong (a mistyped character?): expected {expected}"
    return None
