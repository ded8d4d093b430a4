"""Why a plate or area search is made: a purpose from a fixed taxonomy, an offence type (NIBRS codes) and a
case number. Free text alone is never a purpose; it may only add a note to a structured one.

The taxonomy also names purposes that agencies commonly prohibit (civil immigration enforcement, protest
activity, ...), so that a search made for them is recognised and refused rather than hidden in free text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from openrtcc.domain.errors import Forbidden, InvalidInput


@dataclass(frozen=True, slots=True)
class PurposeDefinition:
    code: str
    label: str
    needs_offence: bool  # False: a purpose that is not about an offence (a missing person); offence "NONE"


PURPOSES: tuple[PurposeDefinition, ...] = (
    PurposeDefinition("criminal_investigation", "Investigation of a specific crime", True),
    PurposeDefinition("hot_list_follow_up", "Follow-up of a hot-list alert", True),
    PurposeDefinition("stolen_vehicle", "Recovery of a stolen vehicle", True),
    PurposeDefinition("wanted_person", "Locating a person with a warrant", True),
    PurposeDefinition("missing_person", "Missing or endangered person (AMBER, Silver alert)", False),
    PurposeDefinition("exigent_threat", "Imminent threat to life or safety", False),
    PurposeDefinition("crash_investigation", "Hit-and-run or serious crash", False),
    PurposeDefinition("internal_affairs", "Internal-affairs review of system misuse", False),
    # Purposes an agency commonly prohibits; listed so that a search made for them is recognised and refused.
    PurposeDefinition("immigration_enforcement", "Civil immigration enforcement", False),
    PurposeDefinition("protest_activity", "Protest, assembly or other First Amendment activity", False),
    PurposeDefinition("reproductive_health", "Reproductive or gender-affirming health care", False),
    PurposeDefinition("civil_traffic", "Civil traffic or parking enforcement", False),
)
PURPOSE_BY_CODE = {p.code: p for p in PURPOSES}

# Prohibited on a new agency until its administrator decides otherwise (see domain.governance).
DEFAULT_PROHIBITED = frozenset({"immigration_enforcement", "protest_activity", "reproductive_health"})

NO_OFFENCE = "NONE"
# NIBRS Group A offence codes (FBI UCR), the offence types agencies already report in, plus NONE.
OFFENCES: dict[str, str] = {
    "09A": "Murder and non-negligent manslaughter",
    "09B": "Negligent manslaughter",
    "100": "Kidnapping or abduction",
    "11A": "Rape",
    "120": "Robbery",
    "13A": "Aggravated assault",
    "13B": "Simple assault",
    "13C": "Intimidation",
    "200": "Arson",
    "210": "Extortion or blackmail",
    "220": "Burglary or breaking and entering",
    "23H": "Larceny or theft (other)",
    "240": "Motor vehicle theft",
    "250": "Counterfeiting or forgery",
    "26A": "Fraud (false pretences, swindle)",
    "280": "Stolen property offences",
    "290": "Destruction, damage or vandalism of property",
    "35A": "Drug or narcotic violations",
    "39A": "Betting or wagering",
    "520": "Weapon law violations",
    "64A": "Human trafficking, commercial sex acts",
    "64B": "Human trafficking, involuntary servitude",
    "720": "Animal cruelty",
    NO_OFFENCE: "No offence (missing person, welfare, crash without crime)",
}

_CASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{1,63}$")
MAX_NOTE = 300


@dataclass(frozen=True, slots=True)
class SearchPurpose:
    """A search's structured reason, as the audit trail, the search log and the transparency portal keep it."""

    purpose: str  # a code of PURPOSES
    offence: str  # a code of OFFENCES
    case_number: str
    note: str | None = None

    @property
    def label(self) -> str:
        return PURPOSE_BY_CODE[self.purpose].label

    def audit_details(self) -> dict:
        return {"purpose": self.purpose, "offence": self.offence, "case": self.case_number,
                **({"note": self.note} if self.note else {})}


def parse_purpose(purpose: str | None, offence: str | None, case_number: str | None,
                  note: str | None = None) -> SearchPurpose:
    """Validate the three parts; each missing or unknown part is refused with its own code."""
    code = (purpose or "").strip()
    if not code:
        raise InvalidInput("choose the purpose of this search from the list", code="purpose_required",
                           details={"field": "purpose"})
    if code not in PURPOSE_BY_CODE:
        raise InvalidInput(f"purpose {code[:48]!r} is not in the purpose list; free text is not a purpose",
                           code="unknown_purpose", details={"field": "purpose"})
    off = (offence or "").strip().upper()
    if not off:
        raise InvalidInput("give the offence type (a NIBRS code, or NONE)", code="offence_required",
                           details={"field": "offence"})
    if off not in OFFENCES:
        raise InvalidInput(f"offence {off[:8]!r} is not a known NIBRS code", code="unknown_offence",
                           details={"field": "offence"})
    if PURPOSE_BY_CODE[code].needs_offence and off == NO_OFFENCE:
        raise InvalidInput(f"purpose {code} is about an offence: name it", code="offence_required",
                           details={"field": "offence"})
    case = (case_number or "").strip()
    if not case:
        raise InvalidInput("a search belongs to a case: give its number", code="case_number_required",
                           details={"field": "case_number"})
    if not _CASE_RE.match(case):
        raise InvalidInput("case number: 2 to 64 letters, digits, '-', '_', '.' or '/'",
                           code="bad_case_number", details={"field": "case_number"})
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters", code="bad_note", details={"field": "note"})
    return SearchPurpose(code, off, case, text)


def refuse_if_prohibited(p: SearchPurpose, prohibited: frozenset[str]) -> None:
    """The agency's prohibited purposes are refused whoever asks; the caller audits the refusal."""
    if p.purpose in prohibited:
        raise Forbidden(f"your agency prohibits searches for {PURPOSE_BY_CODE[p.purpose].label.lower()}",
                        code="purpose_prohibited")
