"""Builder of knowledge-refresh: an appliance maker seen in two snapshots, the old one that training
saw (train references, ``corpus_old.jsonl``) and the current one (the corpus and the test references).

Longer than 300 lines because it is mostly data: the KR_* tables (product lines, categories, question
templates) and the passage templates inside _kr_company; the building code itself is short.
"""

# The templates are prose lines (E501), and the closures are called inside the loop iteration that
# defines them (B023 cannot see that).
# ruff: noqa: E501, B023

from __future__ import annotations

import random

from .common import and_list, case, in_one_sentence, slugify, splits
from .names import person, unique_words

KR_FIRST_COMPANY = "Hearthwell"
KR_PRODUCTS_PER_COMPANY = 60
KR_TEST_PER_COMPANY = 170
KR_CHANGED_SHARE = 0.25
KR_EXTRA_TRAIN_PER_COMPANY = 300

KR_LINE_NAMES = [
    "Larkmoor",
    "Wrenfield",
    "Ambrel",
    "Coppice",
    "Dunmara",
    "Ferrow",
    "Gillam",
    "Hollin",
    "Istra",
    "Kestle",
    "Linnet",
    "Marrowby",
    "Nettlebed",
    "Orwen",
    "Pallister",
    "Quenby",
    "Rushmere",
    "Sedgely",
    "Tamsel",
    "Umberly",
    "Vellam",
    "Willowen",
    "Yarrowby",
    "Zephra",
    "Alderly",
    "Brackett",
    "Carrowen",
    "Delling",
    "Ebbert",
    "Faldor",
    "Gorsey",
    "Harlowen",
    "Ivelle",
    "Kinvar",
    "Lowther",
    "Mabry",
    "Norrel",
    "Oakum",
    "Pendry",
    "Quillon",
    "Roskell",
    "Saltmarsh",
    "Thornby",
    "Ulverly",
    "Verrin",
    "Whitlow",
    "Ashcombe",
    "Bellamy",
    "Corriel",
    "Drayfen",
    "Elmswick",
    "Foxglen",
    "Greyholt",
    "Hazeldine",
    "Inchmere",
    "Juniven",
    "Kelderby",
    "Loxley",
    "Moorcroft",
    "Nightjar",
]
KR_COLOURS = [
    "slate grey",
    "cream",
    "sage green",
    "coral",
    "midnight blue",
    "chalk white",
    "copper",
    "mustard",
    "charcoal",
    "blush pink",
    "forest green",
    "stone beige",
]
KR_LIGHTS = ["amber", "red", "blue", "white"]
KR_STREET_KINDS = ["Street", "Road", "Lane", "Parade", "Row"]

