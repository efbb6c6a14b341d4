"""Builder of smoke: one small community garden (``--scale N`` adds more gardens).

Longer than 300 lines because it is mostly data: SMOKE_FACTS, SMOKE_DISTRACTORS and SMOKE_TRAIN_ONLY
hold every passage with its questions; the building code is one short function.
"""

# The templates are prose lines (E501).
# ruff: noqa: E501

from __future__ import annotations

import random

from .common import case, in_one_sentence, splits
from .names import unique_words

# Each fact: slug, title, passage text, reference, two train questions, one
# test question, topic tag.  "{g}" is the garden's name.
SMOKE_FACTS = [
    (
        "hours",
        "Opening hours",
        "The {g} Community Garden opens its gates at 7 a.m. and locks them at dusk every day "
        "from March to October. In winter the garden is open on Saturday mornings only. "
        "Keyholders may come in outside these hours to water their plots.",
        "7 a.m.",
        [
            "When does the {g} garden unlock its gates in the morning?",
            "At what hour can members first get into the {g} garden in summer?",
        ],
        "What time do the gates of the {g} Community Garden open?",
        "access",
    ),
    (
        "plot-fee",
        "Plot rent",
        "Rent for a standard raised-bed plot at {g} is 45 crowns a year, payable every February. "
        "Half-size plots cost 25 crowns. Members aged seventy or over pay nothing for their first plot.",
        "45 crowns a year",
        [
            "What is the yearly rent for a full-size raised bed at {g}?",
            "How much do {g} members pay each year for a standard plot?",
        ],
        "How much does a standard plot at {g} cost?",
        "fees",
    ),
    (
        "plot-size",
        "Plot sizes",
        "Every standard plot at {g} measures 3 by 4 metres and is edged with untreated larch boards. "
        "Plot holders may not move the edging or build sheds higher than the fence line.",
        "3 by 4 metres",
        [
            "What are the dimensions of a regular {g} plot?",
            "How large is one standard bed in the {g} garden?",
        ],
        "How big is a standard plot at {g}?",
        "plots",
    ),
    (
        "coordinator",
        "Garden coordinator",
        "The {g} garden coordinator is Ilse Marwood, who has looked after the site since 2019. "
        "She handles plot allocations, keys and disputes, and holds an open hour in the meeting hut "
        "on Wednesday evenings.",
        "Ilse Marwood",
        ["Who is in charge of plot allocations at {g}?", "Which person coordinates the {g} garden?"],
        "Who is the coordinator of the {g} Community Garden?",
        "people",
    ),
    (
        "waitlist",
        "Waiting list",
        "New applicants for a {g} plot currently wait about 14 months before one becomes free. "
        "Applicants who volunteer at two work mornings move up the list by one place, and returning members are not given priority.",
        "about 14 months",
        [
            "How long is the wait for a new plot at {g}?",
            "Roughly how many months does a {g} applicant wait for a bed?",
        ],
        "How long does it take to get a plot at {g}?",
        "plots",
    ),
    (
        "compost",
        "Compost bays",
        "The three compost bays at {g} are turned and emptied on the first Sunday of each month. "
        "Only uncooked plant material may go in the bays; weeds with seed heads belong in the green bin.",
        "the first Sunday of each month",
        ["On which day are the {g} compost bays emptied?", "When do volunteers turn the compost at {g}?"],
        "How often are the compost bays at {g} emptied?",
        "compost",
    ),
    (
        "water",
        "Watering",
        "Watering cans at {g} must be filled from the blue rain tanks near the north gate. "
        "The mains tap is reserved for the seedling house and may not be used for plots.",
        "the blue rain tanks near the north gate",
        [
            "Where should {g} members fill their watering cans?",
            "Which water source is meant for plots at {g}?",
        ],
        "Where do I get water for my plot at {g}?",
        "water",
    ),
    (
        "hoses",
        "Hose rule",
        "To save water, hoses are not allowed on any {g} plot between June and August. "
        "Outside those months a hose may be used for up to twenty minutes per plot per day.",
        "between June and August",
        ["During which months are hoses banned at {g}?", "When is hose use forbidden on {g} plots?"],
        "In which period can't I use a hose at {g}?",
        "water",
    ),
    (
        "tools",
        "Shared tools",
        "The shared spades, forks and wheelbarrows at {g} live in the green shed. "
        "Anyone taking a tool must sign it out in the red ledger that hangs inside the door.",
        "the red ledger",
        [
            "Where do members record which shared tool they took at {g}?",
            "What must a {g} gardener sign when borrowing a wheelbarrow?",
        ],
        "Where do I sign out a tool at {g}?",
        "tools",
    ),
    (
        "dogs",
        "Dogs",
        "Dogs are welcome at {g} on a short lead and only on the central gravel path. "
        "They must not enter plots, the orchard or the children's area, and owners must clear up after them at once.",
        "on a short lead",
        ["Under what condition may dogs come into {g}?", "How must a dog be kept when visiting {g}?"],
        "Can I bring my dog to {g}?",
        "access",
    ),
    (
        "bees",
        "Beehives",
        "The garden keeps four beehives behind the {g} orchard, looked after by two trained volunteers. "
        "Visitors should stay outside the rope line around the hives, especially on warm afternoons when the colonies are busiest.",
        "four beehives",
        ["How many hives are kept at {g}?", "What number of beehives stand behind the {g} orchard?"],
        "How many beehives does {g} have?",
        "bees",
    ),
    (
        "honey",
        "Honey sales",
        "Honey from the {g} hives is sold at the harvest fair for 6 crowns a jar. "
        "Money from the honey pays for new plants in the shared beds and for replacing worn hive frames.",
        "6 crowns a jar",
        ["What is the price of {g} honey at the fair?", "How much does one jar of {g} honey sell for?"],
        "How much is a jar of honey from {g}?",
        "bees",
    ),
    (
        "fair",
        "Harvest fair",
        "The {g} harvest fair takes place on the last Saturday of September. "
        "Plot holders run stalls for vegetables, jams and cuttings, and the children's plot hosts a pumpkin contest in the afternoon.",
        "the last Saturday of September",
        ["When is the {g} harvest fair held?", "On what date does {g} hold its autumn fair?"],
        "What day is the harvest fair at {g}?",
        "events",
    ),
    (
        "work-hours",
        "Volunteer hours",
        "Every {g} plot holder must give 10 hours of volunteer work per season. "
        "Hours are logged on the board in the meeting hut, and members who fall short pay a small top-up fee.",
        "10 hours",
        [
            "How many volunteer hours does each {g} member owe per season?",
            "What is the seasonal work commitment for {g} plot holders?",
        ],
        "How much volunteering is required at {g}?",
        "rules",
    ),
    (
        "slugs",
        "Pest control",
        "Chemical pesticides are banned at {g}. Against slugs, only wool pellets and beer traps are permitted, "
        "and netting must be checked daily so that birds and hedgehogs do not get caught.",
        "wool pellets and beer traps",
        ["What may {g} gardeners use against slugs?", "Which slug controls are allowed on {g} plots?"],
        "How am I allowed to deal with slugs at {g}?",
        "rules",
    ),
    (
        "bonfires",
        "Woody waste",
        "Bonfires are forbidden at {g} at all times. Woody prunings go to the chipping pile by the east fence, "
        "which is shredded twice a year and spread on the paths.",
        "the chipping pile by the east fence",
        [
            "Where should {g} members put woody prunings?",
            "What happens to branches cut at {g} instead of burning them?",
        ],
        "Where do I take branches and prunings at {g}?",
        "compost",
    ),
    (
        "seed-swap",
        "Seed swap",
        "The yearly {g} seed swap is held in the meeting hut on the second Thursday of March. "
        "Members bring labelled envelopes of saved seed and take home the same number.",
        "the second Thursday of March",
        ["When does the {g} seed swap happen?", "On which day is the {g} seed exchange?"],
        "What date is the seed swap at {g}?",
        "events",
    ),
    (
        "keys",
        "Gate keys",
        "A replacement gate key for {g} costs 12 crowns and is issued by the coordinator. "
        "Lost keys must be reported within a week so the padlock code can be changed.",
        "12 crowns",
        [
            "What does a new {g} gate key cost?",
            "How much do I pay the coordinator for a replacement {g} key?",
        ],
        "How much is a replacement key at {g}?",
        "fees",
    ),
    (
        "inspections",
        "Plot inspections",
        "The {g} committee inspects every plot twice a year, in May and in August. "
        "Plots that are more than half overgrown receive a written warning and four weeks to recover.",
        "in May and in August",
        ["In which months are {g} plots checked?", "When does the {g} committee walk round the plots?"],
        "When are plot inspections at {g}?",
        "rules",
    ),
    (
        "founded",
        "History",
        "{g} Community Garden was founded in 1987 on the site of an old brickworks. "
        "Early members dug out rubble by hand, and some of the original bricks still line the orchard path.",
        "1987",
        ["In what year did {g} Community Garden start?", "When was {g} set up on the old brickworks site?"],
        "When was {g} Community Garden founded?",
        "history",
    ),
]

