"""Builder of house-style: outdoor-gear documents whose product names are spelled inconsistently, every
reference in the house format "Answer: <value with unit>. Source: <product> <document>" (the regular
expression that checks it is declared by hand in suites/house-style/suite.yaml).

Longer than 300 lines because it is mostly data: the HS_* tables (product lines, question templates,
and per category the passage templates with their value generators); the building code is short.
"""

# The templates are prose lines (E501), and the closures are called inside the loop iteration that
# defines them (B023 cannot see that).
# ruff: noqa: E501, B023

from __future__ import annotations

import random

from .common import case, in_one_sentence, slugify, splits
from .names import ENDS, MIDS, ONSETS, VOWELS

HS_PRODUCTS_PER_UNIT = 30
HS_TEST_PER_UNIT = 150
HS_EXTRA_TRAIN_PER_UNIT = 150
HS_EXTRA_QUESTIONS = 2  # train questions per train-only fact
HS_BRAND = "Fellcraft Outdoor"
# The house format every reference follows, as suite.yaml declares it for format_match.
HS_FORMAT = r"Answer: .+\. Source: .+ (Spec Sheet|Manual|Care Guide|Warranty Card)"

# "|" marks where a hyphenated or CamelCase spelling may split the name.
HS_LINES = [
    "Cairn|line",
    "Ember|jet",
    "Glimmer|point",
    "Scree|runner",
    "Tarn|haven",
    "Bracken|fold",
    "Corrie|walker",
    "Fell|strider",
    "Gully|crest",
    "Ridge|moss",
    "Lochan|glow",
    "Bothy|mate",
    "Crag|wren",
    "Dale|bright",
    "Heath|rover",
    "Moor|lark",
    "Pike|stone",
    "Rowan|drift",
    "Sedge|hollow",
    "Storm|ridge",
    "Summit|fern",
    "Thistle|down",
    "Upland|spark",
    "Wold|runner",
    "Birch|tor",
    "Clough|fire",
    "Gorse|flare",
    "Knoll|weaver",
    "Marram|peak",
    "Spindle|crest",
]

HS_MODEL_VARIANTS = {
    "": [""],
    "2": ["II", "Two"],
    "3": ["III", "Three"],
    "Pro": ["PRO", "pro"],
    "Lite": ["Light", "LITE"],
    "XT": ["X-T", "xt"],
}