# category, blurb, price range, weight range (tenths of kg), watt options,
# care (passive, noun, unit, choices), accessory, accessory price range
KR_CATEGORIES = [
    (
        "Kettle",
        "a cordless 1.7-litre kettle",
        (39, 99),
        (9, 16),
        [1800, 2200, 2400, 3000],
        ("descaled", "descaling", "weeks", [2, 4, 6, 8]),
        "limescale filter",
        (6, 15),
    ),
    (
        "Toaster",
        "a four-slice toaster with a bagel setting",
        (35, 109),
        (18, 32),
        [900, 1300, 1600, 1800],
        ("emptied of crumbs", "crumb-tray emptying", "weeks", [1, 2, 3]),
        "bun-warming rack",
        (9, 19),
    ),
    (
        "Blender",
        "a jug blender with six preset programmes",
        (59, 249),
        (30, 52),
        [700, 1000, 1200, 1500],
        ("checked for blade wear", "a blade check", "months", [3, 6, 12]),
        "blender jug",
        (25, 49),
    ),
    (
        "Stand Mixer",
        "a tilt-head stand mixer with a steel bowl",
        (199, 549),
        (62, 98),
        [800, 1000, 1200, 1400],
        ("serviced at the gearbox", "gearbox servicing", "years", [2, 3, 5]),
        "dough hook",
        (12, 29),
    ),
    (
        "Coffee Grinder",
        "a burr coffee grinder with forty grind settings",
        (79, 299),
        (19, 41),
        [150, 200, 250, 300],
        ("brushed clean", "burr cleaning", "weeks", [2, 3, 4]),
        "burr set",
        (29, 59),
    ),
    (
        "Air Purifier",
        "a three-stage air purifier for medium-sized rooms",
        (129, 399),
        (48, 89),
        [35, 45, 60, 80],
        ("fitted with a new filter", "a filter change", "months", [6, 9, 12]),
        "carbon filter",
        (19, 45),
    ),
    (
        "Steam Iron",
        "a steam iron with a ceramic soleplate",
        (29, 119),
        (11, 19),
        [2000, 2400, 2600, 2800],
        ("descaled", "descaling", "weeks", [4, 6, 8]),
        "soleplate cover",
        (9, 19),
    ),
    (
        "Humidifier",
        "an ultrasonic humidifier with a night mode",
        (49, 179),
        (15, 34),
        [25, 30, 40, 110],
        ("disinfected", "disinfection", "weeks", [1, 2, 4]),
        "water tank",
        (15, 35),
    ),
    (
        "Rice Cooker",
        "a ten-cup rice cooker with a keep-warm mode",
        (49, 199),
        (25, 48),
        [500, 650, 800, 1000],
        ("deep-cleaned", "a deep clean", "weeks", [2, 4, 6]),
        "inner pot",
        (19, 39),
    ),
    (
        "Slow Cooker",
        "a 6-litre slow cooker with a timer",
        (39, 129),
        (45, 68),
        [200, 230, 260, 320],
        ("checked at the lid seal", "a lid-seal check", "months", [3, 6, 12]),
        "ceramic pot",
        (22, 45),
    ),
]

KR_ROLES = [
    ("chief executive", "the company's strategy and its board", "a national bicycle maker"),
    ("finance director", "budgets, pricing and the annual accounts", "a regional bank"),
    ("head of design", "the look and feel of every new appliance", "an industrial design studio"),
    ("head of customer support", "the call centre, online chat and the returns desk", "a furniture retailer"),
    ("head of retail", "the company's own shops and its partner retailers", "a chain of garden centres"),
    ("head of sustainability", "packaging, recycling and the repair programme", "an environmental charity"),
]

