"""Builder of support-docs: help-centre articles for a family of productivity apps, with
single-passage, two-passage (a bridge passage, then the answer's) and unanswerable questions.

Longer than 300 lines because it is mostly data: the SD_* tables (plans, features, error causes,
question templates) and the article templates inside _sd_app; the building code itself is short.
"""

# The templates are prose lines (E501).
# ruff: noqa: E501

from __future__ import annotations

import random

from .common import UNANSWERABLE, case, in_one_sentence, slugify, splits
from .names import unique_words

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
    return splits(rng, corpus, train, test)
