#!/usr/bin/env python3
"""Deterministic generator for the shipped evaluation suites.

Usage:
    python suites/generate.py [--out DIR] [--seed 13] [--scale N] [--suite NAME ...]

Writes, for each selected suite, ``DIR/<suite>/{suite.yaml,corpus.jsonl,
train.jsonl,test.jsonl}`` (knowledge-refresh also gets ``corpus_old.jsonl``).
The READMEs next to the data are written by hand, except their train/test overlap section, which
``suites/overlap_report.py`` writes with harness/overlap.py (the verdict's overlap warning).

Every suite holds answers out of its train split (``hold_out``): at least 60% of its test references
never occur among its train references, and each test case is tagged ``seen`` or ``unseen``.

All content is fictional and original to this project.  Standard library
only; the output is byte-identical for the same ``--seed`` and ``--scale``.
``--scale N`` multiplies the number of fictional entities (gardens,
companies, products, apps) while keeping the templates, so the character
of a suite does not change.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from collections import Counter
from pathlib import Path

DEFAULT_SEED = 13
SUITES = ("smoke", "knowledge-refresh", "house-style", "support-docs")
UNANSWERABLE = "The documents do not say."

# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------

_PUNCT = re.compile(r"[%s]" % re.escape(string.punctuation + "’‘“”–—€£°²"))
_WS = re.compile(r"\s+")
# Same rule as harness/text.py: split at . ! ? followed by a capital or a digit.
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


_ARTICLES = re.compile(r"\b(a|an|the)\b")


def norm_reference(text: str) -> str:
    """SQuAD normalisation, the same rule as harness/text.py's normalise: lower case, ASCII punctuation
    dropped, articles dropped, whitespace collapsed. A test reference is `seen` when its normalised form
    equals a train reference's (the rule of harness/overlap.py)."""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def norm_question(text: str) -> str:
    """Lower-case, strip punctuation, collapse whitespace (same rule as the tests)."""
    return _WS.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text.strip()) if s.strip()]


def word_count(text: str) -> int:
    return len(text.split())


def check_passage(pid: str, text: str) -> None:
    n_sent = len(sentences(text))
    n_words = word_count(text)
    if not (1 <= n_sent <= 4 and 30 <= n_words <= 90):
        raise AssertionError(f"passage {pid}: {n_sent} sentences, {n_words} words: {text!r}")


def in_one_sentence(ref: str, text: str) -> bool:
    return any(ref in s for s in sentences(text))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")