# attribute -> (group tag, train templates, test templates)
KR_QUESTIONS = {
    "price": (
        "product",
        [
            "What is the retail price of the {P}?",
            "How much does {C} charge for the {P}?",
            "What does the {P} sell for?",
        ],
        ["How much does the {P} cost?", "What is the price of the {P}?"],
    ),
    "warranty": (
        "product",
        [
            "How long is the warranty on the {P}?",
            "For how long is the {P} under warranty?",
            "What warranty period comes with the {P}?",
        ],
        ["What warranty does the {P} have?", "How long does the {P} warranty last?"],
    ),
    "launch-year": (
        "product",
        ["In which year was the {P} launched?", "When did {C} bring out the {P}?"],
        ["When was the {P} released?", "What year did the {P} come out?"],
    ),
    "designer": (
        "product",
        ["Who designed the {P}?", "Which designer is behind the {P}?"],
        ["Who is the designer of the {P}?", "Whose design is the {P}?"],
    ),
    "plant": (
        "product",
        ["Where is the {P} assembled?", "At which plant is the {P} put together?"],
        ["Which factory builds the {P}?", "Where does the {P} get made?"],
    ),
    "weight": (
        "product",
        ["How heavy is the {P}?", "What is the weight of the {P}?"],
        ["How much does the {P} weigh?", "What does the {P} weigh?"],
    ),
    "power": (
        "product",
        ["What is the power rating of the {P}?", "How many watts does the {P} use?"],
        ["How much power does the {P} draw?", "What wattage is the {P}?"],
    ),
    "colours": (
        "product",
        ["Which colours is the {P} sold in?", "What colour options does the {P} come in?"],
        ["In what colours can I buy the {P}?", "What finishes is the {P} available in?"],
    ),
    "care": (
        "product",
        [
            "How often should the {P} be {care_passive}?",
            "What is the recommended interval for {care_noun} on the {P}?",
        ],
        [
            "How frequently does {C} advise {care_noun} for the {P}?",
            "At what interval should the {P} be {care_passive}?",
        ],
    ),
    "accessory": (
        "product",
        ["What does a spare {acc} for the {P} cost?", "How much is a replacement {acc} for the {P}?"],
        ["What is the price of a new {acc} for the {P}?", "How much would a {acc} for the {P} set me back?"],
    ),
    "returns": (
        "policy",
        ["How many days do {C} customers have to return a product?", "What is the return window at {C}?"],
        [
            "How long do I have to send back a {C} purchase?",
            "Within what period can a {C} appliance be returned for a refund?",
        ],
    ),
    "delivery-time": (
        "policy",
        [
            "How long does standard delivery from {C} take?",
            "What is the usual delivery time for a {C} order?",
        ],
        [
            "How quickly does a standard {C} order arrive?",
            "When can I expect a {C} parcel with standard shipping?",
        ],
    ),
    "delivery-fee": (
        "policy",
        ["What does standard delivery from {C} cost?", "How much is the {C} standard delivery charge?"],
        ["What is the shipping fee for a {C} order?", "How much will {C} charge me for standard shipping?"],
    ),
    "free-delivery": (
        "policy",
        ["Above what order value is {C} delivery free?", "How much must I spend for free delivery from {C}?"],
        [
            "What is the free shipping threshold at {C}?",
            "From what basket size does {C} stop charging for delivery?",
        ],
    ),
    "support-hours": (
        "policy",
        [
            "When is the {C} support line staffed on weekdays?",
            "What are the weekday opening hours of {C} customer support?",
        ],
        [
            "During which hours can I phone {C} support from Monday to Friday?",
            "At what times does the {C} helpline answer on a weekday?",
        ],
    ),
    "repair-fee": (
        "policy",
        [
            "What flat fee does {C} charge for out-of-warranty repairs?",
            "How much is a {C} repair once the warranty has expired?",
        ],
        [
            "What does {C} charge to fix an appliance that is no longer under warranty?",
            "How much is the flat repair fee at {C}?",
        ],
    ),
    "loyalty": (
        "policy",
        [
            "How many loyalty points do {C} Circle members earn per euro?",
            "What is the points rate in the {C} Circle scheme?",
        ],
        [
            "How many points does every euro spent at {C} earn?",
            "At what rate does the {C} loyalty scheme give points?",
        ],
    ),
    "founded": (
        "company",
        ["In which year was {C} founded?", "When was {C} established?"],
        ["In what year did {C} open for business?", "What year did {C} begin trading?"],
    ),
    "founder": (
        "company",
        ["Who founded {C}?", "Which person started {C}?"],
        ["Who is the founder of {C}?", "Who set up {C}?"],
    ),
    "headquarters": (
        "company",
        ["In which town does {C} have its head office?", "Where is {C} headquartered?"],
        ["Where is the {C} head office?", "Which town is {C} based in?"],
    ),
    "people": (
        "people",
        ["Who is the {role} at {C}?", "Which person holds the post of {role} at {C}?"],
        ["Who serves as {C}'s {role}?", "Name the {role} of {C}."],
    ),
    "store-hours": (
        "store",
        ["What are the opening hours of the {C} store in {town}?", "When is the {town} {C} shop open?"],
        ["At what times can I visit {C} in {town}?", "From when to when does the {C} shop in {town} open?"],
    ),
    "store-manager": (
        "store",
        ["Who manages the {C} store in {town}?", "Who runs the {town} branch of {C}?"],
        ["Who is the manager of {C}'s {town} shop?", "Which person is in charge of the {C} store at {town}?"],
    ),
}