# Passages with no question of their own; several are deliberate near-misses.
SMOKE_DISTRACTORS = [
    (
        "committee",
        "Committee meetings",
        "The {g} committee meets on the second Tuesday of each month in the meeting hut. "
        "Any member may attend, and agenda items must reach the secretary a week in advance.",
    ),
    (
        "children",
        "Children's plot",
        "The children's plot at {g} is 2 by 2 metres and is planted by the local primary school. "
        "Adults may help with watering during the school holidays but should leave the harvest to the pupils.",
    ),
    (
        "seedlings",
        "Seedling house",
        "The heated seedling house at {g} has twelve shelves that members can book for a month at a time. "
        "It is the only place where the mains tap may be used, and the door must be shut at night.",
    ),
    (
        "orchard",
        "Orchard",
        "The {g} orchard holds nine apple trees, three pears and a quince. "
        "Fruit is shared among everyone who helps at the winter pruning morning in February, and windfalls may be collected by anyone.",
    ),
    (
        "pond",
        "Wildlife pond",
        "A small wildlife pond sits in the south-west corner of {g}. "
        "Frogs and newts breed there each spring, so members are asked not to clear the reeds or cut back the irises before July.",
    ),
    (
        "parking",
        "Parking",
        "There is no car park at {g}; members usually park on Mill Row and walk the last two hundred metres. "
        "Bicycles can be locked to the rack beside the north gate.",
    ),
    (
        "newsletter",
        "Newsletter",
        "The {g} newsletter comes out four times a year and is pinned to the noticeboard as well as emailed. "
        "Members are invited to send in recipes, plot photos and tips on saving seed.",
    ),
    (
        "accessible",
        "Accessible beds",
        "Two raised beds at waist height near the north gate of {g} are kept for members who use wheelchairs "
        "or cannot kneel. They are allocated first, ahead of the general waiting list.",
    ),
    (
        "rats",
        "Rats",
        "If you see rats at {g}, tell the coordinator rather than setting traps yourself. "
        "Keeping compost bays closed and not leaving bread for birds are the best ways to keep them away.",
    ),
    (
        "leaving",
        "Giving up a plot",
        "Members who want to give up a {g} plot should tell the coordinator by the end of January. "
        "Rent is not refunded, but any shed or frame left in good condition may be passed on to the next holder.",
    ),
]

