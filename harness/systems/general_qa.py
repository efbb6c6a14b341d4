# ruff: noqa: E501  (the template tables read best one attribute a line)
"""A general-purpose reading-comprehension set, generated from templates in domains of its own.

The offline RAG arm's reader learns span extraction here, never on a suite. The domains (ships,
rivers, observatories, composers, bridges, animal species, sports clubs, novels, mountains, railways,
paintings, expeditions) are disjoint from the shipped suites (a community garden, a company's facts,
products in a house style, support documents). Every document is several sentences about one invented
entity, with facts stated in varied words and order, pronouns, filler, and "confusers" (the same
attribute of another entity), so the position of an answer and its wording carry no shortcut. Some
questions ask an attribute the document omits: their target is "no answer".

    .venv/bin/python -m harness.systems.general_qa --out general.jsonl   # to read what it teaches

Over 300 lines for one reason: most of it (about 800 lines) is data, the word lists and the twelve
domains' templates, one attribute a line; the code that draws documents and questions from them is
about 300 lines.

Over 300 lines for one reason: most of it is data, the template tables of twelve invented domains.
"""

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ABSTAIN = "The documents do not say."  # the reference of a question its passage cannot answer
VERSION = 1  # bump when the generated text changes: it keys the trained general reader

Value = Callable[[random.Random], str]