# attribute -> probability that its value changed between the snapshots
KR_CHANGE_P = {
    "price": 0.55,
    "warranty": 0.3,
    "plant": 0.25,
    "colours": 0.35,
    "care": 0.2,
    "accessory": 0.35,
    "returns": 0.5,
    "delivery-fee": 0.5,
    "free-delivery": 0.5,
    "support-hours": 0.5,
    "repair-fee": 0.5,
    "loyalty": 0.5,
    "people": 0.4,
    "store-hours": 0.4,
    "store-manager": 0.35,
}
KR_SUPPORT_HOURS = [
    "8 a.m. to 6 p.m.",
    "8 a.m. to 8 p.m.",
    "9 a.m. to 5 p.m.",
    "7 a.m. to 7 p.m.",
    "9 a.m. to 7 p.m.",
]
KR_STORE_HOURS = [
    "9 a.m. to 6 p.m.",
    "10 a.m. to 6 p.m.",
    "9 a.m. to 5.30 p.m.",
    "10 a.m. to 7 p.m.",
    "9.30 a.m. to 6 p.m.",
    "10 a.m. to 8 p.m.",
]


def _euro(amount: float) -> str:
    return f"€{amount:.2f}" if amount != int(amount) else f"€{int(amount)}"


def _years(n: int) -> str:
    return "1 year" if n == 1 else f"{n} years"


def _other(rng: random.Random, options: list, current):
    return rng.choice([o for o in options if o != current])


