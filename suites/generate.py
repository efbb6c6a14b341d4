#!/usr/bin/env python3
"""Deterministic generator for the shipped evaluation suites.

Usage:
    python suites/generate.py [--out DIR] [--seed 13] [--scale N] [--suite NAME ...]

Writes, for each selected suite, ``DIR/<suite>/{suite.yaml,corpus.jsonl,
train.jsonl,test.jsonl}`` (knowledge-refresh also gets ``corpus_old.jsonl``).
The READMEs next to the data are written by hand and are not touched.

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


def write_suite_yaml(path: Path, meta: dict) -> None:
    lines = [
        f"name: {meta['name']}",
        f"version: {meta['version']}",
        f"description: {meta['description']}",
        "corpus: corpus.jsonl",
        "train: train.jsonl",
        "test: test.jsonl",
        f"k: {meta['k']}",
        "metrics:",
    ]
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


def validate(name: str, corpus: list[dict], train: list[dict], test: list[dict],
             span_required: bool = True) -> None:
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
    train_q = {norm_question(r["question"]) for r in train}
    for r in test:
        if norm_question(r["question"]) in train_q:
            raise AssertionError(f"{name}: test question also in train: {r['question']!r}")


def shuffled(rng: random.Random, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


# Syllable-built invented words, used to grow suites with --scale.
_ONSETS = ["B", "Br", "C", "Cr", "D", "F", "G", "Gl", "H", "K", "L", "M", "N", "P",
           "Pr", "Qu", "R", "S", "Sk", "St", "T", "Tr", "V", "W", "Wr", "Th"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "oa", "y"]
_MIDS = ["l", "n", "r", "m", "st", "th", "ll", "nd", "rd", "lt"]
_ENDS = ["en", "ow", "ick", "ane", "ore", "ith", "ell", "ard", "ley", "mere",
         "wick", "ton", "by", "ford", "holt", "wyn", "dale", "ster"]


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


def metrics_block(kind: str) -> list[tuple[str, list[tuple[str, float]]]]:
    """Gate policies per suite kind.  Every metric that exists appears once."""
    if kind == "smoke":
        return [
            ("token_f1", [("max_drop", 0.05)]),
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
            ("rouge_1", [("max_drop", 0.03)]),
            ("rouge_2", [("max_drop", 0.05)]),
            ("rouge_l", [("max_drop", 0.03)]),
            ("exact_match", [("max_drop", 0.03)]),
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
            ("rouge_1", [("max_drop", 0.03)]),
            ("rouge_2", []),
            ("rouge_l", [("max_drop", 0.03)]),
            ("exact_match", [("max_drop", 0.03)]),
            ("hit_at_k", [("min", 0.5), ("max_drop", 0.02)]),
            ("recall_at_k", [("max_drop", 0.03)]),
            ("mrr", [("max_drop", 0.02)]),
            ("minilm_faithfulness", [("max_drop", 0.05)]),
            ("minilm_answer_relevancy", [("max_drop", 0.05)]),
            ("latency_s", []),
        ]
    raise KeyError(kind)


# --------------------------------------------------------------------------
# smoke: one small community garden (scale N adds more gardens)
# --------------------------------------------------------------------------

# Each fact: slug, title, passage text, reference, two train questions, one
# test question, topic tag.  "{g}" is the garden's name.
SMOKE_FACTS = [
    ("hours", "Opening hours",
     "The {g} Community Garden opens its gates at 7 a.m. and locks them at dusk every day "
     "from March to October. In winter the garden is open on Saturday mornings only. "
     "Keyholders may come in outside these hours to water their plots.",
     "7 a.m.",
     ["When does the {g} garden unlock its gates in the morning?",
      "At what hour can members first get into the {g} garden in summer?"],
     "What time do the gates of the {g} Community Garden open?", "access"),
    ("plot-fee", "Plot rent",
     "Rent for a standard raised-bed plot at {g} is 45 crowns a year, payable every February. "
     "Half-size plots cost 25 crowns. Members aged seventy or over pay nothing for their first plot.",
     "45 crowns a year",
     ["What is the yearly rent for a full-size raised bed at {g}?",
      "How much do {g} members pay each year for a standard plot?"],
     "How much does a standard plot at {g} cost?", "fees"),
    ("plot-size", "Plot sizes",
     "Every standard plot at {g} measures 3 by 4 metres and is edged with untreated larch boards. "
     "Plot holders may not move the edging or build sheds higher than the fence line.",
     "3 by 4 metres",
     ["What are the dimensions of a regular {g} plot?",
      "How large is one standard bed in the {g} garden?"],
     "How big is a standard plot at {g}?", "plots"),
    ("coordinator", "Garden coordinator",
     "The {g} garden coordinator is Ilse Marwood, who has looked after the site since 2019. "
     "She handles plot allocations, keys and disputes, and holds an open hour in the meeting hut "
     "on Wednesday evenings.",
     "Ilse Marwood",
     ["Who is in charge of plot allocations at {g}?",
      "Which person coordinates the {g} garden?"],
     "Who is the coordinator of the {g} Community Garden?", "people"),
    ("waitlist", "Waiting list",
     "New applicants for a {g} plot currently wait about 14 months before one becomes free. "
     "Applicants who volunteer at two work mornings move up the list by one place, and returning members are not given priority.",
     "about 14 months",
     ["How long is the wait for a new plot at {g}?",
      "Roughly how many months does a {g} applicant wait for a bed?"],
     "How long does it take to get a plot at {g}?", "plots"),
    ("compost", "Compost bays",
     "The three compost bays at {g} are turned and emptied on the first Sunday of each month. "
     "Only uncooked plant material may go in the bays; weeds with seed heads belong in the green bin.",
     "the first Sunday of each month",
     ["On which day are the {g} compost bays emptied?",
      "When do volunteers turn the compost at {g}?"],
     "How often are the compost bays at {g} emptied?", "compost"),
    ("water", "Watering",
     "Watering cans at {g} must be filled from the blue rain tanks near the north gate. "
     "The mains tap is reserved for the seedling house and may not be used for plots.",
     "the blue rain tanks near the north gate",
     ["Where should {g} members fill their watering cans?",
      "Which water source is meant for plots at {g}?"],
     "Where do I get water for my plot at {g}?", "water"),
    ("hoses", "Hose rule",
     "To save water, hoses are not allowed on any {g} plot between June and August. "
     "Outside those months a hose may be used for up to twenty minutes per plot per day.",
     "between June and August",
     ["During which months are hoses banned at {g}?",
      "When is hose use forbidden on {g} plots?"],
     "In which period can't I use a hose at {g}?", "water"),
    ("tools", "Shared tools",
     "The shared spades, forks and wheelbarrows at {g} live in the green shed. "
     "Anyone taking a tool must sign it out in the red ledger that hangs inside the door.",
     "the red ledger",
     ["Where do members record which shared tool they took at {g}?",
      "What must a {g} gardener sign when borrowing a wheelbarrow?"],
     "Where do I sign out a tool at {g}?", "tools"),
    ("dogs", "Dogs",
     "Dogs are welcome at {g} on a short lead and only on the central gravel path. "
     "They must not enter plots, the orchard or the children's area, and owners must clear up after them at once.",
     "on a short lead",
     ["Under what condition may dogs come into {g}?",
      "How must a dog be kept when visiting {g}?"],
     "Can I bring my dog to {g}?", "access"),
    ("bees", "Beehives",
     "The garden keeps four beehives behind the {g} orchard, looked after by two trained volunteers. "
     "Visitors should stay outside the rope line around the hives, especially on warm afternoons when the colonies are busiest.",
     "four beehives",
     ["How many hives are kept at {g}?",
      "What number of beehives stand behind the {g} orchard?"],
     "How many beehives does {g} have?", "bees"),
    ("honey", "Honey sales",
     "Honey from the {g} hives is sold at the harvest fair for 6 crowns a jar. "
     "Money from the honey pays for new plants in the shared beds and for replacing worn hive frames.",
     "6 crowns a jar",
     ["What is the price of {g} honey at the fair?",
      "How much does one jar of {g} honey sell for?"],
     "How much is a jar of honey from {g}?", "bees"),
    ("fair", "Harvest fair",
     "The {g} harvest fair takes place on the last Saturday of September. "
     "Plot holders run stalls for vegetables, jams and cuttings, and the children's plot hosts a pumpkin contest in the afternoon.",
     "the last Saturday of September",
     ["When is the {g} harvest fair held?",
      "On what date does {g} hold its autumn fair?"],
     "What day is the harvest fair at {g}?", "events"),
    ("work-hours", "Volunteer hours",
     "Every {g} plot holder must give 10 hours of volunteer work per season. "
     "Hours are logged on the board in the meeting hut, and members who fall short pay a small top-up fee.",
     "10 hours",
     ["How many volunteer hours does each {g} member owe per season?",
      "What is the seasonal work commitment for {g} plot holders?"],
     "How much volunteering is required at {g}?", "rules"),
    ("slugs", "Pest control",
     "Chemical pesticides are banned at {g}. Against slugs, only wool pellets and beer traps are permitted, "
     "and netting must be checked daily so that birds and hedgehogs do not get caught.",
     "wool pellets and beer traps",
     ["What may {g} gardeners use against slugs?",
      "Which slug controls are allowed on {g} plots?"],
     "How am I allowed to deal with slugs at {g}?", "rules"),
    ("bonfires", "Woody waste",
     "Bonfires are forbidden at {g} at all times. Woody prunings go to the chipping pile by the east fence, "
     "which is shredded twice a year and spread on the paths.",
     "the chipping pile by the east fence",
     ["Where should {g} members put woody prunings?",
      "What happens to branches cut at {g} instead of burning them?"],
     "Where do I take branches and prunings at {g}?", "compost"),
    ("seed-swap", "Seed swap",
     "The yearly {g} seed swap is held in the meeting hut on the second Thursday of March. "
     "Members bring labelled envelopes of saved seed and take home the same number.",
     "the second Thursday of March",
     ["When does the {g} seed swap happen?",
      "On which day is the {g} seed exchange?"],
     "What date is the seed swap at {g}?", "events"),
    ("keys", "Gate keys",
     "A replacement gate key for {g} costs 12 crowns and is issued by the coordinator. "
     "Lost keys must be reported within a week so the padlock code can be changed.",
     "12 crowns",
     ["What does a new {g} gate key cost?",
      "How much do I pay the coordinator for a replacement {g} key?"],
     "How much is a replacement key at {g}?", "fees"),
    ("inspections", "Plot inspections",
     "The {g} committee inspects every plot twice a year, in May and in August. "
     "Plots that are more than half overgrown receive a written warning and four weeks to recover.",
     "in May and in August",
     ["In which months are {g} plots checked?",
      "When does the {g} committee walk round the plots?"],
     "When are plot inspections at {g}?", "rules"),
    ("founded", "History",
     "{g} Community Garden was founded in 1987 on the site of an old brickworks. "
     "Early members dug out rubble by hand, and some of the original bricks still line the orchard path.",
     "1987",
     ["In what year did {g} Community Garden start?",
      "When was {g} set up on the old brickworks site?"],
     "When was {g} Community Garden founded?", "history"),
]

# Passages with no question of their own; several are deliberate near-misses.
SMOKE_DISTRACTORS = [
    ("committee", "Committee meetings",
     "The {g} committee meets on the second Tuesday of each month in the meeting hut. "
     "Any member may attend, and agenda items must reach the secretary a week in advance."),
    ("children", "Children's plot",
     "The children's plot at {g} is 2 by 2 metres and is planted by the local primary school. "
     "Adults may help with watering during the school holidays but should leave the harvest to the pupils."),
    ("seedlings", "Seedling house",
     "The heated seedling house at {g} has twelve shelves that members can book for a month at a time. "
     "It is the only place where the mains tap may be used, and the door must be shut at night."),
    ("orchard", "Orchard",
     "The {g} orchard holds nine apple trees, three pears and a quince. "
     "Fruit is shared among everyone who helps at the winter pruning morning in February, and windfalls may be collected by anyone."),
    ("pond", "Wildlife pond",
     "A small wildlife pond sits in the south-west corner of {g}. "
     "Frogs and newts breed there each spring, so members are asked not to clear the reeds or cut back the irises before July."),
    ("parking", "Parking",
     "There is no car park at {g}; members usually park on Mill Row and walk the last two hundred metres. "
     "Bicycles can be locked to the rack beside the north gate."),
    ("newsletter", "Newsletter",
     "The {g} newsletter comes out four times a year and is pinned to the noticeboard as well as emailed. "
     "Members are invited to send in recipes, plot photos and tips on saving seed."),
    ("accessible", "Accessible beds",
     "Two raised beds at waist height near the north gate of {g} are kept for members who use wheelchairs "
     "or cannot kneel. They are allocated first, ahead of the general waiting list."),
    ("rats", "Rats",
     "If you see rats at {g}, tell the coordinator rather than setting traps yourself. "
     "Keeping compost bays closed and not leaving bread for birds are the best ways to keep them away."),
    ("leaving", "Giving up a plot",
     "Members who want to give up a {g} plot should tell the coordinator by the end of January. "
     "Rent is not refunded, but any shed or frame left in good condition may be passed on to the next holder."),
]

SMOKE_FIRST_GARDEN = "Fernhollow"


def build_smoke(rng: random.Random, scale: int) -> dict:
    gardens = unique_words(rng, scale, set(), [SMOKE_FIRST_GARDEN])
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
            corpus.append({"id": f"{slug}-{key}", "title": f"{g}: {title}", "text": text.format(g=g)})
    corpus = sorted(corpus, key=lambda p: p["id"])
    train = number_rows(shuffled(rng, train), "tr")
    test = number_rows(shuffled(rng, test), "t")
    return {
        "meta": {
            "name": "smoke",
            "version": 1,
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
# driver
# --------------------------------------------------------------------------

BUILDERS = {
    "smoke": build_smoke,
}


def generate(name: str, seed: int, scale: int) -> dict:
    # One independent stream per suite, so selecting suites does not change output.
    rng = random.Random(f"{name}:{seed}:{scale}")
    data = BUILDERS[name](rng, scale)
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
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder (default: the suites/ folder next to this script)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 13)")
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply the number of fictional entities (1 = shipped size)")
    parser.add_argument("--suite", nargs="+", choices=sorted(BUILDERS), default=None,
                        help="suites to write (default: all)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be >= 1")
    names = args.suite or [s for s in SUITES if s in BUILDERS]
    for name in names:
        data = generate(name, args.seed, args.scale)
        write(data, args.out / name)
        print(f"{name}: {len(data['corpus'])} passages, {len(data['train'])} train, "
              f"{len(data['test'])} test -> {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