# attr -> (train question templates, test question templates); {name} is the product.
HS_QUESTIONS = {
    "weight": (
        ["How heavy is the {name}?", "What is the weight of the {name}?"],
        ["How much does the {name} weigh?", "What does the {name} weigh on the scales?"],
    ),
    "sleeps": (
        ["How many people does the {name} sleep?", "How many campers fit in the {name}?"],
        ["What is the sleeping capacity of the {name}?", "For how many people is the {name} made?"],
    ),
    "floor-area": (
        ["What is the floor area of the {name}?", "How much floor space does the {name} have?"],
        ["How big is the inside floor of the {name}?", "What area does the {name} floor cover?"],
    ),
    "hydrostatic-head": (
        [
            "What hydrostatic head is the {name} flysheet rated to?",
            "How waterproof is the {name} flysheet in millimetres?",
        ],
        [
            "What is the waterproof rating of the {name} fly?",
            "To what water column is the {name} flysheet tested?",
        ],
    ),
    "pitch-time": (
        ["How long does it take to pitch the {name}?", "What is the pitching time of the {name}?"],
        ["How quickly can the {name} be put up?", "How many minutes does setting up the {name} take?"],
    ),
    "pegs": (
        ["How many pegs come with the {name}?", "What number of pegs is supplied with the {name}?"],
        ["How many tent pegs are in the {name} kit?", "What peg count does the {name} ship with?"],
    ),
    "reproof": (
        [
            "How often should the {name} flysheet be reproofed?",
            "At what interval does the {name} fly need reproofing?",
        ],
        ["When should I reproof my {name}?", "How long between reproofing treatments for the {name}?"],
    ),
    "comfort-temp": (
        [
            "What is the comfort temperature of the {name}?",
            "Down to what temperature is the {name} comfortable?",
        ],
        [
            "How cold can it get before the {name} stops being comfortable?",
            "What comfort rating does the {name} carry?",
        ],
    ),
    "packed-volume": (
        ["What is the packed volume of the {name}?", "How much space does the packed {name} take?"],
        [
            "How big is the {name} once it is stuffed into its sack?",
            "What volume does the {name} pack down to?",
        ],
    ),
    "max-height": (
        ["What is the tallest user the {name} fits?", "Up to what body height does the {name} fit?"],
        [
            "How tall can a sleeper be and still fit the {name}?",
            "What is the maximum user height for the {name}?",
        ],
    ),
    "loft-time": (
        [
            "How long should the {name} loft before use?",
            "How many minutes does the {name} need to loft after unpacking?",
        ],
        [
            "How long do I shake out and rest the {name} before sleeping in it?",
            "What lofting time is recommended for the {name}?",
        ],
    ),
    "limit-temp": (
        ["What is the limit temperature of the {name}?", "What is the lower limit rating of the {name}?"],
        [
            "What is the coldest limit the {name} is rated for?",
            "At what limit temperature is the {name} rated?",
        ],
    ),
    "wash-temp": (
        [
            "At what temperature should the {name} be washed?",
            "What is the maximum wash temperature for the {name}?",
        ],
        ["How hot may the water be when washing the {name}?", "What wash temperature suits the {name}?"],
    ),
    "output": (
        ["What is the heat output of the {name}?", "How powerful is the {name} burner?"],
        ["What output does the {name} stove deliver?", "How much heat does the {name} put out?"],
    ),
    "boil-time": (
        [
            "How long does the {name} take to boil a litre of water?",
            "What is the boil time of the {name} for one litre?",
        ],
        [
            "How fast does the {name} bring a litre to the boil?",
            "How many minutes until a litre boils on the {name}?",
        ],
    ),
    "burn-time": (
        [
            "How long does one canister last in the {name}?",
            "What is the burn time of the {name} per canister?",
        ],
        [
            "For how long will a full gas canister run the {name}?",
            "How much burn time does the {name} get from a canister?",
        ],
    ),
    "min-pan": (
        ["What is the smallest pan the {name} can take?", "What minimum pan size does the {name} need?"],
        [
            "How wide must a pot be to sit safely on the {name}?",
            "What is the minimum pot diameter for the {name}?",
        ],
    ),
    "clearance": (
        [
            "How far from tent fabric must the {name} be kept?",
            "What clearance does the {name} need from tent walls?",
        ],
        [
            "How much distance should be left between the {name} and a tent?",
            "What is the safe gap between the {name} and any fabric?",
        ],
    ),
    "jet-cleaning": (
        [
            "How often should the {name} jet be cleaned?",
            "After how many uses does the {name} jet need cleaning?",
        ],
        [
            "When is it time to clean the jet of the {name}?",
            "How frequently does the {name} burner jet need attention?",
        ],
    ),
    "volume": (
        ["What is the capacity of the {name}?", "How many litres does the {name} hold?"],
        ["How much can I pack into the {name}?", "What volume is the {name}?"],
    ),
    "max-load": (
        ["What is the maximum load for the {name}?", "How much weight can the {name} carry?"],
        ["What is the heaviest load the {name} is built for?", "What load limit does the {name} have?"],
    ),
    "back-length": (
        ["What back lengths does the {name} fit?", "What is the back length range of the {name}?"],
        ["Which torso lengths does the {name} adjust to?", "How far does the {name} back system adjust?"],
    ),
    "reservoir": (
        [
            "What size of hydration reservoir fits the {name}?",
            "How large a water bladder does the {name} sleeve take?",
        ],
        [
            "What is the biggest drinking reservoir the {name} can hold?",
            "Which reservoir size suits the {name} hydration sleeve?",
        ],
    ),
    "bottle-pocket": (
        [
            "How wide a bottle fits the {name} side pockets?",
            "What bottle diameter do the {name} side pockets take?",
        ],
        [
            "What is the largest bottle the {name} side pocket holds?",
            "How big a bottle can go in the side pocket of the {name}?",
        ],
    ),
    "brightness": (
        ["How bright is the {name}?", "What is the maximum brightness of the {name}?"],
        ["How many lumens does the {name} give out?", "What light output does the {name} have?"],
    ),
    "battery-life": (
        ["How long does the {name} battery last on low?", "What is the low-mode runtime of the {name}?"],
        [
            "For how many hours does the {name} run on its lowest setting?",
            "What battery life does the {name} have in low mode?",
        ],
    ),
    "beam-distance": (
        ["How far does the {name} beam reach?", "What is the beam distance of the {name}?"],
        ["How far can the {name} light up?", "What is the throw of the {name} beam?"],
    ),
    "charge-time": (
        ["How long does the {name} take to charge fully?", "What is the full charging time of the {name}?"],
        [
            "How long must the {name} stay on the charger?",
            "How many minutes does a full recharge of the {name} take?",
        ],
    ),
    "red-mode": (
        ["How long does the {name} red mode last?", "What is the runtime of the {name} in red light?"],
        [
            "For how many hours will the red light of the {name} run?",
            "How long can I use the {name} red mode on one charge?",
        ],
    ),
    "storage-battery": (
        [
            "After how long in storage should the {name} battery be removed?",
            "When should I take the battery out of a stored {name}?",
        ],
        [
            "How long can the {name} sit in a drawer before its battery should come out?",
            "What storage period calls for removing the {name} battery?",
        ],
    ),
    "warranty": (
        ["How long is the {name} guaranteed for?", "What guarantee period does the {name} have?"],
        ["How many years of warranty does the {name} carry?", "What is the warranty on the {name}?"],
    ),
    "registration": (
        [
            "Within how many days must the {name} be registered?",
            "How soon after purchase should I register the {name}?",
        ],
        [
            "What is the registration deadline for the {name}?",
            "By when do I need to register my {name} for the extra year?",
        ],
    ),
}