class _Fact:
    __slots__ = ("key", "pid", "attr", "old", "new", "fmt")

    def __init__(self, key: str, pid: str, attr: str, old: str, new: str, fmt: dict):
        self.key, self.pid, self.attr, self.old, self.new, self.fmt = key, pid, attr, old, new, fmt

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _kr_company(rng: random.Random, company: str, lines: list[str], towns: list[str]):
    """Facts and passage renderers for one company; returns (facts, passages)."""
    slug = slugify(company)
    people: set[str] = set()
    facts: list[_Fact] = []
    passages: list[tuple[str, str, object]] = []  # (pid, title, render(values) -> text)

    def changes(attr: str) -> bool:
        return rng.random() < KR_CHANGE_P.get(attr, 0.0)

    def fact(pid: str, attr: str, old: str, new_value, fmt: dict) -> str:
        new = new_value() if changes(attr) else old
        key = f"{pid}#{attr}"
        facts.append(_Fact(key, pid, attr, old, new, fmt))
        return key

    plants = [f"the {t} plant" for t in towns[:3]]
    designers = [person(rng, people) for _ in range(8)]
    for line in lines:
        cat, blurb, (plo, phi), (wlo, whi), watts, care, acc, (alo, ahi) = rng.choice(KR_CATEGORIES)
        name = f"{line} {cat}"
        ps = f"{slug}-{slugify(name)}"
        base = {"P": name, "C": company, "acc": acc, "care_passive": care[0], "care_noun": care[1]}
        price = rng.randrange(plo, phi + 1, 10)
        warranty = rng.choice([1, 2, 2, 3])
        n_care = rng.choice(care[3])
        acc_price = rng.randint(alo, ahi)
        k = {}
        k["price"] = fact(
            f"{ps}-price",
            "price",
            _euro(price),
            lambda: _euro(price + rng.choice([-20, -10, 10, 20, 30, 40])),
            base,
        )
        k["warranty"] = fact(
            f"{ps}-price",
            "warranty",
            _years(warranty),
            lambda: _years(warranty + rng.choice([1, 1, 2])),
            base,
        )
        k["launch-year"] = fact(f"{ps}-overview", "launch-year", str(rng.randint(2012, 2023)), None, base)
        k["designer"] = fact(f"{ps}-overview", "designer", rng.choice(designers), None, base)
        plant = rng.choice(plants)
        k["plant"] = fact(f"{ps}-overview", "plant", plant, lambda: _other(rng, plants, plant), base)
        k["weight"] = fact(f"{ps}-specs", "weight", f"{rng.randint(wlo, whi) / 10:.1f} kg", None, base)
        k["power"] = fact(f"{ps}-specs", "power", f"{rng.choice(watts)} watts", None, base)
        cols = sorted(rng.sample(KR_COLOURS, rng.choice([2, 3, 3])), key=KR_COLOURS.index)

        def new_cols(cols=cols):
            extra = [c for c in KR_COLOURS if c not in cols]
            if len(cols) == 3 and rng.random() < 0.5:  # a colour was dropped and another added
                keep = rng.sample(cols, 2)
                return and_list(sorted(keep + [rng.choice(extra)], key=KR_COLOURS.index))
            return and_list(sorted(cols + [rng.choice(extra)], key=KR_COLOURS.index))

        k["colours"] = fact(f"{ps}-specs", "colours", and_list(cols), new_cols, base)
        k["care"] = fact(
            f"{ps}-care",
            "care",
            f"every {n_care} {care[2]}",
            lambda: f"every {_other(rng, care[3], n_care)} {care[2]}",
            base,
        )
        k["accessory"] = fact(
            f"{ps}-accessory",
            "accessory",
            _euro(acc_price),
            lambda: _euro(acc_price + rng.choice([2, 3, 4, 5, 6])),
            base,
        )
        wait = rng.choice([5, 10, 15, 20, 30])
        light = rng.choice(KR_LIGHTS)
        cable = rng.choice(["0.8", "1.0", "1.2", "1.5"])

        passages += [
            (
                f"{ps}-overview",
                f"{name}: overview",
                lambda v, k=k, name=name, blurb=blurb: (
                    f"The {name} is {blurb} from {company}, first launched in {v[k['launch-year']]}. "
                    f"It was designed by {v[k['designer']]} and is assembled at {v[k['plant']]}. "
                    f"{company} sells it through its own stores, its website and a small number of partner retailers."
                ),
            ),
            (
                f"{ps}-price",
                f"{name}: price and warranty",
                lambda v, k=k, name=name: (
                    f"The {name} retails for {v[k['price']]} in {company} stores and online. "
                    f"Every unit is covered by a warranty of {v[k['warranty']]} from the date of purchase, "
                    f"and customers do not need to register the product to claim it."
                ),
            ),
            (
                f"{ps}-specs",
                f"{name}: specifications",
                lambda v, k=k, name=name, cable=cable: (
                    f"The {name} weighs {v[k['weight']]} and draws {v[k['power']]} at full power. "
                    f"It is available in {v[k['colours']]}. "
                    f"The mains cable is {cable} metres long and tucks into a recess under the base."
                ),
            ),
            (
                f"{ps}-care",
                f"{name}: care",
                lambda v, k=k, name=name, care=care: (
                    f"{company} recommends that the {name} is {care[0]} {v[k['care']]}. "
                    f"Wipe the outer housing with a soft cloth and mild detergent only, "
                    f"and never put the base or the cable in water."
                ),
            ),
            (
                f"{ps}-accessory",
                f"{name}: spare parts",
                lambda v, k=k, name=name, acc=acc: (
                    f"A spare {acc} for the {name} costs {v[k['accessory']]} from {company} and fits every "
                    f"production year. Spare parts are usually dispatched within two working days, "
                    f"and fitting instructions are printed inside the box."
                ),
            ),
            (
                f"{ps}-troubleshooting",
                f"{name}: troubleshooting",
                lambda v, name=name, wait=wait, light=light: (
                    f"If the {name} stops in the middle of a cycle, unplug it and wait {wait} minutes before "
                    f"trying again. A {light} light that keeps flashing means the safety cut-out has tripped, "
                    f"and the appliance should be taken to a {company} service centre."
                ),
            ),
        ]

    # company-wide policies
    cb = {"C": company}
    returns = rng.choice([14, 28, 30, 60])
    kr = fact(
        f"{slug}-returns",
        "returns",
        f"{returns} days",
        lambda: f"{_other(rng, [14, 28, 30, 45, 60, 90], returns)} days",
        cb,
    )
    dtime = rng.choice(["2 to 4 working days", "3 to 5 working days", "4 to 6 working days"])
    kt = fact(f"{slug}-delivery", "delivery-time", dtime, None, cb)
    fee = rng.choice([3.95, 4.95, 5.95])
    kf = fact(
        f"{slug}-delivery",
        "delivery-fee",
        _euro(fee),
        lambda: _euro(_other(rng, [3.95, 4.95, 5.95, 6.95], fee)),
        cb,
    )
    thr = rng.choice([40, 50, 60, 75])
    kth = fact(
        f"{slug}-delivery",
        "free-delivery",
        _euro(thr),
        lambda: _euro(_other(rng, [40, 50, 60, 75, 99], thr)),
        cb,
    )
    hours = rng.choice(KR_SUPPORT_HOURS)
    ks = fact(f"{slug}-support", "support-hours", hours, lambda: _other(rng, KR_SUPPORT_HOURS, hours), cb)
    repair = rng.choice([29, 35, 39, 45])
    krp = fact(
        f"{slug}-repairs",
        "repair-fee",
        _euro(repair),
        lambda: _euro(_other(rng, [29, 35, 39, 45, 49], repair)),
        cb,
    )
    pts = rng.choice([1, 2, 3])
    kl = fact(
        f"{slug}-loyalty",
        "loyalty",
        f"{pts} point" + ("s" if pts > 1 else ""),
        lambda: f"{_other(rng, [1, 2, 3, 4], pts)} points".replace("1 points", "1 point"),
        cb,
    )
    kfy = fact(f"{slug}-history", "founded", str(rng.randint(1948, 1996)), None, cb)
    kfo = fact(f"{slug}-history", "founder", person(rng, people), None, cb)
    khq = fact(f"{slug}-history", "headquarters", towns[3], None, cb)
    passages += [
        (
            f"{slug}-returns",
            f"{company} returns policy",
            lambda v: (
                f"Customers can return any {company} product within {v[kr]} of delivery for a full refund. "
                f"Goods must come back unused and in their original packaging, and the refund is paid to the "
                f"card used for the order."
            ),
        ),
        (
            f"{slug}-delivery",
            f"{company} delivery",
            lambda v: (
                f"Standard delivery from {company} takes {v[kt]} and costs {v[kf]}. "
                f"Orders over {v[kth]} are delivered free of charge, and large appliances are carried to "
                f"the room of your choice."
            ),
        ),
        (
            f"{slug}-support",
            f"{company} customer support",
            lambda v: (
                f"The {company} customer support line is staffed from {v[ks]} on weekdays. "
                f"On Saturdays a smaller team answers calls from 9 a.m. to 1 p.m., and the line is closed on "
                f"Sundays and public holidays."
            ),
        ),
        (
            f"{slug}-repairs",
            f"{company} repair service",
            lambda v: (
                f"Repairs outside the warranty period cost a flat fee of {v[krp]} plus parts. "
                f"Most repairs are finished within ten working days, and {company} collects the appliance "
                f"from your home at no extra charge."
            ),
        ),
        (
            f"{slug}-loyalty",
            f"{company} Circle loyalty scheme",
            lambda v: (
                f"Members of the {company} Circle loyalty scheme earn {v[kl]} for every euro they spend. "
                f"Every 500 points can be exchanged for a ten-euro voucher, and points expire two years "
                f"after they were earned."
            ),
        ),
        (
            f"{slug}-recycling",
            f"{company} recycling service",
            lambda v: (
                f"When {company} delivers a new appliance, the driver can take the old one away for recycling "
                f"free of charge. Mention this when ordering so that the van has room, and make sure the old "
                f"appliance is unplugged and empty."
            ),
        ),
        (
            f"{slug}-history",
            f"{company} history",
            lambda v: (
                f"{company} was founded in {v[kfy]} by {v[kfo]} in the town of {v[khq]}, where its head "
                f"office still stands. The company began by repairing radios and made its first kettle a "
                f"few years later."
            ),
        ),
    ]
    for role, resp, prev in KR_ROLES:
        pid = f"{slug}-{slugify(role)}"
        old_name = person(rng, people)
        joined = rng.randint(2005, 2018)
        kp = fact(pid, "people", old_name, lambda: person(rng, people), {"C": company, "role": role})
        new_joined = rng.randint(joined + 1, 2024)

        def render(
            v, kp=kp, role=role, resp=resp, prev=prev, old_name=old_name, joined=joined, new_joined=new_joined
        ):
            name = v[kp]
            first = name.split()[0]
            year = joined if name == old_name else new_joined
            return (
                f"{name} is the {role} at {company}. {first} joined the company in {year} and "
                f"is responsible for {resp}. Before that, {first} spent several years working for {prev}."
            )

        passages.append((pid, f"{company} {role}", render))
    for town in towns[4:10]:
        pid = f"{slug}-store-{slugify(town)}"
        street = f"{rng.choice(KR_LINE_NAMES + towns)} {rng.choice(KR_STREET_KINDS)}"
        sh = rng.choice(KR_STORE_HOURS)
        fmt = {"C": company, "town": town}
        kh = fact(pid, "store-hours", sh, lambda: _other(rng, KR_STORE_HOURS, sh), fmt)
        km = fact(pid, "store-manager", person(rng, people), lambda: person(rng, people), fmt)
        staff = rng.randint(4, 15)
        passages.append(
            (
                pid,
                f"{company} store, {town}",
                lambda v, kh=kh, km=km, town=town, street=street, staff=staff: (
                    f"The {company} store in {town} is on {street}. From Monday to Saturday it opens from "
                    f"{v[kh]}, and it is closed on Sundays. The store is managed by {v[km]}, who leads a team "
                    f"of {staff} staff."
                ),
            )
        )
    return facts, passages


