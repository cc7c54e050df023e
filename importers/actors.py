"""The one table from datasets' actor names to parties (docs/importers.md). A row whose
actor is not here is reported, not guessed: add the actor here, with a test, to take it."""

from __future__ import annotations

ACTORS: dict[str, str] = {
    # Russia
    "Military Forces of Russia (2000-)": "ru",
    "Government of Russia (Soviet Union)": "ru",
    "Government of Russia (2000-)": "ru",
    "Wagner Group": "ru",
    # Ukraine
    "Military Forces of Ukraine (2019-)": "ua",
    "Military Forces of Ukraine (2014-2019)": "ua",
    "Government of Ukraine": "ua",
    "Government of Ukraine (2019-)": "ua",
    # North Korea
    "Military Forces of North Korea (1994-)": "kp",
    "Government of North Korea": "kp",
    # Belarus
    "Military Forces of Belarus (1994-)": "by",
    "Government of Belarus": "by",
}

# Countries as the datasets name them, to the ISO 3166 alpha-2 code an area slug starts with.
COUNTRIES: dict[str, str] = {
    "Russia (Soviet Union)": "ru",
    "Russia": "ru",
    "Ukraine": "ua",
    "Belarus": "by",
}


def party_of(actor: str) -> str | None:
    return ACTORS.get(actor.strip())


def country_of(name: str) -> str | None:
    return COUNTRIES.get(name.strip())


# ACLED's `iso` column: ISO 3166 numeric codes, to the alpha-2 code an area slug starts with.
ISO_NUMERIC: dict[str, str] = {"643": "ru", "804": "ua", "112": "by", "408": "kp"}


def country_of_iso(code: str) -> str | None:
    return ISO_NUMERIC.get(code.strip())