# Train-only questions on the passages above (reference, two train questions, topic): they keep smoke's train
# split at about 40 pairs while most test facts are held out of it.
SMOKE_TRAIN_ONLY = {
    "committee": (
        "the second Tuesday of each month",
        ["When does the {g} committee meet?", "On which day of the month is the {g} committee meeting?"],
        "events",
    ),
    "children": (
        "2 by 2 metres",
        ["How large is the children's plot at {g}?", "What size is the bed the school plants at {g}?"],
        "plots",
    ),
    "seedlings": (
        "twelve shelves",
        [
            "How many shelves does the {g} seedling house have?",
            "How much shelving is there in the heated seedling house at {g}?",
        ],
        "tools",
    ),
    "orchard": (
        "nine apple trees",
        ["How many apple trees grow in the {g} orchard?", "How many apple trees does {g} have?"],
        "history",
    ),
    "pond": (
        "the south-west corner",
        ["Where is the wildlife pond at {g}?", "In which corner of {g} is the pond?"],
        "water",
    ),
    "parking": (
        "on Mill Row",
        ["Where do {g} members park their cars?", "Where can I leave my car when I visit {g}?"],
        "access",
    ),
    "newsletter": (
        "four times a year",
        [
            "How often does the {g} newsletter come out?",
            "How many issues of the {g} newsletter appear yearly?",
        ],
        "events",
    ),
    "accessible": (
        "near the north gate",
        ["Where are the waist-height beds at {g}?", "Where are the accessible raised beds of {g}?"],
        "plots",
    ),
    "rats": (
        "tell the coordinator",
        ["What should I do if I see rats at {g}?", "What is the first step when rats turn up at {g}?"],
        "rules",
    ),
    "leaving": (
        "by the end of January",
        ["By when must I say I am giving up my {g} plot?", "What is the deadline for leaving a {g} plot?"],
        "rules",
    ),
}

SMOKE_FIRST_GARDEN = "Fernhollow"


def build_smoke(rng: random.Random, scale: int, seed: int) -> dict:
    taken: set[str] = set()
    gardens = [unique_words(rng, 1, taken, [SMOKE_FIRST_GARDEN] if i == 0 else None)[0] for i in range(scale)]
    corpus, train, test = [], [], []
    for g in gardens:
        slug = g.lower()
        for key, title, text, ref, train_qs, test_q, topic in SMOKE_FACTS:
            pid = f"{slug}-{key}"
            body = text.format(g=g)
            assert in_one_sentence(ref, body), (pid, ref)
            corpus.append({"id": pid, "title": f"{g}: {title}", "text": body})
            for q in train_qs:
                train.append(case(q.format(g=g), ref, [pid], [topic]))
            test.append(case(test_q.format(g=g), ref, [pid], [topic]))
        for key, title, text in SMOKE_DISTRACTORS:
            pid = f"{slug}-{key}"
            body = text.format(g=g)
            corpus.append({"id": pid, "title": f"{g}: {title}", "text": body})
            ref, train_qs, topic = SMOKE_TRAIN_ONLY[key]
            assert in_one_sentence(ref, body), (pid, ref)
            for q in train_qs:
                train.append(case(q.format(g=g), ref, [pid], [topic]))
    corpus = sorted(corpus, key=lambda p: p["id"])
    # row order comes from its own stream (this keeps smoke v1 as first shipped)
    order = random.Random(f"smoke:{seed}:{scale}")
    return splits(order, corpus, train, test)
