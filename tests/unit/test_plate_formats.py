"""Plate formats per region: template expansion, fitting, and the OCR region names' ISO codes."""

import pytest

from openrtcc.domain.plate_formats import expand, fits, formats_for, region_code


@pytest.mark.parametrize(("spec", "templates"), [
    ("DLLLDDD", ("DLLLDDD",)),
    ("L{1,2}D{3}", ("LDDD", "LLDDD")),
    ("D{1,3}", ("D", "DD", "DDD")),
    ("LLA", ("LLA",)),
])
def test_expand(spec, templates):
    assert expand(spec) == templates


def test_expand_refuses_unknown_classes():
    with pytest.raises(ValueError, match="unknown class"):
        expand("LLX")


@pytest.mark.parametrize(("text", "region", "expected"), [
    ("7ABC123", "US-CA", True),  # California 1ABC234
    ("ABC1234", "US-CA", False),
    ("ABC1234", "US-NY", True),
    ("AB1C2D", "US-MO", True),
    ("ABC1234", "BR", True),  # old Brazilian series
    ("ABC1D23", "BR", True),  # Mercosur
    ("AB1D234", "BR", False),
    ("AB123CD", "AR", True),  # Argentine Mercosur
    ("ABC123", "AR", True),  # Argentine 1995 series
    ("AB12CDE", "GB", True),
    ("1234ABC", "ES", True),
    ("M AB 1234".replace(" ", ""), "DE", True),
    ("RK099AN", "SK", True),
    ("RKO99AN", "SK", False),  # a letter O where the digit zero belongs
    ("1ABC234", "us-ca", True),  # region codes are case-insensitive
    ("1ABC234", "US", True),  # the US as a whole: any state's series
    ("ABC1234", "US", True),
    ("123ABC", "US", True),
    ("AB1C2D3", "US", False),
    ("R8Z0503", "US", False),
])
def test_fits_a_regions_formats(text, region, expected):
    assert fits(text, formats_for(region)) is expected


@pytest.mark.parametrize("region", [None, "", "US-ZZ", "XX", "US-FL"])
def test_regions_without_known_formats_have_none(region):
    assert formats_for(region) == ()


@pytest.mark.parametrize(("name", "code"), [
    ("Brazil", "BR"), ("United States", "US"), ("United Kingdom", "GB"), ("Germany", "DE"),
    ("Czech Republic", "CZ"), ("Unknown", None), ("Atlantis", None), (None, None),
])
def test_region_code(name, code):
    assert region_code(name) == code