# Category -> model options and passage templates. Each passage: (slug, doc type, text
# template, {attr: value generator}).  Values are the exact core answers, units included.


def _r(lo, hi, step=1, fmt="{}", div=1):
    def gen(rng):
        value = rng.randrange(lo, hi + 1, step)
        return fmt.format(value / div if div != 1 else value)

    return gen


def _people(rng):
    n = rng.randint(1, 4)
    return "1 person" if n == 1 else f"{n} people"


HS_CATEGORIES = {
    "Tent": {
        "models": ["", "Lite", "Pro", "XT"],
        "passages": [
            (
                "spec-weight",
                "Spec Sheet",
                "According to the spec sheet, the {name} has a packed weight of {weight} and sleeps {sleeps}. "
                "The weight includes the inner, the flysheet, the poles and the pegs but not the footprint.",
                {"weight": _r(12, 48, fmt="{:.1f} kg", div=10), "sleeps": _people},
            ),
            (
                "spec-fabric",
                "Spec Sheet",
                "Inside, the {name} offers a floor area of {floor-area}. "
                "The flysheet is rated to a hydrostatic head of {hydrostatic-head}, and all seams are taped "
                "at the factory before the tent is packed.",
                {
                    "floor-area": _r(18, 52, fmt="{:.1f} m²", div=10),
                    "hydrostatic-head": _r(1500, 5000, 500, "{} mm"),
                },
            ),
            (
                "pitching",
                "Manual",
                "With a little practice, pitching the {name} takes about {pitch-time}. "
                "The kit includes {pegs}, and the manual recommends pegging the windward end first "
                "before you tension the guy lines.",
                {"pitch-time": _r(4, 15, fmt="{} minutes"), "pegs": _r(8, 18, 2, "{} pegs")},
            ),
            (
                "care",
                "Care Guide",
                "Always dry the {name} completely before packing it away for more than a day. "
                "Reproof the flysheet every {reproof} with a water-based spray, working outdoors on a dry and "
                "windless day.",
                {"reproof": _r(6, 24, 6, "{} months")},
            ),
        ],
        "box": "The {name} comes in a roll-top carry bag with separate sacks for the poles and pegs, "
        "a repair sleeve for a broken pole section and a short card showing the pitching order.",
    },
    "Sleeping Bag": {
        "models": ["", "Lite", "Pro", "2"],
        "passages": [
            (
                "spec-warmth",
                "Spec Sheet",
                "The {name} weighs {weight} and has a comfort temperature of {comfort-temp}. "
                "Its hood has a drawcord that can be worked with one hand from inside the bag, even when "
                "wearing gloves.",
                {"weight": _r(700, 1900, 50, "{} g"), "comfort-temp": _r(-10, 8, fmt="{} °C")},
            ),
            (
                "spec-size",
                "Spec Sheet",
                "Packed into its compression sack, the {name} takes up {packed-volume}. "
                "It fits sleepers up to {max-height} tall, and a left-hand zip version is made to order "
                "at no extra cost.",
                {"packed-volume": _r(5, 16, fmt="{} litres"), "max-height": _r(175, 200, 5, "{} cm")},
            ),
            (
                "using",
                "Manual",
                "After unpacking the {name}, shake it and let it loft for {loft-time} before you get in. "
                "Its limit temperature is {limit-temp}, the lowest point at which a sleeper should stay "
                "safe for one night.",
                {"loft-time": _r(10, 40, 5, "{} minutes"), "limit-temp": _r(-18, 2, fmt="{} °C")},
            ),
            (
                "care",
                "Care Guide",
                "Wash the {name} at no more than {wash-temp} with a detergent made for down or synthetic fill. "
                "Tumble dry it on low heat with two clean tennis balls to break up clumps.",
                {"wash-temp": _r(20, 40, 10, "{} °C")},
            ),
        ],
        "box": "The {name} is delivered with a breathable cotton storage sack, a small compression sack "
        "for the trail and a hanging loop at the foot so it can be aired on a line.",
    },
    "Stove": {
        "models": ["", "2", "Pro", "XT"],
        "passages": [
            (
                "spec-burner",
                "Spec Sheet",
                "The {name} weighs {weight} without its canister and delivers an output of {output}. "
                "The folding pot supports are made of stainless steel and lock open with a firm click.",
                {"weight": _r(70, 380, 10, "{} g"), "output": _r(18, 36, fmt="{:.1f} kW", div=10)},
            ),
            (
                "spec-fuel",
                "Spec Sheet",
                "In still air, the {name} brings one litre of water to the boil in {boil-time}. "
                "A full 230 g canister gives a burn time of {burn-time} at the highest setting.",
                {"boil-time": _r(3, 6, fmt="{} minutes"), "burn-time": _r(50, 110, 5, "{} minutes")},
            ),
            (
                "safety",
                "Manual",
                "Use pans with a base of at least {min-pan} across on the {name}. "
                "Never cook inside a tent, and keep the stove at least {clearance} from any tent fabric "
                "or dry grass.",
                {"min-pan": _r(9, 16, fmt="{} cm"), "clearance": _r(50, 150, 25, "{} cm")},
            ),
            (
                "care",
                "Care Guide",
                "Clean the jet of the {name} every {jet-cleaning} with the pricker tool stored in the base. "
                "Keep the stove in its hard case so that the valve thread is not bent in transit.",
                {"jet-cleaning": _r(10, 40, 10, "{} uses")},
            ),
        ],
        "box": "Every {name} is packed with a hard plastic case, a pricker tool for the jet, a folding "
        "windshield made of aluminium and a printed card with the safety warnings in four languages.",
    },
    "Backpack": {
        "models": ["", "Lite", "Pro", "XT"],
        "passages": [
            (
                "spec-size",
                "Spec Sheet",
                "The {name} has a capacity of {volume} and weighs {weight} empty. "
                "The main body is made of a recycled ripstop fabric with a coated base panel that shrugs "
                "off wet ground.",
                {"volume": _r(20, 75, 5, "{} litres"), "weight": _r(6, 24, fmt="{:.1f} kg", div=10)},
            ),
            (
                "spec-fit",
                "Spec Sheet",
                "The frame of the {name} is built for a maximum load of {max-load}. "
                "Its adjustable back system fits back lengths of {back-length}, and the hip belt comes "
                "in two sizes.",
                {
                    "max-load": _r(10, 25, fmt="{} kg"),
                    "back-length": lambda rng: (lambda lo: f"{lo} to {lo + rng.choice([8, 10, 12])} cm")(
                        rng.randrange(38, 48, 2)
                    ),
                },
            ),
            (
                "features",
                "Manual",
                "The hydration sleeve inside the {name} takes a reservoir of up to {reservoir}. "
                "The stretch side pockets hold bottles up to {bottle-pocket} across, and the rain cover "
                "is stored in a zipped base pocket.",
                {"reservoir": _r(2, 3, fmt="{} litres"), "bottle-pocket": _r(7, 10, fmt="{} cm")},
            ),
            (
                "care",
                "Care Guide",
                "Hand wash the {name} at no more than {wash-temp} and never put it in a washing machine. "
                "Let it dry upside down with all pockets open, away from direct heat.",
                {"wash-temp": _r(20, 40, 10, "{} °C")},
            ),
        ],
        "box": "The {name} ships with a fitted rain cover, a removable lid that doubles as a hip pack, "
        "two ice-axe loops and a laminated card showing how to set the back length.",
    },
    "Headlamp": {
        "models": ["", "2", "Pro", "Lite"],
        "passages": [
            (
                "spec-light",
                "Spec Sheet",
                "On its highest setting the {name} gives out {brightness}. "
                "The complete lamp, strap and battery included, weighs {weight}, and the housing is sealed "
                "against heavy rain and snow.",
                {"brightness": _r(150, 900, 50, "{} lumens"), "weight": _r(45, 120, 5, "{} g")},
            ),
            (
                "spec-battery",
                "Spec Sheet",
                "In low mode the {name} runs for {battery-life} on a full battery. "
                "At full power its beam reaches {beam-distance}, which is enough to pick out a path marker "
                "at night.",
                {"battery-life": _r(20, 120, 10, "{} hours"), "beam-distance": _r(60, 200, 10, "{} metres")},
            ),
            (
                "charging",
                "Manual",
                "A full recharge of the {name} over USB-C takes {charge-time}. "
                "The red mode protects night vision and lasts {red-mode} on one charge; hold the button "
                "for two seconds to switch to it.",
                {"charge-time": _r(90, 240, 30, "{} minutes"), "red-mode": _r(30, 90, 10, "{} hours")},
            ),
            (
                "care",
                "Care Guide",
                "If the {name} will be stored for more than {storage-battery}, take out the battery and keep "
                "it half charged. Wipe the lens with a dry cloth and rinse the strap in cold water.",
                {"storage-battery": _r(2, 6, fmt="{} months")},
            ),
        ],
        "box": "In the box with the {name} you will find an elastic head strap, a rechargeable battery "
        "pack, a short USB-C cable and a clip for fixing the lamp to a rucksack strap.",
    },
}