_ONSETS = [
    "b",
    "br",
    "c",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "qu",
    "r",
    "s",
    "st",
    "t",
    "th",
    "tr",
    "v",
    "w",
    "z",
    "sh",
    "ch",
    "el",
    "or",
    "al",
    "an",
    "ys",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ie", "y", "au"]
_CODAS = ["", "", "n", "r", "l", "s", "th", "m", "nd", "rk", "st", "x", "v"]
_PLACE_ENDS = [
    "ford",
    "mere",
    "holt",
    "ton",
    "vale",
    "wick",
    "burg",
    "stad",
    "ia",
    "ora",
    "heim",
    "port",
    "bridge",
    "field",
    "more",
    "ness",
    "dal",
    "ova",
    "ar",
    "",
]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_NUMBER_WORDS = [
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
]
_ADJECTIVES = [
    "Silent",
    "Amber",
    "Northern",
    "Broken",
    "Silver",
    "Hollow",
    "Crimson",
    "Last",
    "Quiet",
    "Iron",
    "Distant",
    "Winter",
    "Golden",
    "Wandering",
    "Hidden",
    "Pale",
    "Salt",
    "Seventh",
]
_NOUNS = [
    "Lantern",
    "Harbour",
    "Orchard",
    "Compass",
    "Tide",
    "Meridian",
    "Archive",
    "Heron",
    "Falcon",
    "Glacier",
    "Cathedral",
    "Comet",
    "Anchor",
    "Mirror",
    "Voyage",
    "Tower",
    "Crown",
    "Reef",
]
_COLOURS = [
    "blue",
    "green",
    "crimson",
    "white",
    "black",
    "gold",
    "orange",
    "violet",
    "grey",
    "yellow",
    "maroon",
    "silver",
]
_MATERIALS = [
    "granite",
    "cast iron",
    "reinforced concrete",
    "oak timber",
    "sandstone",
    "wrought iron",
    "steel girders",
    "red brick",
    "limestone",
    "basalt blocks",
]
_ANIMALS = [
    "warbler",
    "shrew",
    "gecko",
    "heron",
    "marten",
    "salamander",
    "finch",
    "tortoise",
    "bat",
    "lynx",
    "plover",
    "eel",
    "beetle",
    "owl",
]
_HABITATS = [
    "cloud forests",
    "salt marshes",
    "high alpine meadows",
    "mangrove swamps",
    "limestone caves",
    "river deltas",
    "pine forests",
    "coastal dunes",
    "bamboo thickets",
    "peat bogs",
]
_FOODS = [
    "beetles and moth larvae",
    "seeds and berries",
    "small fish",
    "snails",
    "nectar",
    "freshwater shrimp",
    "tree frogs",
    "fallen fruit",
    "ants and termites",
    "aquatic plants",
]
_INSTRUMENTS = [
    "the cello",
    "the violin",
    "the organ",
    "the harp",
    "the oboe",
    "the piano",
    "the lute",
    "the clarinet",
    "the viola da gamba",
    "the French horn",
]
_GENRES = ["string quartets", "operas", "choral masses", "piano sonatas", "symphonies", "song cycles"]
_SEAS = [
    "the Vessmar Sea",
    "the Gulf of Orn",
    "the Caldric Ocean",
    "the Bay of Telun",
    "the Straits of Ferra",
]


def _syllables(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(count))


def name(rng: random.Random) -> str:
    return _syllables(rng, rng.choice([1, 2, 2])).capitalize()


def person(rng: random.Random) -> str:
    first, last = name(rng), name(rng) + rng.choice(["", "", "son", "ek", "ini", "ard", "ov"])
    form = rng.random()
    if form < 0.15:
        return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    return f"Dr {first} {last}" if form < 0.25 else f"{first} {last}"


def place(rng: random.Random) -> str:
    return (name(rng) + rng.choice(_PLACE_ENDS)).capitalize()


def year(rng: random.Random) -> str:
    return str(rng.randint(1640, 2021))


def date(rng: random.Random) -> str:
    day, month, when = rng.randint(1, 28), rng.choice(_MONTHS), year(rng)
    return rng.choice([f"{day} {month} {when}", f"{month} {day}, {when}", f"{month} {when}"])


def count(low: int, high: int, unit: str, words: bool = False) -> Value:
    def make(rng: random.Random) -> str:
        if words and rng.random() < 0.4:
            return f"{rng.choice(_NUMBER_WORDS)} {unit}"
        n = rng.randint(low, high)
        return f"{n:,} {unit}" if n >= 10000 else f"{n} {unit}"

    return make


def decimal(low: float, high: float, unit: str) -> Value:
    return lambda rng: f"{rng.uniform(low, high):.1f} {unit}"


def money(rng: random.Random) -> str:
    coin = rng.choice(["florins", "crowns", "thalers", "ducats", "marks"])
    amount = rng.choice([f"{rng.randint(2, 900)} thousand", f"{rng.uniform(1, 40):.1f} million"])
    return f"{amount} {coin}"


def duration(rng: random.Random) -> str:
    unit, low, high = rng.choice([("days", 3, 90), ("weeks", 2, 40), ("months", 2, 30), ("years", 2, 12)])
    return f"{rng.randint(low, high)} {unit}" if rng.random() < 0.7 else f"{rng.choice(_NUMBER_WORDS)} {unit}"


def title(rng: random.Random) -> str:
    return rng.choice(
        [f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}", f"{rng.choice(_NOUNS)}s of {place(rng)}"]
    )


def pick(options: list[str]) -> Value:
    return lambda rng: rng.choice(options)


def colours(rng: random.Random) -> str:
    first, second = rng.sample(_COLOURS, 2)
    return f"{first} and {second}"


class Attribute(NamedTuple):
    """One fact a document may state: its value maker, statements ({S} subject, {V} value), questions ({E})."""

    value: Value
    statements: tuple[str, ...]
    questions: tuple[str, ...]


class Domain(NamedTuple):
    """An entity type: how to name one, how to refer back to it, its attributes and filler sentences."""

    entity: Value
    refer: tuple[str, ...]  # what later sentences call the entity besides its name
    intro: tuple[str, ...]
    attributes: dict[str, Attribute]
    filler: tuple[str, ...]


def A(value: Value, statements: str, questions: str) -> Attribute:  # noqa: N802 - a table row, read as one
    return Attribute(value, tuple(statements.split(" | ")), tuple(questions.split(" | ")))


DOMAINS: dict[str, Domain] = {
    "ship": Domain(
        lambda rng: f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
        ("the ship", "the vessel", "she"),
        (
            "{E} was a three-masted merchant ship.",
            "{E} was a steam freighter that sailed for decades.",
            "Few vessels of its era are as well documented as {E}.",
        ),
        {
            "launched": A(
                year,
                "{S} was launched in {V}. | {S} first took to the water in {V}, after a long delay. | Work on {S} ended in {V}, the year she was launched.",
                "When was {E} launched? | In what year did {E} first take to the water? | {E} was launched in which year? | what year was {E} launched",
            ),
            "yard": A(
                lambda rng: f"the {place(rng)} yard",
                "{S} was built at {V}. | The hull of {S} was laid down at {V}. | Shipwrights at {V} built {S}.",
                "Where was {E} built? | Which shipyard built {E}? | At which yard was the hull of {E} laid down?",
            ),
            "length": A(
                count(40, 230, "metres"),
                "{S} measured {V} from bow to stern. | With a length of {V}, {S} was large for her time. | {S} was {V} long.",
                "How long was {E}? | What was the length of {E}? | From bow to stern, how long was {E}?",
            ),
            "captain": A(
                person,
                "Her first captain was {V}. | {V} commanded {S} on her first voyage. | {S} sailed under {V} for most of her career.",
                "Who was the first captain of {E}? | Who commanded {E} on her first voyage? | Which captain did {E} sail under?",
            ),
            "crew": A(
                count(12, 400, "sailors", words=True),
                "{S} carried a crew of {V}. | A crew of {V} worked aboard {S}. | On long voyages {S} needed {V}.",
                "How many sailors crewed {E}? | What was the size of the crew of {E}? | How large a crew did {E} carry?",
            ),
            "fate": A(
                lambda rng: f"off the coast of {place(rng)}",
                "{S} sank {V} during a winter storm. | {S} was lost {V}, with no survivors reported. | Her wreck lies {V}.",
                "Where did {E} sink? | Where was {E} lost? | Where is the wreck of {E}?",
            ),
        },
        (
            "The ship's log survives in a provincial archive.",
            "Her figurehead was carved from a single block of pine.",
            "Insurance records describe her cargo as mostly timber and grain.",
            "Several paintings of the ship hang in harbour taverns.",
        ),
    ),
    "river": Domain(
        lambda rng: f"the {place(rng)} River",
        ("the river", "it", "its waters"),
        (
            "{E} crosses a wide plain before reaching the sea.",
            "{E} is one of the longest rivers of the region.",
            "Maps from the last century show {E} along a different course.",
        ),
        {
            "length": A(
                count(60, 2900, "kilometres"),
                "{S} is {V} long. | {S} runs for {V} from its source to its mouth. | Its full length is {V}.",
                "How long is {E}? | What is the length of {E}? | Over what distance does {E} run?",
            ),
            "source": A(
                lambda rng: f"Mount {place(rng)}",
                "{S} rises on the slopes of {V}. | The source of {S} lies on {V}. | Snowmelt from {V} feeds {S}.",
                "Where does {E} rise? | Where is the source of {E}? | On which mountain does {E} begin?",
            ),
            "mouth": A(
                pick(_SEAS),
                "{S} flows into {V}. | It empties into {V} through a broad delta. | At its mouth {S} meets {V}.",
                "Into which sea does {E} flow? | Where does {E} empty? | What body of water does {E} meet at its mouth?",
            ),
            "tributary": A(
                lambda rng: f"the {place(rng)}",
                "Its largest tributary is {V}. | {S} is joined by {V}, its main tributary. | {V} is the biggest stream feeding {S}.",
                "What is the largest tributary of {E}? | Which river is the main tributary of {E}? | Which stream feeds {E} most?",
            ),
            "fish": A(
                lambda rng: (
                    f"the {rng.choice(_COLOURS)} {rng.choice(['trout', 'sturgeon', 'carp', 'pike', 'barbel'])}"
                ),
                "{S} is known for {V}, a fish found nowhere else. | Anglers come to {S} for {V}. | The waters of {S} are home to {V}.",
                "Which fish is {E} known for? | What fish do anglers catch in {E}? | Which fish lives in {E}?",
            ),
            "bridges": A(
                count(3, 80, "bridges", words=True),
                "{V} cross {S}. | Along its course {S} is spanned by {V}. | Travellers can cross {S} on {V}.",
                "How many bridges cross {E}? | By how many bridges is {E} spanned? | how many bridges are there over {E}",
            ),
        },
        (
            "Barges once carried coal along the lower reaches.",
            "Floods in spring regularly cover the meadows along its banks.",
            "A towpath follows the river for much of its course.",
            "The water is clear in summer and brown after rain.",
        ),
    ),
    "observatory": Domain(
        lambda rng: f"the {place(rng)} Observatory",
        ("the observatory", "it", "the institute"),
        (
            "{E} is an astronomical research station.",
            "{E} has studied the night sky for generations.",
            "Astronomers from many countries have worked at {E}.",
        ),
        {
            "founded": A(
                year,
                "{S} was founded in {V}. | {S} opened in {V}. | Since its foundation in {V}, {S} has been rebuilt twice.",
                "When was {E} founded? | In which year did {E} open? | What year was {E} established?",
            ),
            "founder": A(
                person,
                "{S} was founded by {V}. | {V}, a wealthy amateur astronomer, paid for {S}. | The founder of {S} was {V}.",
                "Who founded {E}? | Who paid for the construction of {E}? | Which astronomer established {E}?",
            ),
            "altitude": A(
                count(300, 4800, "metres"),
                "{S} stands at an altitude of {V}. | Its dome sits {V} above sea level. | At {V} above the sea, {S} escapes most clouds.",
                "At what altitude is {E}? | How high above sea level does {E} stand? | What is the elevation of {E}?",
            ),
            "mirror": A(
                decimal(0.5, 11.0, "metres"),
                "Its main telescope has a mirror {V} across. | The mirror of its largest telescope measures {V}. | A {V} mirror was installed at {S}.",
                "How wide is the mirror of the main telescope at {E}? | What size is the mirror at {E}? | How large is the telescope mirror at {E}?",
            ),
            "discovery": A(
                lambda rng: f"the comet {name(rng)}-{rng.randint(1, 99)}",
                "Astronomers at {S} discovered {V}. | {S} is best known for finding {V}. | {V} was first seen from {S}.",
                "What did astronomers at {E} discover? | What is {E} best known for finding? | Which comet was first seen from {E}?",
            ),
            "director": A(
                person,
                "The current director of {S} is {V}. | {V} now directs {S}. | Since last year {S} has been led by {V}.",
                "Who directs {E}? | Who is the director of {E}? | Who leads {E} today?",
            ),
        },
        (
            "Visitors may tour the domes on clear Friday nights.",
            "A small museum displays the original brass instruments.",
            "The road to the summit is closed in winter.",
            "Light pollution from nearby towns is a growing concern.",
        ),
    ),
    "composer": Domain(
        person,
        ("the composer", "he", "she"),
        (
            "{E} was a composer whose music is still performed.",
            "{E} wrote music for court and church.",
            "Critics long ignored {E}, but recordings revived interest.",
        ),
        {
            "born": A(
                date,
                "{S} was born on {V}. | {S} was born in {V}. | Records give {V} as the birth date of {S}.",
                "When was {E} born? | What is the birth date of {E}? | On what date was {E} born?",
            ),
            "birthplace": A(
                place,
                "{S} grew up in {V}, a small market town. | {S} was born in the town of {V}. | {V} was the home town of {S}.",
                "Where was {E} born? | Which town was {E} from? | Where did {E} grow up?",
            ),
            "instrument": A(
                pick(_INSTRUMENTS),
                "{S} first learned {V}. | As a child {S} played {V}. | {S} was a gifted player of {V}.",
                "Which instrument did {E} play? | What instrument did {E} first learn? | What did {E} play as a child?",
            ),
            "teacher": A(
                person,
                "{S} studied under {V}. | The teacher of {S} was {V}. | {V} taught {S} composition.",
                "Who taught {E}? | Under whom did {E} study? | Who was the teacher of {E}?",
            ),
            "works": A(
                lambda rng: f"{rng.choice(_NUMBER_WORDS)} {rng.choice(_GENRES)}",
                "{S} wrote {V}. | Over a long career {S} completed {V}. | The catalogue of {S} includes {V}.",
                "How many works did {E} write? | What did {E} compose? | How many pieces did {E} complete?",
            ),
            "famous": A(
                title,
                "The best-known work of {S} is {V}. | {S} is remembered above all for {V}. | {V} made {S} famous.",
                "What is the best-known work of {E}? | Which piece made {E} famous? | For which work is {E} remembered?",
            ),
        },
        (
            "Many manuscripts were lost in a fire.",
            "Letters to friends show a dry sense of humour.",
            "Concert halls in three cities bear the composer's name.",
            "A biography appeared long after the composer's death.",
        ),
    ),
    "bridge": Domain(
        lambda rng: f"the {place(rng)} Bridge",
        ("the bridge", "it", "the crossing"),
        (
            "{E} is a road bridge over a wide valley.",
            "{E} carries traffic between two old towns.",
            "Engineers still study the design of {E}.",
        ),
        {
            "span": A(
                count(40, 1900, "metres"),
                "The main span of {S} is {V}. | {S} spans {V}. | With a span of {V}, {S} was a record in its day.",
                "How long is the main span of {E}? | What is the span of {E}? | How far does {E} span?",
            ),
            "engineer": A(
                person,
                "{S} was designed by {V}. | {V} drew the plans for {S}. | The engineer behind {S} was {V}.",
                "Who designed {E}? | Which engineer drew the plans for {E}? | Who was the engineer of {E}?",
            ),
            "opened": A(
                date,
                "{S} opened on {V}. | {S} was opened to traffic in {V}. | Traffic first crossed {S} on {V}.",
                "When did {E} open? | When was {E} opened to traffic? | On what date did traffic first cross {E}?",
            ),
            "material": A(
                pick(_MATERIALS),
                "{S} is built of {V}. | Its piers are made of {V}. | The builders chose {V} for {S}.",
                "What is {E} built of? | What material was used for {E}? | What are the piers of {E} made of?",
            ),
            "cost": A(
                money,
                "{S} cost {V} to build. | The final cost of {S} was {V}. | Building {S} took {V} of public money.",
                "How much did {E} cost? | What did it cost to build {E}? | What was the final cost of {E}?",
            ),
            "toll": A(
                lambda rng: f"{rng.randint(1, 9)} {rng.choice(['pennies', 'groats', 'cents'])}",
                "Crossing {S} costs {V}. | A toll of {V} is charged on {S}. | Drivers pay {V} to use {S}.",
                "How much is the toll on {E}? | What does it cost to cross {E}? | What toll is charged on {E}?",
            ),
        },
        (
            "Fishermen gather under the arches at dawn.",
            "The bridge is lit in colour on public holidays.",
            "Heavy lorries were banned after cracks appeared.",
            "A painted sign at each end gives the weight limit.",
        ),
    ),
    "species": Domain(
        lambda rng: (
            f"the {rng.choice(_COLOURS)}-{rng.choice(['tailed', 'throated', 'crested', 'backed'])} {rng.choice(_ANIMALS)}"
        ),
        ("the animal", "it", "the species"),
        (
            "{E} is a small and shy animal.",
            "{E} is rarely seen by casual visitors.",
            "Field guides describe {E} only briefly.",
        ),
        {
            "habitat": A(
                pick(_HABITATS),
                "{S} lives in {V}. | {S} is found mainly in {V}. | Its habitat is {V}.",
                "Where does {E} live? | What is the habitat of {E}? | In what kind of place is {E} found?",
            ),
            "diet": A(
                pick(_FOODS),
                "{S} feeds on {V}. | Its diet consists of {V}. | {S} hunts {V} at night.",
                "What does {E} eat? | What is the diet of {E}? | What does {E} feed on?",
            ),
            "weight": A(
                lambda rng: f"{rng.randint(4, 900)} grams",
                "An adult {S} weighs about {V}. | {S} reaches a weight of {V}. | Adults weigh around {V}.",
                "How much does {E} weigh? | What is the weight of an adult {E}? | How heavy is {E}?",
            ),
            "lifespan": A(
                lambda rng: f"{rng.randint(2, 40)} years",
                "{S} lives for up to {V}. | In the wild {S} can reach {V}. | Its lifespan is about {V}.",
                "How long does {E} live? | What is the lifespan of {E}? | How old can {E} get?",
            ),
            "described": A(
                person,
                "{S} was first described by {V}. | The naturalist {V} named {S}. | {V} collected the first specimen of {S}.",
                "Who first described {E}? | Who named {E}? | Which naturalist collected the first specimen of {E}?",
            ),
            "clutch": A(
                count(1, 12, "eggs", words=True),
                "A female {S} lays {V} at a time. | {S} lays clutches of {V}. | Each nest of {S} holds {V}.",
                "How many eggs does {E} lay? | What is the clutch size of {E}? | How many eggs are in a nest of {E}?",
            ),
        },
        (
            "Its call is a thin, rising whistle.",
            "Numbers have fallen since the wetlands were drained.",
            "Young animals leave their parents after one season.",
            "It is protected by law in most of its range.",
        ),
    ),
    "club": Domain(
        lambda rng: f"{place(rng)} {rng.choice(['Rovers', 'Athletic', 'Wanderers', 'United', 'Harriers'])}",
        ("the club", "it", "the team"),
        (
            "{E} is a football club with a loyal following.",
            "{E} plays in the regional league.",
            "Supporters of {E} travel in large numbers.",
        ),
        {
            "founded": A(
                year,
                "{S} was founded in {V}. | {S} played its first match in {V}. | The club dates from {V}.",
                "When was {E} founded? | In what year did {E} play its first match? | How old is {E}?",
            ),
            "stadium": A(
                lambda rng: f"{place(rng)} Park",
                "{S} plays its home games at {V}. | The home ground of {S} is {V}. | {V} has been home to {S} for decades.",
                "Where does {E} play its home games? | What is the home ground of {E}? | Which stadium is home to {E}?",
            ),
            "capacity": A(
                count(800, 60000, "spectators"),
                "The ground holds {V}. | Its stadium has room for {V}. | Up to {V} can watch {S} at home.",
                "How many spectators does the ground of {E} hold? | What is the capacity of the stadium of {E}? | How many people can watch {E} at home?",
            ),
            "colours": A(
                colours,
                "{S} plays in {V}. | The colours of {S} are {V}. | Fans of {S} wear {V}.",
                "What colours does {E} play in? | What are the colours of {E}? | Which colours do fans of {E} wear?",
            ),
            "nickname": A(
                lambda rng: f"the {rng.choice(_NOUNS)}s",
                "{S} is nicknamed {V}. | Fans call {S} {V}. | The nickname of {S} is {V}.",
                "What is the nickname of {E}? | What do fans call {E}? | What is {E} nicknamed?",
            ),
            "manager": A(
                person,
                "{S} is managed by {V}. | {V} has managed {S} since the spring. | The manager of {S} is {V}.",
                "Who manages {E}? | Who is the manager of {E}? | Which manager is in charge of {E}?",
            ),
        },
        (
            "The youth academy has produced several internationals.",
            "Ticket prices were frozen after protests.",
            "The team bus is painted in club colours.",
            "A museum at the ground displays old shirts.",
        ),
    ),
    "novel": Domain(
        title,
        ("the novel", "it", "the book"),
        (
            "{E} is a novel that divided its first readers.",
            "{E} is a long novel set over three generations.",
            "Schools still assign {E} as reading.",
        ),
        {
            "author": A(
                person,
                "{S} was written by {V}. | {V} wrote {S} in a rented attic. | The author of {S} is {V}.",
                "Who wrote {E}? | Who is the author of {E}? | Which writer produced {E}?",
            ),
            "published": A(
                year,
                "{S} was published in {V}. | {S} first appeared in print in {V}. | The first edition of {S} came out in {V}.",
                "When was {E} published? | In what year did {E} first appear? | When did the first edition of {E} come out?",
            ),
            "setting": A(
                lambda rng: f"the port city of {place(rng)}",
                "{S} is set in {V}. | The story of {S} takes place in {V}. | Most of {S} happens in {V}.",
                "Where is {E} set? | Where does the story of {E} take place? | In which city does {E} happen?",
            ),
            "hero": A(
                person,
                "The hero of {S} is {V}. | {S} follows {V}, a young clerk. | Its narrator, {V}, tells the story in old age.",
                "Who is the hero of {E}? | Whom does {E} follow? | Who narrates {E}?",
            ),
            "pages": A(
                count(120, 1400, "pages"),
                "{S} runs to {V}. | The first edition of {S} had {V}. | At {V}, {S} is not a quick read.",
                "How long is {E}? | How many pages does {E} have? | How many pages did the first edition of {E} have?",
            ),
            "languages": A(
                count(3, 60, "languages", words=True),
                "{S} has been translated into {V}. | Translations of {S} exist in {V}. | Readers can find {S} in {V}.",
                "Into how many languages has {E} been translated? | In how many languages can {E} be read? | how many translations of {E} exist",
            ),
        },
        (
            "A film version was planned but never made.",
            "The manuscript is kept in a university library.",
            "Reviewers praised its dialogue and criticised its ending.",
            "Later editions restored a chapter cut by the censor.",
        ),
    ),
    "mountain": Domain(
        lambda rng: f"Mount {place(rng)}",
        ("the mountain", "it", "the peak"),
        (
            "{E} dominates the skyline of the valley below.",
            "{E} is a popular but dangerous climb.",
            "On clear days {E} can be seen from the coast.",
        ),
        {
            "height": A(
                count(900, 8400, "metres"),
                "{S} rises to {V}. | The summit of {S} is {V} above sea level. | At {V}, {S} is the highest peak of its range.",
                "How high is {E}? | What is the height of {E}? | How tall is {E}?",
            ),
            "ascent": A(
                person,
                "{S} was first climbed by {V}. | {V} reached the summit of {S} first. | The first ascent of {S} was made by {V}.",
                "Who first climbed {E}? | Who made the first ascent of {E}? | Who reached the summit of {E} first?",
            ),
            "ascent_year": A(
                year,
                "The first ascent of {S} was in {V}. | Nobody reached the top of {S} until {V}. | {S} was first climbed in {V}.",
                "When was {E} first climbed? | In what year was the first ascent of {E}? | When did someone first reach the top of {E}?",
            ),
            "range": A(
                lambda rng: f"the {place(rng)} Range",
                "{S} belongs to {V}. | {S} is part of {V}. | {V} includes {S}.",
                "Which range does {E} belong to? | What range is {E} part of? | In which mountain range is {E}?",
            ),
            "eruption": A(
                year,
                "{S} last erupted in {V}. | The last eruption of {S} was in {V}. | {S} has been quiet since an eruption in {V}.",
                "When did {E} last erupt? | When was the last eruption of {E}? | Since when has {E} been quiet?",
            ),
            "glaciers": A(
                count(2, 40, "glaciers", words=True),
                "The slopes of {S} hold {V}. | {V} flow down from {S}. | {S} feeds {V}.",
                "How many glaciers are on {E}? | How many glaciers flow down from {E}? | How many glaciers does {E} feed?",
            ),
        },
        (
            "A mountain hut offers shelter below the final ridge.",
            "Climbers are advised to start before dawn.",
            "Rockfall is common after warm days.",
            "Rare alpine flowers grow on its southern slopes.",
        ),
    ),
    "railway": Domain(
        lambda rng: f"the {place(rng)} Railway",
        ("the railway", "the line", "it"),
        (
            "{E} links the coast with the interior.",
            "{E} is a single-track line through hill country.",
            "Steam trains still run on {E} in summer.",
        ),
        {
            "length": A(
                count(12, 900, "kilometres"),
                "{S} is {V} long. | The line runs for {V}. | Trains cover {V} on {S}.",
                "How long is {E}? | What is the length of {E}? | How far do trains run on {E}?",
            ),
            "opened": A(
                year,
                "{S} opened in {V}. | The first trains ran on {S} in {V}. | {S} was completed in {V}.",
                "When did {E} open? | When did the first trains run on {E}? | In what year was {E} completed?",
            ),
            "stations": A(
                count(3, 70, "stations", words=True),
                "{S} has {V}. | Trains on {S} stop at {V}. | There are {V} along {S}.",
                "How many stations does {E} have? | At how many stations do trains on {E} stop? | how many stations are on {E}",
            ),
            "terminus": A(
                place,
                "{S} ends at {V}. | The terminus of {S} is at {V}. | Trains on {S} terminate in {V}.",
                "Where does {E} end? | What is the terminus of {E}? | Where do trains on {E} terminate?",
            ),
            "gauge": A(
                lambda rng: f"{rng.choice([600, 762, 891, 1000, 1067, 1435, 1520, 1668])} millimetres",
                "{S} uses a gauge of {V}. | Its rails are {V} apart. | The gauge of {S} is {V}.",
                "What gauge does {E} use? | How far apart are the rails of {E}? | What is the gauge of {E}?",
            ),
            "tunnel": A(
                lambda rng: f"the {place(rng)} Tunnel",
                "The longest tunnel on {S} is {V}. | {S} passes through {V}. | Trains on {S} pass under the hills through {V}.",
                "What is the longest tunnel on {E}? | Which tunnel does {E} pass through? | Through which tunnel do trains on {E} pass?",
            ),
        },
        (
            "Old signal boxes are kept as listed buildings.",
            "Volunteers restore carriages in a shed by the depot.",
            "Snow closes the upper section for a few days each winter.",
            "Timetables are posted at every halt.",
        ),
    ),
    "painting": Domain(
        title,
        ("the painting", "it", "the canvas"),
        (
            "{E} is an oil painting admired for its light.",
            "{E} is a large canvas of a harbour at dusk.",
            "Art historians have long argued about {E}.",
        ),
        {
            "artist": A(
                person,
                "{S} was painted by {V}. | {V} painted {S} over two summers. | The artist of {S} is {V}.",
                "Who painted {E}? | Who is the artist of {E}? | Which painter made {E}?",
            ),
            "year": A(
                year,
                "{S} was finished in {V}. | {S} dates from {V}. | The artist completed {S} in {V}.",
                "When was {E} painted? | In what year was {E} finished? | What year does {E} date from?",
            ),
            "museum": A(
                lambda rng: f"the {place(rng)} Gallery",
                "{S} hangs in {V}. | {V} bought {S} at auction. | Today {S} is on display at {V}.",
                "Where does {E} hang? | Which museum owns {E}? | Where is {E} on display?",
            ),
            "size": A(
                lambda rng: f"{rng.randint(20, 400)} by {rng.randint(20, 400)} centimetres",
                "{S} measures {V}. | The canvas of {S} is {V}. | At {V}, {S} fills a whole wall.",
                "How big is {E}? | What are the dimensions of {E}? | What size is the canvas of {E}?",
            ),
            "price": A(
                money,
                "{S} was sold for {V}. | The last sale of {S} fetched {V}. | A collector paid {V} for {S}.",
                "How much was {E} sold for? | What did the last sale of {E} fetch? | What price did a collector pay for {E}?",
            ),
            "subject": A(
                lambda rng: (
                    f"a {rng.choice(['fish market', 'flooded square', 'wedding feast', 'snowy harbour', 'lighthouse keeper'])} in {place(rng)}"
                ),
                "{S} shows {V}. | The subject of {S} is {V}. | {S} depicts {V}.",
                "What does {E} show? | What is the subject of {E}? | What does {E} depict?",
            ),
        },
        (
            "X-rays revealed an earlier figure beneath the paint.",
            "The frame is a later replacement.",
            "Copies were sold as prints for many years.",
            "The varnish has yellowed with age.",
        ),
    ),
    "expedition": Domain(
        lambda rng: f"the {place(rng)} expedition",
        ("the expedition", "it", "the party"),
        (
            "{E} set out to map an unknown coast.",
            "{E} was one of the last great journeys of exploration.",
            "Diaries kept during {E} were published much later.",
        ),
        {
            "leader": A(
                person,
                "{S} was led by {V}. | {V} commanded {S}. | The leader of {S} was {V}.",
                "Who led {E}? | Who commanded {E}? | Who was the leader of {E}?",
            ),
            "departed": A(
                date,
                "{S} left port on {V}. | {S} departed in {V}. | On {V} {S} set out.",
                "When did {E} depart? | When did {E} leave port? | On what date did {E} set out?",
            ),
            "duration": A(
                duration,
                "{S} lasted {V}. | The journey of {S} took {V}. | After {V} {S} returned home.",
                "How long did {E} last? | How long was the journey of {E}? | After how long did {E} return?",
            ),
            "members": A(
                count(4, 120, "men and women", words=True),
                "{S} numbered {V}. | {V} took part in {S}. | The party of {S} counted {V}.",
                "How many people took part in {E}? | How many members did {E} have? | How large was the party of {E}?",
            ),
            "found": A(
                lambda rng: f"the {rng.choice(['island', 'strait', 'lake', 'cape'])} of {place(rng)}",
                "{S} discovered {V}. | The main find of {S} was {V}. | {V} was first charted by {S}.",
                "What did {E} discover? | What was the main find of {E}? | What did {E} first chart?",
            ),
            "sponsor": A(
                lambda rng: f"the {place(rng)} Geographical Society",
                "{S} was paid for by {V}. | {V} sponsored {S}. | Funding for {S} came from {V}.",
                "Who sponsored {E}? | Who paid for {E}? | Where did the funding for {E} come from?",
            ),
        },
        (
            "Supplies ran short in the second winter.",
            "Several sketches from the journey survive.",
            "The route crossed pack ice and open water.",
            "A memorial stone marks the harbour of departure.",
        ),
    ),
}


class QA(NamedTuple):
    """A question about a document; `answer` is None where the document does not say, else at `start`."""

    question: str
    answer: str | None
    start: int


class Document(NamedTuple):
    """One generated passage with the questions it answers (and some it does not)."""

    id: str
    domain: str
    title: str
    text: str
    questions: tuple[QA, ...]


def _phrase_question(rng: random.Random, template: str, entity: str) -> str:
    """Fill a question template, sometimes in the loose forms people type (no capital, no mark)."""
    question = template.replace("{E}", entity)
    question = question[0].upper() + question[1:]
    roll = rng.random()
    if roll < 0.1:
        return question.rstrip("?").lower()
    if roll < 0.18:
        return "Quick question: " + question[0].lower() + question[1:]
    return question


class Statement(NamedTuple):
    """A sentence of a document; `attribute` and `value` set where it states one of the entity's facts."""

    text: str
    attribute: str | None = None
    value: str = ""
    start: int = 0


def _sentence(template: str, subject: str, value: str, attribute: str | None) -> Statement:
    """A statement with its subject and value filled in, remembering where the value starts."""
    text = template.replace("{S}", subject)
    start = text.index("{V}")
    text = text.replace("{V}", value)
    text = text[0].upper() + text[1:]
    return Statement(text, attribute, text[start : start + len(value)], start)


_PRONOUNS = {"he", "she", "it"}
_NOISE = (
    "A report from {Y} mentions {P} as a frequent visitor.",
    "Local records list {N} repairs between {Y} and {Y2}.",
    "The archive in {L} keeps {N} photographs of it.",
    "In {Y} a newspaper in {L} printed a long article about it.",
    "{P} wrote a short guide to it, reprinted {N} times.",
)


def _noise(rng: random.Random) -> str:
    """A sentence with names, places and numbers that answer nothing: spans of the right type, wrong fact."""
    first = int(year(rng))
    return (
        rng.choice(_NOISE)
        .replace("{Y2}", str(min(first + rng.randint(1, 40), 2024)))
        .replace("{Y}", str(first))
        .replace("{P}", person(rng))
        .replace("{L}", place(rng))
        .replace("{N}", str(rng.randint(2, 300)))
    )


def document(rng: random.Random, number: int) -> Document:
    """One document about an invented entity, with its answerable and unanswerable questions."""
    domain_name = rng.choice(sorted(DOMAINS))
    domain = DOMAINS[domain_name]
    entity = domain.entity(rng)
    names = sorted(domain.attributes)
    stated = set(rng.sample(names, rng.randint(max(2, len(names) - 3), len(names))))
    body: list[Statement] = []
    for attribute in sorted(stated):
        spec = domain.attributes[attribute]
        template = rng.choice(spec.statements)
        # A pronoun only as the sentence's subject: "the home town of she" teaches nothing.
        refer = [r for r in domain.refer if template.startswith("{S}") or r not in _PRONOUNS]
        subject = entity if rng.random() < 0.6 or not refer else rng.choice(refer)
        body.append(_sentence(template, subject, spec.value(rng), attribute))
    # Confusers: the same kind of fact about another entity, so the reader must match the entity too.
    for attribute in rng.sample(names, rng.randint(0, 2)):
        spec = domain.attributes[attribute]
        named = [template for template in spec.statements if "{S}" in template]
        body.append(_sentence(rng.choice(named), domain.entity(rng), spec.value(rng), None))
    body.extend(Statement(sentence) for sentence in rng.sample(domain.filler, rng.randint(1, 3)))
    body.extend(Statement(_noise(rng)) for _ in range(rng.randint(0, 2)))
    rng.shuffle(body)
    intro = rng.choice(domain.intro).replace("{E}", entity)
    text, answers = intro[0].upper() + intro[1:], {}
    for statement in body:
        if statement.attribute is not None:
            answers[statement.attribute] = (len(text) + 1 + statement.start, statement.value)
        text = f"{text} {statement.text}"
    questions = []
    for attribute in names:
        question = _phrase_question(rng, rng.choice(domain.attributes[attribute].questions), entity)
        start, value = answers.get(attribute, (-1, None))
        questions.append(QA(question, value, start))
    return Document(f"g{number:05d}", domain_name, entity[0].upper() + entity[1:], text, tuple(questions))


def generate(seed: int = 0, documents: int = 600) -> list[Document]:
    """`documents` documents from one seed: the same seed always gives the same text."""
    rng = random.Random(seed)
    return [document(rng, number) for number in range(documents)]


class Passage(NamedTuple):
    """Several documents run together, with every question about any of them (starts shifted)."""

    id: str
    title: str
    text: str
    questions: tuple[QA, ...]
    gold: tuple[str, ...]  # ids of the documents it holds


def passages(seed: int, count: int, most: int = 3) -> list[Passage]:
    """`count` passages of 1 to `most` documents each: short and long contexts, the answer anywhere."""
    rng = random.Random(seed)
    made: list[Passage] = []
    number = 0
    for index in range(count):
        docs = [document(rng, number + n) for n in range(rng.randint(1, most))]
        number += len(docs)
        text, questions = "", list[QA]()
        for doc in docs:
            shift = len(text) + (1 if text else 0)
            text = f"{text} {doc.text}" if text else doc.text
            questions.extend(q._replace(start=q.start + shift) if q.answer else q for q in doc.questions)
        made.append(
            Passage(f"p{index:05d}", docs[0].title, text, tuple(questions), tuple(d.id for d in docs))
        )
    return made


def reader_examples(
    seed: int, count: int, per_passage: int = 3, most: int = 2
) -> list[tuple[str, str, int, int]]:
    """(question, context, answer start, answer end) rows for a span reader; -1, -1: no answer.

    Each passage gives `per_passage` of its questions (answered, or omitted by it), and one question
    of another passage read against it: the retrieved-but-wrong passage a RAG reader meets most.
    """
    rng = random.Random(seed + 7919)
    made = passages(seed, count, most)
    rows: list[tuple[str, str, int, int]] = []
    for index, passage in enumerate(made):
        for qa in rng.sample(passage.questions, min(per_passage, len(passage.questions))):
            if qa.answer is None:
                rows.append((qa.question, passage.text, -1, -1))
            else:
                rows.append((qa.question, passage.text, qa.start, qa.start + len(qa.answer)))
        other = made[(index + rng.randint(1, len(made) - 1)) % len(made)] if len(made) > 1 else passage
        if other is not passage:
            rows.append((rng.choice(other.questions).question, passage.text, -1, -1))
    return rows


def write_suite(
    folder: Path, seed: int, corpus: int, train: int, test: int, most: int = 2, max_chars: int = 900
) -> Path:
    """A suite folder of generated passages (corpus), and train and test questions about them.

    Passages longer than `max_chars` (900: about 256 MiniLM tokens) are left out. Questions a passage
    cannot answer get the abstention reference, as in the shipped suites.
    """
    made = [p for p in passages(seed, corpus * 3, most) if len(p.text) <= max_chars][:corpus]
    rng = random.Random(seed)
    pool = [(passage, qa) for passage in made for qa in passage.questions]
    rng.shuffle(pool)
    if train + test > len(pool):
        raise ValueError(f"{corpus} passages hold {len(pool)} questions, fewer than {train + test}")
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": p.id, "title": p.title, "text": p.text} for p in made]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for split, chosen in (("train", pool[:train]), ("test", pool[train : train + test])):
        cases = [
            {
                "id": f"{split}-{number:04d}",
                "question": qa.question,
                "reference": qa.answer if qa.answer is not None else ABSTAIN,
                "gold_ids": [passage.id] if qa.answer is not None else [],
                "tags": ["answerable" if qa.answer is not None else "unanswerable"],
            }
            for number, (passage, qa) in enumerate(chosen)
        ]
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    (folder / "suite.yaml").write_text(
        f"name: general-{seed}\nversion: 1\ndescription: Generated by harness.systems.general_qa.\n"
        "corpus: corpus.jsonl\ntrain: train.jsonl\ntest: test.jsonl\nk: 5\n"
        "metrics: {token_f1: {}, hit_at_k: {}}\n",
        encoding="utf-8",
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="Write generated passages and their questions as JSONL.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--passages", type=int, default=600)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as handle:
        for passage in passages(args.seed, args.passages):
            row = passage._asdict() | {"questions": [q._asdict() for q in passage.questions]}
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
