"""Plate formats per country and US state, and the ISO 3166 code of each OCR region name.

A format is a template of character classes: `D` a digit, `L` a letter, `A` either. They are priors,
not rules: a plate that fits no format is still read (vanity plates, dealer plates, old series)."""

from __future__ import annotations

REGION_ISO: dict[str, str] = {
    "Albania": "AL", "Andorra": "AD", "Argentina": "AR", "Armenia": "AM", "Australia": "AU", "Austria": "AT",
    "Azerbaijan": "AZ", "Bahrain": "BH", "Belarus": "BY", "Belgium": "BE", "Bosnia and Herzegovina": "BA",
    "Brazil": "BR", "Bulgaria": "BG", "Cambodia": "KH", "Canada": "CA", "Croatia": "HR", "Cyprus": "CY",
    "Czech Republic": "CZ", "Denmark": "DK", "Estonia": "EE", "Finland": "FI", "France": "FR", "Georgia": "GE",
    "Germany": "DE", "Gibraltar": "GI", "Greece": "GR", "Guernsey": "GG", "Hungary": "HU", "Iceland": "IS",
    "Indonesia": "ID", "Ireland": "IE", "Israel": "IL", "Italy": "IT", "Latvia": "LV", "Liechtenstein": "LI",
    "Lithuania": "LT", "Luxembourg": "LU", "Malaysia": "MY", "Malta": "MT", "Mexico": "MX", "Moldova": "MD",
    "Monaco": "MC", "Montenegro": "ME", "Netherlands": "NL", "New Zealand": "NZ", "North Macedonia": "MK",
    "Norway": "NO", "Poland": "PL", "Portugal": "PT", "Qatar": "QA", "Romania": "RO", "San Marino": "SM",
    "Serbia": "RS", "Singapore": "SG", "Slovakia": "SK", "Slovenia": "SI", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "Thailand": "TH", "Turkey": "TR", "United States": "US", "Ukraine": "UA",
    "United Kingdom": "GB", "Vietnam": "VN",
}


def region_code(name: str | None) -> str | None:
    """ISO 3166-1 code of an OCR region name (`'Brazil'` -> `'BR'`); None for 'Unknown' or unlisted."""
    return REGION_ISO.get(name or "")