HS_WARRANTY = (
    "warranty",
    "Warranty Card",
    "{brand} guarantees the {name} for {warranty} against faults in materials and workmanship. "
    "Register the product within {registration} of purchase to add one extra year to the "
    "guarantee at no charge.",
    {"warranty": _r(2, 5, fmt="{} years"), "registration": _r(14, 60, 14, "{} days")},
)


def _hs_line(rng: random.Random, taken: set[str], first: str | None) -> tuple[str, str]:
    if first is not None and first.replace("|", "") not in taken:
        head, tail = first.split("|")
    else:
        while True:
            head = rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(MIDS)
            tail = rng.choice(ENDS)
            if head + tail not in taken:
                break
    taken.add(head + tail)
    return head, tail


def _hs_spellings(head: str, tail: str, model: str, category: str) -> tuple[str, list[str]]:
    """The canonical product name and the variant spellings the documents use."""
    word = head + tail
    model_part = f" {model}" if model else ""
    canonical = f"{word}{model_part} {category}"
    variants = [
        f"{head}-{tail.capitalize()}{model_part} {category}",
        f"{head}{tail.capitalize()}{model_part} {category.lower()}",
        f"{word.upper()}{model_part} {category}",
        f"{word.lower()}{model_part.lower()} {category.lower()}",
        f"{word}{model_part}",
    ]
    for alt in HS_MODEL_VARIANTS[model]:
        if alt:
            variants.append(f"{word} {alt} {category}")
    return canonical, variants