def _yaml_str(text: str) -> str:
    """Plain YAML scalar when safe, else a JSON string (a valid double-quoted YAML scalar)."""
    if ": " in text or " #" in text or text[:1] in "!&*-?[]{}|>@`\"'%,#" or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def write_suite_yaml(path: Path, meta: dict) -> None:
    lines = [
        f"name: {meta['name']}",
        f"version: {meta['version']}",
        f"description: {_yaml_str(meta['description'])}",
        "corpus: corpus.jsonl",
        "train: train.jsonl",
        "test: test.jsonl",
        f"k: {meta['k']}",
    ]
    if meta.get("judge"):
        inner = ", ".join(f'{key}: "{value}"' for key, value in meta["judge"].items())
        lines.append(f"judge: {{{inner}}}")
    if meta.get("abstention"):
        lines.append(f"abstention: {_yaml_str(meta['abstention'])}")
    if meta.get("format"):
        # single-quoted YAML keeps a regular expression's backslashes as they are
        quoted = meta["format"].replace("'", "''")
        lines.append(f"format: '{quoted}'")
    lines.append("metrics:")
    for metric, policy in meta["metrics"]:
        inner = ", ".join(f"{key}: {value}" for key, value in policy)
        lines.append(f"  {metric}: {{{inner}}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def number_rows(rows: list[dict], prefix: str) -> list[dict]:
    width = max(4, len(str(len(rows))))
    out = []
    for i, row in enumerate(rows, 1):
        out.append({"id": f"{prefix}-{i:0{width}d}", **row})
    return out


def case(question: str, reference: str, gold_ids: list[str], tags: list[str]) -> dict:
    return {
        "question": question,
        "reference": reference,
        "gold_ids": list(gold_ids),
        "tags": sorted(set(tags)),
    }


def validate(
    name: str, corpus: list[dict], train: list[dict], test: list[dict], span_required: bool = True
) -> None:
    """Generator-side sanity checks; raises AssertionError on a template bug."""
    ids = [p["id"] for p in corpus]
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{name}: duplicate passage ids")
    by_id = {p["id"]: p for p in corpus}
    for p in corpus:
        check_passage(p["id"], p["text"])
    for split, rows in (("train", train), ("test", test)):
        rid = [r["id"] for r in rows]
        if len(rid) != len(set(rid)):
            raise AssertionError(f"{name}/{split}: duplicate ids")
        for r in rows:
            for g in r["gold_ids"]:
                if g not in by_id:
                    raise AssertionError(f"{name}/{split} {r['id']}: unknown gold id {g}")
            if not r["gold_ids"] and r["reference"] != UNANSWERABLE:
                raise AssertionError(f"{name}/{split} {r['id']}: answerable row without gold")
    unseen = sum("unseen" in r["tags"] for r in test)
    if 100 * unseen < UNSEEN_PERCENT * len(test):
        raise AssertionError(f"{name}: only {unseen} of {len(test)} test answers are unseen in train")
    train_q = {norm_question(r["question"]) for r in train}
    for r in test:
        if norm_question(r["question"]) in train_q:
            raise AssertionError(f"{name}: test question also in train: {r['question']!r}")


# Percentage of each suite's test cases whose reference must never occur among its train references.
UNSEEN_PERCENT = 60


def hold_out(name: str, seed: int, data: dict) -> dict:
    """Take answers out of the train split until UNSEEN_PERCENT of the test cases are `unseen`, and tag
    every test case `seen` or `unseen`.

    Whole answers are held out (every train row whose normalised reference is a held-out test reference is
    dropped), drawn in a seeded random order, so a held-out answer cannot come back through another fact
    that happens to share its value. The abstention answer is never held out: it is learnt, not recalled.
    """
    train, test = data["train"], data["test"]
    train_refs = {norm_reference(row["reference"]) for row in train}
    per_answer = Counter(norm_reference(row["reference"]) for row in test)
    unseen = sum(count for ref, count in per_answer.items() if ref not in train_refs)
    target = (UNSEEN_PERCENT * len(test) + 99) // 100  # rounded up, in integers
    candidates = sorted(
        ref for ref in per_answer if ref in train_refs and ref != norm_reference(UNANSWERABLE)
    )
    random.Random(f"{name}:{seed}:hold-out").shuffle(candidates)
    held: set[str] = set()
    for ref in candidates:
        if unseen >= target:
            break
        held.add(ref)
        unseen += per_answer[ref]
    kept = [
        {k: v for k, v in row.items() if k != "id"}
        for row in train
        if norm_reference(row["reference"]) not in held
    ]
    kept_refs = {norm_reference(row["reference"]) for row in kept}
    tagged = []
    for row in test:
        mark = "seen" if norm_reference(row["reference"]) in kept_refs else "unseen"
        tagged.append({**row, "tags": sorted({*row["tags"], mark})})
    return {**data, "train": number_rows(kept, "tr"), "test": tagged}


def shuffled(rng: random.Random, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


# Syllable-built invented words, used to grow suites with --scale.
_ONSETS = [
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
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "oa", "y"]
_MIDS = ["l", "n", "r", "m", "st", "th", "ll", "nd", "rd", "lt"]
_ENDS = [
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
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_MIDS) + rng.choice(_ENDS)


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


# The LLM judge of the suites that carry judged metrics (the offline profile leaves them out).
GEMINI_JUDGE = {"model": "gemini:gemini-2.5-flash", "embeddings": "gemini:gemini-embedding-001"}
JUDGED_METRICS: list[tuple[str, list[tuple[str, float]]]] = [
    ("faithfulness", [("max_drop", 0.05)]),
    ("answer_relevancy", []),
    ("context_precision", []),
    ("context_recall", [("max_drop", 0.05)]),
    ("factual_correctness", [("max_drop", 0.05)]),
]


def metrics_block(kind: str) -> list[tuple[str, list[tuple[str, float]]]]:
    """Gate policies per suite kind.  Every metric that exists appears once."""
    if kind == "smoke":
        return [
            ("token_f1", [("max_drop", 0.05)]),
            ("answer_recall", [("max_drop", 0.05)]),
            ("answer_tokens", []),  # no better direction: shown, never gated
            ("rouge_1", [("max_drop", 0.05)]),
            ("rouge_2", []),
            ("rouge_l", [("max_drop", 0.05)]),
            ("exact_match", []),
            ("hit_at_k", [("min", 0.5), ("max_drop", 0.05)]),
            ("recall_at_k", []),
            ("mrr", [("max_drop", 0.05)]),
            ("minilm_faithfulness", []),
            ("minilm_answer_relevancy", []),
            ("latency_s", []),
        ]
    if kind == "knowledge-refresh":
        return [
            ("token_f1", [("max_drop", 0.03)]),
            ("answer_recall", [("max_drop", 0.03)]),
            ("answer_tokens", []),  # no better direction: shown, never gated
            ("rouge_1", [("max_drop", 0.03)]),
            ("rouge_2", []),
            ("rouge_l", [("max_drop", 0.03)]),
            ("exact_match", [("max_drop", 0.03)]),
            ("hit_at_k", [("min", 0.6), ("max_drop", 0.02)]),
            ("recall_at_k", [("max_drop", 0.02)]),
            ("mrr", [("max_drop", 0.02)]),
            ("minilm_faithfulness", [("max_drop", 0.05)]),
            ("minilm_answer_relevancy", [("max_drop", 0.05)]),
            ("latency_s", []),
        ]
    if kind == "house-style":
        return [
            ("token_f1", [("max_drop", 0.03)]),
            ("answer_recall", [("max_drop", 0.03)]),
            ("answer_tokens", []),  # no better direction: shown, never gated
            ("rouge_1", [("max_drop", 0.03)]),
            ("rouge_2", [("max_drop", 0.05)]),
            ("rouge_l", [("max_drop", 0.03)]),
            ("exact_match", [("max_drop", 0.03)]),
            ("format_match", [("max_drop", 0.03)]),
            ("hit_at_k", [("max_drop", 0.02)]),
            ("recall_at_k", []),
            ("mrr", [("max_drop", 0.02)]),
            ("minilm_faithfulness", []),
            ("minilm_answer_relevancy", [("max_drop", 0.05)]),
            ("latency_s", []),
        ]
    if kind == "support-docs":
        return [
            ("token_f1", [("max_drop", 0.03)]),
            ("answer_recall", [("max_drop", 0.03)]),
            ("answer_tokens", []),  # no better direction: shown, never gated
            ("rouge_1", [("max_drop", 0.03)]),
            ("rouge_2", []),
            ("rouge_l", [("max_drop", 0.03)]),
            ("exact_match", [("max_drop", 0.03)]),
            ("hit_at_k", [("min", 0.5), ("max_drop", 0.02)]),
            ("recall_at_k", [("max_drop", 0.03)]),
            ("mrr", [("max_drop", 0.02)]),
            ("minilm_faithfulness", [("max_drop", 0.05)]),
            ("minilm_answer_relevancy", [("max_drop", 0.05)]),
            ("abstain_correct", [("max_drop", 0.1)]),
            ("abstain_false", [("max_drop", 0.05)]),
            ("latency_s", []),
        ]
    raise KeyError(kind)


# --------------------------------------------------------------------------
# smoke: one small community garden (scale N adds more gardens)
# --------------------------------------------------------------------------

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
    train = number_rows(shuffled(order, train), "tr")
    test = number_rows(shuffled(order, test), "t")
    return {
        "meta": {
            "name": "smoke",
            "version": 2,
            "description": "Tiny community-garden suite that every CI run can afford; checks the pipeline end to end.",
            "k": 5,
            "metrics": metrics_block("smoke"),
        },
        "corpus": corpus,
        "train": train,
        "test": test,
        "extra": {},
    }


# --------------------------------------------------------------------------
# shared name lists (all invented for this project)
# --------------------------------------------------------------------------

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


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------
# knowledge-refresh: an appliance maker, old vs current snapshot
# --------------------------------------------------------------------------

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
    train = number_rows(shuffled(rng, train), "tr")
    test = number_rows(shuffled(rng, test), "t")
    return {
        "meta": {
            "name": "knowledge-refresh",
            "version": 3,
            "description": "Appliance-maker facts where training saw an older snapshot; tests whether "
            "systems answer with the current values.",
            "k": 5,
            "metrics": metrics_block("knowledge-refresh") + JUDGED_METRICS,
            "judge": GEMINI_JUDGE,
        },
        "corpus": corpus,
        "train": train,
        "test": test,
        "extra": {"corpus_old.jsonl": corpus_old},
    }


# --------------------------------------------------------------------------
# house-style: outdoor-gear documents, answers in a fixed house format
# --------------------------------------------------------------------------

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
            head = rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_MIDS)
            tail = rng.choice(_ENDS)
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
    train = number_rows(shuffled(rng, train), "tr")
    test = number_rows(shuffled(rng, test), "t")
    return {
        "meta": {
            "name": "house-style",
            "version": 2,
            "description": "Outdoor-gear documents with inconsistent product spellings; answers must follow "
            "the house format 'Answer: <value with unit>. Source: <product> <document>'.",
            "k": 5,
            "metrics": metrics_block("house-style"),
            "format": HS_FORMAT,
        },
        "corpus": corpus,
        "train": train,
        "test": test,
        "extra": {},
    }


# --------------------------------------------------------------------------
# support-docs: help-centre articles for a family of productivity apps
# --------------------------------------------------------------------------

SD_VENDOR = "Quarrybank Labs"
SD_APPS = [
    ("Tidewell", "team notes"),
    ("Ledgerlark", "invoicing"),
    ("Pinfold", "project boards"),
    ("Sparrowdesk", "customer helpdesk"),
    ("Kilnworks", "file sync"),
    ("Quaybook", "room booking"),
]
SD_APP_KINDS = [
    "team notes",
    "invoicing",
    "project boards",
    "customer helpdesk",
    "file sync",
    "room booking",
    "time tracking",
    "shared calendars",
    "form building",
    "expense claims",
]
SD_TEST = {"single-hop": 95, "multi-hop": 30, "unanswerable": 25}
SD_EXTRA_SINGLE_TRAIN = 150
SD_EXTRA_MULTI_TRAIN = 120
SD_EXTRA_QUESTIONS = 2  # train questions per train-only single-hop fact
SD_UNANSWERABLE_TRAIN = 60

SD_TIERS = [
    ("Starter", "Team", "Business"),
    ("Solo", "Crew", "Fleet"),
    ("Basic", "Plus", "Premier"),
    ("Seed", "Grow", "Harvest"),
    ("Spark", "Flame", "Blaze"),
    ("Pebble", "Boulder", "Summit"),
]
SD_PRICES = [(3, 5, 6), (8, 9, 11, 12), (15, 18, 19, 24)]
SD_STORAGE = [("5 GB", "10 GB", "20 GB"), ("50 GB", "100 GB", "200 GB"), ("500 GB", "1 TB", "2 TB")]
SD_MEMBERS = [(5, 10, 15), (25, 50, 75), (250, 500, 1000)]
SD_HISTORY = [("7 days", "14 days", "30 days"), ("90 days", "180 days"), ("1 year", "3 years")]

SD_FEATURES = [
    (
        "Audit log",
        "audit logging",
        "Security",
        "records every sign-in, permission change and deletion so that admins can review them later",
    ),
    (
        "Single sign-on",
        "single sign-on",
        "Security",
        "lets staff sign in with the identity provider their company already uses",
    ),
    (
        "IP allow-listing",
        "IP allow-listing",
        "Security",
        "blocks sign-ins from networks that are not on an approved list",
    ),
    (
        "Custom domains",
        "custom domains",
        "Sharing",
        "serves shared pages from a web address that your organisation owns",
    ),
    (
        "Guest access",
        "guest access",
        "Sharing",
        "lets people outside the workspace view and comment on items you choose",
    ),
    (
        "Scheduled exports",
        "scheduled exports",
        "Data",
        "writes a full copy of the workspace to cloud storage every night",
    ),
    ("Webhooks", "webhooks", "Data", "sends a short message to another system whenever an item changes"),
    (
        "Approval workflows",
        "approval workflows",
        "Workflow",
        "routes items to a named reviewer before anyone else can see them",
    ),
    (
        "Shared templates",
        "shared templates",
        "Workflow",
        "lets admins publish ready-made layouts that the whole team can start from",
    ),
]
SD_MENU_ROOTS = ["Settings", "Admin console", "Workspace settings"]

# cause key -> (error meaning, problem noun phrase, fix title, fix (the reference), fix template)
SD_CAUSES = [
    (
        "token",
        "the sync token has expired",
        "an expired sync token",
        "Renewing an expired sync token",
        "sign out, wait 30 seconds and sign back in",
        "To renew an expired sync token in {app}, {fix}. The app then asks the server for a fresh token "
        "and carries on syncing where it stopped, so no work is lost.",
    ),
    (
        "storage",
        "the workspace has used all of its storage",
        "a full workspace",
        "When the workspace is full",
        "empty the trash or move old files to the archive",
        "If a workspace in {app} has used all of its storage, {fix}. Items in the trash still count "
        "towards the limit until the trash is emptied, and archived files do not count at all.",
    ),
    (
        "upload",
        "the file is larger than the upload limit",
        "an oversized file",
        "Uploading very large files",
        "split the file into smaller parts or share a link to it instead",
        "When a file is too big for {app}, {fix}. Compressed folders count at their compressed size, "
        "so zipping a folder of images often brings it under the limit.",
    ),
    (
        "invite",
        "the invitation link has already been used",
        "a used invitation link",
        "Reusing invitations",
        "ask a workspace admin to send a fresh invitation",
        "Each {app} invitation link works only once. If yours has already been used, {fix}; "
        "the old link cannot be reactivated, even by support staff.",
    ),
    (
        "cookies",
        "the browser is blocking third-party cookies",
        "blocked third-party cookies",
        "Browsers that block cookies",
        "allow cookies for the sign-in page or use the desktop app",
        "Some browsers stop the {app} sign-in window from finishing its work. If third-party cookies "
        "are blocked, {fix}. Private browsing windows often block cookies without saying so.",
    ),
    (
        "export",
        "an export is still being prepared",
        "an export that is not ready yet",
        "Waiting for exports",
        "wait for the email that says the export is ready",
        "Large {app} exports are built in the background and can take a while. If the export is not "
        "ready yet, {fix}, then download it from the link in that message within seven days.",
    ),
    (
        "seat",
        "an admin has removed your seat",
        "a removed seat",
        "Losing access after a seat change",
        "ask an admin to assign you a seat again",
        "If your {app} seat was removed during a licence change, your items stay in the workspace. "
        "To get back in, {fix}; your settings and drafts will be exactly as you left them.",
    ),
    (
        "conflict",
        "two people changed the same item while offline",
        "an offline edit conflict",
        "Resolving offline conflicts",
        "open the item and pick which version to keep",
        "When two people edit the same {app} item offline, both versions are saved when they reconnect. "
        "To resolve the conflict, {fix}; the other version stays in the history.",
    ),
    (
        "apikey",
        "the API key has been rotated",
        "a rotated API key",
        "After rotating an API key",
        "paste the new key into every connected script",
        "In {app}, rotating an API key switches the old key off at once. After a rotation, {fix} "
        "and restart any scheduled jobs that used the old key.",
    ),
]

SD_SERVICES = [
    "Chatterline",
    "Brightcal",
    "Inkpost",
    "Stackyard",
    "Paywhistle",
    "Mapleform",
    "Lanternmail",
    "Cobbleboard",
]

SD_GENERAL = {
    "upload-limit": (
        "Upload limits",
        "File uploads in {app} are limited to {value} per file. "
        "Images are shown as previews, and other files appear as attachments that can be "
        "downloaded by anyone with access to the item.",
        ["50 MB", "100 MB", "250 MB", "500 MB", "2 GB"],
    ),
    "platforms": (
        "Desktop apps",
        "Desktop versions of {app} are available for {value}. "
        "They sync in the background and keep working offline, then upload any changes once "
        "the connection comes back; mobile apps are covered in a separate article.",
        ["Windows and macOS", "Windows, macOS and Linux", "macOS only", "Windows only"],
    ),
    "data-region": (
        "Where your data lives",
        "All {app} workspace data is stored in {value}. "
        "Backups are kept in a second data centre in the same region and are encrypted with "
        "keys that {vendor} rotates on a regular schedule.",
        ["the European Union", "Canada", "Australia", "the United Kingdom", "Switzerland"],
    ),
    "shortcut": (
        "Keyboard shortcuts",
        "Press {value} anywhere in {app} to open the command palette. "
        "From there you can jump to any item, run an action or change a setting without "
        "touching the mouse or leaving the page you are on.",
        ["Ctrl+K", "Ctrl+P", "Ctrl+Shift+Space", "Alt+J", "Ctrl+/"],
    ),
}

# attr -> (topic tag, train templates, test templates)
SD_SINGLE_Q = {
    "plan-price": (
        "plans",
        ["How much does the {app} {plan} plan cost?", "What is the per-user price of {app} {plan}?"],
        [
            "What will I pay per user each month for {app} {plan}?",
            "What is the monthly price of the {plan} plan in {app}?",
        ],
    ),
    "plan-storage": (
        "plans",
        [
            "How much storage comes with {app} {plan}?",
            "What is the storage allowance of the {app} {plan} plan?",
        ],
        [
            "How much space does a workspace on {app} {plan} get?",
            "What storage limit applies to the {plan} plan of {app}?",
        ],
    ),
    "plan-members": (
        "plans",
        [
            "How many members can a workspace on {app} {plan} have?",
            "What is the member limit on {app} {plan}?",
        ],
        [
            "Up to how many people can join a {app} workspace on the {plan} plan?",
            "What is the maximum team size for {app} {plan}?",
        ],
    ),
    "plan-history": (
        "plans",
        [
            "How long does {app} {plan} keep version history?",
            "What is the version history period on the {app} {plan} plan?",
        ],
        [
            "For how long can I restore old versions on {app} {plan}?",
            "How far back does version history go in {app} {plan}?",
        ],
    ),
    "feature-plan": (
        "features",
        ["Which {app} plan do I need for {feature}?", "From which {app} plan is {feature} included?"],
        [
            "What is the lowest {app} plan that offers {feature}?",
            "On which plan does {app} start to include {feature}?",
        ],
    ),
    "feature-menu": (
        "features",
        ["Where do I switch on {feature} in {app}?", "Which settings page enables {feature} in {app}?"],
        ["How do I find the {feature} setting in {app}?", "Where is {feature} turned on in {app}?"],
    ),
    "error-meaning": (
        "errors",
        ["What does error {code} mean in {app}?", "What causes the {app} error {code}?"],
        ["Why does {app} show error {code}?", "What is {app} telling me with error {code}?"],
    ),
    "fix": (
        "troubleshooting",
        ["How do I fix {problem} in {app}?", "What is the remedy for {problem} in {app}?"],
        ["What steps resolve {problem} in {app}?", "How can I deal with {problem} in {app}?"],
    ),
    "integration-plan": (
        "integrations",
        [
            "Which {app} plan is required for the {service} integration?",
            "What plan must I be on to connect {service} to {app}?",
        ],
        [
            "What {app} subscription do I need to link {service}?",
            "Which plan unlocks the {service} connection in {app}?",
        ],
    ),
    "integration-sync": (
        "integrations",
        [
            "How often does the {service} integration sync with {app}?",
            "What is the sync interval between {app} and {service}?",
        ],
        [
            "How frequently does {app} exchange data with {service}?",
            "At what interval does {service} update in {app}?",
        ],
    ),
    "upload-limit": (
        "general",
        ["What is the maximum upload size in {app}?", "How large can a file uploaded to {app} be?"],
        ["What is the per-file size limit for {app} uploads?", "How big a file will {app} accept?"],
    ),
    "platforms": (
        "general",
        [
            "Which desktop systems does {app} have apps for?",
            "On which operating systems does the {app} desktop app run?",
        ],
        ["What computers can I install {app} on?", "For which desktop platforms is {app} available?"],
    ),
    "data-region": (
        "general",
        ["Where is {app} workspace data stored?", "In which region does {app} keep customer data?"],
        ["Where are the {app} data centres located?", "Which region hosts the data of a {app} workspace?"],
    ),
    "shortcut": (
        "general",
        [
            "What keyboard shortcut opens the {app} command palette?",
            "Which keys open the command palette in {app}?",
        ],
        [
            "How do I bring up the command palette in {app} from the keyboard?",
            "What is the shortcut for the {app} command palette?",
        ],
    ),
}

# multi-hop: bridge kind + target plan attribute -> (train templates, test templates)
SD_MULTI_Q = {
    ("feature", "plan-storage"): (
        ["How much storage do I get on the cheapest {app} plan with {feature}?"],
        ["What storage allowance comes with the entry-level {app} plan that has {feature}?"],
    ),
    ("feature", "plan-members"): (
        ["How many members fit on the lowest {app} plan offering {feature}?"],
        ["What member limit applies on the first {app} plan to include {feature}?"],
    ),
    ("feature", "plan-history"): (
        ["How long is version history kept on the cheapest {app} plan with {feature}?"],
        ["How far back can I restore versions on the entry {app} plan that offers {feature}?"],
    ),
    ("feature", "plan-price"): (
        ["What does the cheapest {app} plan with {feature} cost?"],
        ["What is the per-user price of the lowest {app} plan including {feature}?"],
    ),
    ("integration", "plan-storage"): (
        ["How much storage comes with the {app} plan needed for {service}?"],
        ["What storage limit does the {app} plan required by the {service} integration have?"],
    ),
    ("integration", "plan-members"): (
        ["How many members are allowed on the {app} plan that {service} requires?"],
        ["What member cap comes with the {app} plan you need for {service}?"],
    ),
    ("integration", "plan-history"): (
        ["How long is version history on the {app} plan needed to connect {service}?"],
        ["What history period does the {app} plan required for {service} keep?"],
    ),
    ("integration", "plan-price"): (
        ["What does the {app} plan that {service} needs cost per user?"],
        ["How much is the {app} plan that unlocks the {service} integration?"],
    ),
    ("error", "fix"): (
        ["How do I get rid of error {code} in {app}?"],
        ["What should I do when {app} shows error {code}?"],
    ),
}

SD_UNANSWERABLE_TRAIN_Q = [
    "Does {app} have a dark theme?",
    "What is the refund policy for annual {app} subscriptions?",
    "Which payment cards does {app} accept?",
    "How many time zones can {app} display at once?",
    "Can {app} send two-factor codes by text message?",
    "Does {app} work with screen readers?",
    "How many workspaces can one {app} account own?",
    "What is the carbon footprint of {app}?",
    "Does {app} publish a public roadmap?",
    "Where is the {vendor} office that builds {app}?",
    "Can I print {app} items straight to paper?",
    "Is {app} certified for medical records?",
    "What was the first version of {app} called?",
    "How many customers use {app}?",
]
SD_UNANSWERABLE_TEST_Q = [
    "Does {app} offer a student discount?",
    "What uptime does {app} guarantee?",
    "Which languages is the {app} interface translated into?",
    "Can {app} be self-hosted on my own servers?",
    "How many API calls per minute does {app} allow?",
    "Is phone support included with {app}?",
    "What is the longest workspace name {app} accepts?",
    "Who founded the company behind {app}?",
    "What happens to my {app} data after I cancel?",
    "Does {app} have a browser extension?",
]


def _sd_app(rng: random.Random, app: str, kind: str, tiers: tuple[str, str, str], used_codes: set[str]):
    """Passages and facts for one app."""
    aslug = slugify(app)
    passages: list[dict] = []
    single: list[dict] = []  # {pid, attr, ref, fmt}
    multi: list[dict] = []  # {gold: [bridge, target], bridge, attr, ref, fmt, target_key}

    def add(pid, title, text):
        passages.append({"id": pid, "title": f"{app} help: {title}", "text": text})
        return text

    plans = {}
    for t, plan in enumerate(tiers):
        pid = f"{aslug}-plan-{slugify(plan)}"
        vals = {
            "plan-price": f"€{rng.choice(SD_PRICES[t])} per user per month",
            "plan-storage": rng.choice(SD_STORAGE[t]),
            "plan-members": f"{rng.choice(SD_MEMBERS[t])} members",
            "plan-history": rng.choice(SD_HISTORY[t]),
        }
        add(
            pid,
            f"the {plan} plan",
            f"The {app} {plan} plan costs {vals['plan-price']}, billed monthly or yearly. "
            f"Each workspace on {plan} gets {vals['plan-storage']} of storage and room for up to "
            f"{vals['plan-members']}. Version history on this plan goes back {vals['plan-history']}.",
        )
        plans[plan] = (pid, vals)
        for attr, ref in vals.items():
            single.append(
                {
                    "pid": pid,
                    "attr": attr,
                    "ref": ref,
                    "key": f"{pid}#{attr}",
                    "fmt": {"app": app, "plan": plan},
                }
            )
    root = rng.choice(SD_MENU_ROOTS)
    for fname, fnoun, section, desc in rng.sample(SD_FEATURES, 6):
        pid = f"{aslug}-feature-{slugify(fname)}"
        plan = tiers[rng.choice([0, 1, 1, 2, 2])]
        menu = f"{root} > {section} > {fname}"
        add(
            pid,
            fname,
            f"The {fnoun} feature {desc}. In {app} it is available on the {plan} plan and above. "
            f"To switch it on, a workspace admin opens {menu} and saves the change.",
        )
        fmt = {"app": app, "feature": fnoun}
        single.append(
            {
                "pid": pid,
                "attr": "feature-plan",
                "ref": f"the {plan} plan",
                "key": f"{pid}#feature-plan",
                "fmt": fmt,
            }
        )
        single.append(
            {"pid": pid, "attr": "feature-menu", "ref": menu, "key": f"{pid}#feature-menu", "fmt": fmt}
        )
        tpid, tvals = plans[plan]
        for attr, ref in tvals.items():
            multi.append(
                {
                    "gold": [pid, tpid],
                    "bridge": "feature",
                    "attr": attr,
                    "ref": ref,
                    "fmt": fmt,
                    "target_key": f"{tpid}#{attr}",
                }
            )
    for service in rng.sample(SD_SERVICES, 3):
        pid = f"{aslug}-integration-{slugify(service)}"
        plan = tiers[rng.choice([0, 1, 1, 2])]
        sync = f"every {rng.choice([5, 10, 15, 30, 60])} minutes"
        add(
            pid,
            f"connecting {service}",
            f"The {service} integration for {app} requires the {plan} plan. "
            f"Once connected, it syncs {sync} and can be disconnected at any time by the admin who "
            f"set it up, without losing any data on either side.",
        )
        fmt = {"app": app, "service": service}
        single.append(
            {
                "pid": pid,
                "attr": "integration-plan",
                "ref": f"the {plan} plan",
                "key": f"{pid}#integration-plan",
                "fmt": fmt,
            }
        )
        single.append(
            {
                "pid": pid,
                "attr": "integration-sync",
                "ref": sync,
                "key": f"{pid}#integration-sync",
                "fmt": fmt,
            }
        )
        tpid, tvals = plans[plan]
        for attr, ref in tvals.items():
            multi.append(
                {
                    "gold": [pid, tpid],
                    "bridge": "integration",
                    "attr": attr,
                    "ref": ref,
                    "fmt": fmt,
                    "target_key": f"{tpid}#{attr}",
                }
            )
    for key, meaning, problem, title, fix, template in rng.sample(SD_CAUSES, 5):
        while True:
            code = f"E-{rng.randint(100, 999)}"
            if code not in used_codes:
                used_codes.add(code)
                break
        epid = f"{aslug}-error-{code.lower()}"
        fpid = f"{aslug}-fix-{key}"
        add(
            epid,
            f"error {code}",
            f"Error {code} in {app} means that {meaning}. The message appears as a red banner at the top "
            f"of the window, and nothing in the workspace is deleted while it is showing.",
        )
        add(fpid, title, template.format(app=app, fix=fix))
        single.append(
            {
                "pid": epid,
                "attr": "error-meaning",
                "ref": meaning,
                "key": f"{epid}#error-meaning",
                "fmt": {"app": app, "code": code},
            }
        )
        single.append(
            {
                "pid": fpid,
                "attr": "fix",
                "ref": fix,
                "key": f"{fpid}#fix",
                "fmt": {"app": app, "problem": problem},
            }
        )
        multi.append(
            {
                "gold": [epid, fpid],
                "bridge": "error",
                "attr": "fix",
                "ref": fix,
                "fmt": {"app": app, "code": code},
                "target_key": f"{fpid}#fix",
            }
        )
    for attr, (title, template, options) in SD_GENERAL.items():
        pid = f"{aslug}-{attr}"
        value = rng.choice(options)
        add(pid, title, template.format(app=app, value=value, vendor=SD_VENDOR))
        single.append({"pid": pid, "attr": attr, "ref": value, "key": f"{pid}#{attr}", "fmt": {"app": app}})
    return passages, single, multi


def build_support_docs(rng: random.Random, scale: int, seed: int) -> dict:
    taken: set[str] = set(SD_SERVICES)
    corpus, train, test = [], [], []
    for unit in range(scale):
        urng = random.Random(f"support-docs:{seed}:unit:{unit}")
        used_codes: set[str] = set()  # error codes are unique within a unit (apps differ across units)
        apps = []
        for i in range(len(SD_APPS)):
            if unit == 0:
                name, kind = SD_APPS[i]
                taken.add(name)
            else:
                (name,) = unique_words(rng, 1, taken)
                kind = rng.choice(SD_APP_KINDS)
            apps.append((name, kind))
        single, multi = [], []
        for (app, kind), tiers in zip(apps, urng.sample(SD_TIERS, len(apps)), strict=True):
            passages, s, m = _sd_app(urng, app, kind, tiers, used_codes)
            corpus.extend(passages)
            single.extend(s)
            multi.extend(m)
        by_pid = {p["id"]: p["text"] for p in corpus}
        for f in single:
            assert in_one_sentence(f["ref"], by_pid[f["pid"]]), (f["pid"], f["ref"])
        for m in multi:
            assert in_one_sentence(m["ref"], by_pid[m["gold"][1]]), (m["gold"], m["ref"])

        # multi-hop test items; the fact each one ends on is taught in train unless hold_out() takes it out
        test_multi = urng.sample(multi, SD_TEST["multi-hop"])
        test_multi_ids = {id(m) for m in test_multi}
        rest_multi = [m for m in multi if id(m) not in test_multi_ids]
        train_multi = test_multi + urng.sample(rest_multi, min(len(rest_multi), SD_EXTRA_MULTI_TRAIN))
        needed = {m["target_key"] for m in test_multi}
        test_single = urng.sample(single, SD_TEST["single-hop"])
        test_single_keys = {f["key"] for f in test_single}
        rest_single = [f for f in single if f["key"] not in test_single_keys]
        extra_single = [f for f in rest_single if f["key"] in needed]
        others = [f for f in rest_single if f["key"] not in needed]
        extra_single += urng.sample(others, min(len(others), SD_EXTRA_SINGLE_TRAIN))

        for f in test_single:
            topic, train_t, test_t = SD_SINGLE_Q[f["attr"]]
            tags = ["single-hop", topic]
            for t in urng.sample(train_t, 2):
                train.append(case(t.format(**f["fmt"]), f["ref"], [f["pid"]], tags))
            test.append(case(urng.choice(test_t).format(**f["fmt"]), f["ref"], [f["pid"]], tags))
        for f in extra_single:
            topic, train_t, _ = SD_SINGLE_Q[f["attr"]]
            for t in urng.sample(train_t, min(len(train_t), SD_EXTRA_QUESTIONS)):
                train.append(case(t.format(**f["fmt"]), f["ref"], [f["pid"]], ["single-hop", topic]))
        for m in train_multi:
            train_t, test_t = SD_MULTI_Q[(m["bridge"], m["attr"])]
            tags = ["multi-hop", SD_SINGLE_Q[m["attr"]][0]]
            train.append(case(urng.choice(train_t).format(**m["fmt"]), m["ref"], m["gold"], tags))
            if id(m) in test_multi_ids:
                test.append(case(urng.choice(test_t).format(**m["fmt"]), m["ref"], m["gold"], tags))
        fmts = [{"app": app, "vendor": SD_VENDOR} for app, _ in apps]
        unans_train = [t.format(**f) for f in fmts for t in SD_UNANSWERABLE_TRAIN_Q]
        unans_test = [t.format(**f) for f in fmts for t in SD_UNANSWERABLE_TEST_Q]
        for q in urng.sample(unans_train, SD_UNANSWERABLE_TRAIN):
            train.append(case(q, UNANSWERABLE, [], ["unanswerable"]))
        for q in urng.sample(unans_test, SD_TEST["unanswerable"]):
            test.append(case(q, UNANSWERABLE, [], ["unanswerable"]))
    train = number_rows(shuffled(rng, train), "tr")
    test = number_rows(shuffled(rng, test), "t")
    return {
        "meta": {
            "name": "support-docs",
            "version": 3,
            "description": "Help-centre articles for six productivity apps; single-passage, two-passage "
            "and unanswerable questions.",
            "k": 5,
            "metrics": metrics_block("support-docs") + JUDGED_METRICS,
            "judge": GEMINI_JUDGE,
            "abstention": UNANSWERABLE,
        },
        "corpus": corpus,
        "train": train,
        "test": test,
        "extra": {},
    }


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

BUILDERS = {
    "smoke": build_smoke,
    "knowledge-refresh": build_knowledge_refresh,
    "house-style": build_house_style,
    "support-docs": build_support_docs,
}


def generate(name: str, seed: int, scale: int) -> dict:
    # One independent stream per suite, so selecting suites does not change output.
    rng = random.Random(f"{name}:{seed}")
    data = hold_out(name, seed, BUILDERS[name](rng, scale, seed))
    validate(name, data["corpus"], data["train"], data["test"])
    return data


def write(data: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_suite_yaml(out_dir / "suite.yaml", data["meta"])
    write_jsonl(out_dir / "corpus.jsonl", data["corpus"])
    write_jsonl(out_dir / "train.jsonl", data["train"])
    write_jsonl(out_dir / "test.jsonl", data["test"])
    for filename, rows in sorted(data["extra"].items()):
        write_jsonl(out_dir / filename, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: the suites/ folder next to this script)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 13)")
    parser.add_argument(
        "--scale", type=int, default=1, help="multiply the number of fictional entities (1 = shipped size)"
    )
    parser.add_argument(
        "--suite", nargs="+", choices=sorted(BUILDERS), default=None, help="suites to write (default: all)"
    )
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be >= 1")
    names = args.suite or [s for s in SUITES if s in BUILDERS]
    for name in names:
        data = generate(name, args.seed, args.scale)
        write(data, args.out / name)
        print(
            f"{name}: {len(data['corpus'])} passages, {len(data['train'])} train, "
            f"{len(data['test'])} test -> {args.out / name}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