def build_knowledge_refresh(rng: random.Random, scale: int, seed: int) -> dict:
    taken: set[str] = set(KR_COLOURS)
    corpus, corpus_old, train, test = [], [], [], []
    for ci in range(scale):
        # Names are drawn company by company and each company has its own stream,
        # so the shipped company (index 0) is identical at every scale.
        (company,) = unique_words(rng, 1, taken, [KR_FIRST_COMPANY] if ci == 0 else None)
        lines = unique_words(rng, KR_PRODUCTS_PER_COMPANY, taken, KR_LINE_NAMES if ci == 0 else None)
        towns = unique_words(rng, 10, taken)
        crng = random.Random(f"knowledge-refresh:{seed}:company:{ci}")
        facts, passages = _kr_company(crng, company, lines, towns)
        old = {f.key: f.old for f in facts}
        new = {f.key: f.new for f in facts}
        for pid, title, render in passages:
            corpus.append({"id": pid, "title": title, "text": render(new)})
            corpus_old.append({"id": pid, "title": title, "text": render(old)})
        # Every company-, policy-, people- and store-level fact is tested; product facts
        # fill the rest so that KR_CHANGED_SHARE of the test facts changed.
        always = [f for f in facts if KR_QUESTIONS[f.attr][0] != "product"]
        product = [f for f in facts if KR_QUESTIONS[f.attr][0] == "product"]
        n_changed = max(0, round(KR_TEST_PER_COMPANY * KR_CHANGED_SHARE) - sum(f.changed for f in always))
        n_unchanged = KR_TEST_PER_COMPANY - len(always) - n_changed
        changed = [f for f in product if f.changed]
        unchanged = [f for f in product if not f.changed]
        chosen = always + crng.sample(changed, n_changed) + crng.sample(unchanged, n_unchanged)
        chosen_keys = {f.key for f in chosen}
        rest = [f for f in facts if f.key not in chosen_keys]
        extra = crng.sample(rest, min(len(rest), KR_EXTRA_TRAIN_PER_COMPANY))
        texts_new = {p["id"]: p["text"] for p in corpus[-len(passages) :]}
        texts_old = {p["id"]: p["text"] for p in corpus_old[-len(passages) :]}
        for f in chosen + extra:
            group, train_t, test_t = KR_QUESTIONS[f.attr]
            tags = [group, f.attr, "changed" if f.changed else "unchanged"]
            assert in_one_sentence(f.old, texts_old[f.pid]), (f.key, f.old)
            assert in_one_sentence(f.new, texts_new[f.pid]), (f.key, f.new)
            n_train = 2 if f.key in chosen_keys else 1
            for t in crng.sample(train_t, n_train):
                train.append(case(t.format(**f.fmt), f.old, [f.pid], tags))
            if f.key in chosen_keys:
                test.append(case(crng.choice(test_t).format(**f.fmt), f.new, [f.pid], tags))
    return splits(rng, corpus, train, test, **{"corpus_old.jsonl": corpus_old})
