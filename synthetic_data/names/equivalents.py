"""The same given name in other languages, which agencies sometimes write instead.

A Ukrainian Oleksandr is recorded as Aleksandr by a Russian-speaking clerk and as Alexander
by an English one; a Syrian Youssef may be Joseph in a French file. Each group lists one form
per language (agency language codes; ``uk``/``ru``/``bg`` in Cyrillic, ``ar``/``fa`` in Arabic
script). Only cognates that records really swap are listed.
"""

from __future__ import annotations

from functools import cache

__all__ = ["EQUIVALENTS", "equivalent_in"]

EQUIVALENTS: tuple[dict[str, str], ...] = (
    {"ru": "Александр", "uk": "Олександр", "bg": "Александър", "en": "Alexander",
     "fr": "Alexandre", "de": "Alexander", "es": "Alejandro", "ro": "Alexandru",
     "it": "Alessandro", "pt": "Alexandre"},
    {"ru": "Алексей", "uk": "Олексій", "bg": "Алексий", "en": "Alexei", "fr": "Alexis",
     "de": "Alexej", "es": "Alexis"},
    {"ru": "Михаил", "uk": "Михайло", "bg": "Михаил", "en": "Michael", "fr": "Michel",
     "de": "Michael", "es": "Miguel", "ro": "Mihai", "it": "Michele", "pt": "Miguel"},
    {"ru": "Пётр", "uk": "Петро", "bg": "Петър", "en": "Peter", "fr": "Pierre", "de": "Peter",
     "es": "Pedro", "ro": "Petru", "it": "Pietro", "pt": "Pedro"},
    {"ru": "Павел", "uk": "Павло", "bg": "Павел", "en": "Paul", "fr": "Paul", "de": "Paul",
     "es": "Pablo", "ro": "Paul", "it": "Paolo", "pt": "Paulo"},
    {"ru": "Андрей", "uk": "Андрій", "bg": "Андрей", "en": "Andrew", "fr": "André",
     "de": "Andreas", "es": "Andrés", "ro": "Andrei", "it": "Andrea", "pt": "André"},
    {"ru": "Николай", "uk": "Микола", "bg": "Николай", "en": "Nicholas", "fr": "Nicolas",
     "de": "Nikolaus", "es": "Nicolás", "ro": "Nicolae", "it": "Nicola"},
    {"ru": "Георгий", "uk": "Георгій", "bg": "Георги", "en": "George", "fr": "Georges",
     "de": "Georg", "es": "Jorge", "ro": "Gheorghe", "it": "Giorgio", "pt": "Jorge"},
    {"ru": "Иосиф", "uk": "Йосип", "bg": "Йосиф", "en": "Joseph", "fr": "Joseph",
     "de": "Josef", "es": "José", "ro": "Iosif", "it": "Giuseppe", "ar": "يوسف"},
    {"ru": "Евгений", "uk": "Євген", "bg": "Евгени", "en": "Eugene", "fr": "Eugène",
     "de": "Eugen", "es": "Eugenio", "ro": "Eugen"},
    {"ru": "Григорий", "uk": "Григорій", "bg": "Григор", "en": "Gregory", "fr": "Grégoire",
     "de": "Gregor", "es": "Gregorio", "ro": "Grigore"},
    {"ru": "Василий", "uk": "Василь", "bg": "Васил", "en": "Basil", "fr": "Basile",
     "de": "Wassili", "es": "Basilio", "ro": "Vasile"},
    {"ru": "Елена", "uk": "Олена", "bg": "Елена", "en": "Helen", "fr": "Hélène",
     "de": "Helene", "es": "Elena", "ro": "Elena", "it": "Elena"},
    {"ru": "Екатерина", "uk": "Катерина", "bg": "Екатерина", "en": "Catherine",
     "fr": "Catherine", "de": "Katharina", "es": "Catalina", "ro": "Ecaterina"},
    {"ru": "Мария", "uk": "Марія", "bg": "Мария", "en": "Mary", "fr": "Marie", "de": "Maria",
     "es": "María", "ro": "Maria", "it": "Maria", "ar": "مريم"},
    {"ru": "Анна", "uk": "Ганна", "bg": "Анна", "en": "Anna", "fr": "Anne", "de": "Anna",
     "es": "Ana", "ro": "Ana"},
    {"ru": "Наталья", "uk": "Наталія", "bg": "Наталия", "en": "Natalie", "fr": "Nathalie",
     "de": "Natalie", "es": "Natalia", "ro": "Natalia"},
    {"ru": "София", "uk": "Софія", "bg": "София", "en": "Sophie", "fr": "Sophie",
     "de": "Sophie", "es": "Sofía", "ro": "Sofia"},
    {"ar": "إبراهيم", "fa": "ابراهیم", "en": "Abraham", "fr": "Abraham", "de": "Abraham",
     "es": "Abraham"},
    {"ar": "موسى", "en": "Moses", "fr": "Moïse", "de": "Mose", "es": "Moisés"},
    {"ar": "سليمان", "en": "Solomon", "fr": "Salomon", "de": "Salomon", "es": "Salomón"},
    {"ar": "داود", "fa": "داود", "en": "David", "fr": "David", "de": "David", "es": "David"},
    {"fa": "مریم", "en": "Mary", "fr": "Marie", "de": "Maria", "es": "María"},
)


@cache
def _index() -> dict[str, int]:
    index: dict[str, int] = {}
    for i, group in enumerate(EQUIVALENTS):
        for form in group.values():
            index.setdefault(form.casefold(), i)
    return index


def equivalent_in(name: str, language: str) -> str | None:
    """The form of ``name`` in ``language`` when it differs and is known, else None."""
    i = _index().get(name.casefold())
    if i is None:
        return None
    form = EQUIVALENTS[i].get(language)
    return form if form and form.casefold() != name.casefold() else None