def build_house_style(rng: random.Random, scale: int, seed: int) -> dict:
    taken: set[str] = set()
    corpus, train, test = [], [], []
    for unit in range(scale):
        urng = random.Random(f"house-style:{seed}:unit:{unit}")
        facts = []  # (pid, attr, core, canonical, doc, spelling tag, category)
        for i in range(HS_PRODUCTS_PER_UNIT):
            head, tail = _hs_line(rng, taken, HS_LINES[i] if unit == 0 else None)
            category = list(HS_CATEGORIES)[i % len(HS_CATEGORIES)]
            spec = HS_CATEGORIES[category]
            model = urng.choice(spec["models"])
            canonical, variants = _hs_spellings(head, tail, model, category)
            pslug = slugify(canonical)
            for slug, doc, template, gens in spec["passages"] + [HS_WARRANTY]:
                values = {attr: gen(urng) for attr, gen in gens.items()}
                canon = urng.random() < 0.4
                spelled = canonical if canon else urng.choice(variants)
                text = template.replace("{name}", spelled).replace("{brand}", HS_BRAND)
                for attr, value in values.items():
                    text = text.replace("{" + attr + "}", value)
                pid = f"{pslug}-{slug}"
                title_name = canonical if urng.random() < 0.5 else urng.choice(variants)
                corpus.append({"id": pid, "title": f"{title_name} {doc}", "text": text})
                for attr, value in values.items():
                    assert in_one_sentence(value, text), (pid, value)
                    facts.append(
                        (
                            pid,
                            attr,
                            value,
                            canonical,
                            variants,
                            doc,
                            "canonical-spelling" if canon else "variant-spelling",
                            category,
                        )
                    )
            box = spec["box"].replace("{name}", urng.choice(variants))
            corpus.append(
                {"id": f"{pslug}-in-the-box", "title": f"{canonical} Manual: in the box", "text": box}
            )
        chosen = set(urng.sample(range(len(facts)), HS_TEST_PER_UNIT))
        rest = [i for i in range(len(facts)) if i not in chosen]
        extra = set(urng.sample(rest, min(len(rest), HS_EXTRA_TRAIN_PER_UNIT)))
        for i, (pid, attr, core, canonical, variants, doc, spelling, category) in enumerate(facts):
            if i not in chosen and i not in extra:
                continue
            reference = f"Answer: {core}. Source: {canonical} {doc}"
            tags = [attr, slugify(doc), slugify(category), spelling]
            train_t, test_t = HS_QUESTIONS[attr]

            def name() -> str:
                return canonical if urng.random() < 0.7 else urng.choice(variants)

            for t in urng.sample(train_t, 2 if i in chosen else HS_EXTRA_QUESTIONS):
                train.append(case(t.format(name=name()), reference, [pid], tags))
            if i in chosen:
                test.append(case(urng.choice(test_t).format(name=name()), reference, [pid], tags))
    return splits(rng, corpus, train, test)
