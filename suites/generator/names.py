"""Names for the fictional entities: syllable-built invented words (how ``--scale`` grows a suite) and
the invented first names and surnames of people. All invented for this project."""

from __future__ import annotations

import random

# Syllable-built invented words, used to grow suites with --scale.
ONSETS = [
    "B",
    "Br",
    "C",
    "Cr",
    "D",
    "F",
    "G",
    "Gl",
    "H",
    "K",
    "L",
    "M",
    "N",
    "P",
    "Pr",
    "Qu",
    "R",
    "S",
    "Sk",
    "St",
    "T",
    "Tr",
    "V",
    "W",
    "Wr",
    "Th",
]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "oa", "y"]
MIDS = ["l", "n", "r", "m", "st", "th", "ll", "nd", "rd", "lt"]
ENDS = [
    "en",
    "ow",
    "ick",
    "ane",
    "ore",
    "ith",
    "ell",
    "ard",
    "ley",
    "mere",
    "wick",
    "ton",
    "by",
    "ford",
    "holt",
    "wyn",
    "dale",
    "ster",
]


def invented_word(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(MIDS) + rng.choice(ENDS)


def unique_words(rng: random.Random, n: int, taken: set[str], first: list[str] | None = None) -> list[str]:
    """``first`` hand-picked names, then invented ones, all unique and not in ``taken``."""
    out: list[str] = []
    for w in first or []:
        if len(out) == n:
            break
        if w not in taken:
            taken.add(w)
            out.append(w)
    while len(out) < n:
        w = invented_word(rng)
        if w in taken:
            continue
        taken.add(w)
        out.append(w)
    return out


FIRST_NAMES = [
    "Odile",
    "Tomasz",
    "Priya",
    "Henrik",
    "Amara",
    "Joaquin",
    "Saoirse",
    "Kenji",
    "Marguerite",
    "Idris",
    "Leontine",
    "Bram",
    "Yusra",
    "Casimir",
    "Nell",
    "Osric",
    "Ingrid",
    "Emeka",
    "Rosalind",
    "Teodor",
    "Wren",
    "Fenna",
    "Anselm",
    "Maren",
    "Ilario",
    "Zofia",
    "Cormac",
    "Talia",
    "Ruairi",
    "Delphine",
    "Hamid",
    "Greta",
]
SURNAMES = [
    "Ferrant",
    "Oakhurst",
    "Pellow",
    "Vantreece",
    "Halloway",
    "Corbishley",
    "Quillby",
    "Marwick",
    "Dunstall",
    "Ashgrove",
    "Brennick",
    "Tolliver",
    "Sarrazin",
    "Kettering",
    "Lindqvist",
    "Mallory",
    "Ostrander",
    "Penhale",
    "Ravensworth",
    "Stellan",
    "Thackeray",
    "Umfreville",
    "Wexley",
    "Yardley",
    "Brightwater",
    "Cawood",
    "Delacourt",
    "Elsworth",
]


def person(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if name not in taken:
            taken.add(name)
            return name
