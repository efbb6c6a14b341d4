"""python: systems: the user's function, class or LangChain Runnable, resolved when its YAML is read,
answered under the guarded runtime, held to its declared kind, and re-asked when its code changes."""

import itertools
import textwrap
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.cli import main
from harness.llm.usage import LEDGER, spent_since
from harness.runner import answer_cases
from harness.suite import load_suite
from harness.system import Answer, load_system_spec
from tests.external_helpers import quick_smoke, system_file

_NAMES = itertools.count()

USER_CODE = """
import dataclasses
import httpx
from langchain_core.documents import Document

FLAKY_SEEN = set()


def plain(question):
    return "closed-book answer"


def with_case(question, case):
    return {"answer": case["id"] + " " + ",".join(sorted(case)), "contexts": []}


def strings(question):
    return {
        "answer": "beds",
        "contexts": [
            "Two raised beds at waist height near the north gate of Fernhollow are kept for members who use "
            "wheelchairs or cannot kneel. They are allocated first, ahead of the general waiting list.",
            "four beehives behind the   Fernhollow orchard",
            "a passage from some other collection",
        ],
    }


def docs(question):
    found = [Document(page_content="anything at all", id="fernhollow-bees")]
    return {"input": question, "context": found, "answer": "bees"}


@dataclasses.dataclass
class Reply:
    answer: str
    contexts: list


def as_object(question):
    return Reply("an object", [{"id": "fernhollow-bees", "text": "hives"}])


def counted(question):  # a chain that knows what its model call spent
    return {"answer": "counted", "contexts": [], "usage": {"input_tokens": 70, "output_tokens": 30}}


async def as_coroutine(question):
    return "awaited"


def boom(question):
    raise ValueError("no luck for " + question[:10])


def flaky(question):
    if question not in FLAKY_SEEN:  # the first try of each case times out: retried, then answered
        FLAKY_SEEN.add(question)
        raise httpx.ConnectTimeout("the backend was slow")
    return {"answer": "second try", "contexts": []}


class Trained:
    built = 0

    def __init__(self):
        Trained.built += 1
        self.corpus, self.train = [], []

    def index(self, corpus):
        self.corpus = corpus

    def prepare(self, train_cases):
        self.train = train_cases

    def answer(self, question):
        note = f"{Trained.built} {len(self.corpus)} {len(self.train)} {sorted(self.train[0])[:3]}"
        return {"answer": note, "contexts": [self.corpus[0]]}
"""


def user_module(folder: Path, code: str = USER_CODE) -> str:
    """Write the user's module beside the systems/ folder (the project root); a fresh name each time."""
    name = f"user_system_{next(_NAMES)}"
    (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return name


def python_system(folder: Path, target: str, kind: str = "rag", extra: str = "") -> Path:
    return system_file(
        folder, "mine", f"name: mine\nkind: {kind}\ngenerator: {{model: 'python:{target}'{extra}}}\n"
    )


def answers(system: Path, suite: Path, cache: Cache | None = None) -> list[Answer]:
    found, _, _ = answer_cases(
        load_suite(suite), load_system_spec(system), cache or Cache(enabled=False), workers=1, batch_size=8
    )
    return found


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return quick_smoke(tmp_path)


def test_each_reply_shape_becomes_an_answer_held_to_the_kind(tmp_path: Path, suite: Path) -> None:
    module = user_module(tmp_path)

    def first(target: str, kind: str = "rag") -> Answer:
        return answers(python_system(tmp_path, f"{module}:{target}", kind), suite)[0]

    closed = first("plain", "base")
    assert closed.text == "closed-book answer" and closed.contexts is None and closed.error is None
    # The case the system sees: its id, question and tags, never the reference or gold ids.
    assert first("with_case").text == "t-0001 id,question,tags"
    matched = first("strings").contexts
    assert matched is not None
    assert [(p.id, p.source_id) for p in matched] == [
        ("fernhollow-accessible", "fernhollow-accessible"),  # a whole passage
        ("fernhollow-bees", "fernhollow-bees"),  # a part of one, whatever its spacing
        ("context-3", "context-3"),  # from no passage of the suite: a miss
    ]
    documents = first("docs")
    assert documents.text == "bees" and [p.id for p in documents.contexts or ()] == ["fernhollow-bees"]
    assert [p.source_id for p in first("as_object").contexts or ()] == ["fernhollow-bees"]
    assert first("as_coroutine", "base").text == "awaited"

    assert "names no contexts" in (first("plain", "rag").error or "")
    assert "kind 'base' is closed-book, but the system returned 3 contexts" in (
        first("strings", "base").error or ""
    )


def test_an_exception_is_a_failed_case_with_its_reason_and_transient_errors_are_retried(
    tmp_path: Path, suite: Path
) -> None:
    module = user_module(tmp_path)
    failed = answers(python_system(tmp_path, f"{module}:boom"), suite)
    assert len(failed) == 20 and all(answer.error for answer in failed)
    assert failed[0].error is not None
    assert "ValueError: no luck for How am I a" in failed[0].error
    assert "after 1 attempt" in failed[0].error and f"at {module}.py:" in failed[0].error

    retried = answers(python_system(tmp_path, f"{module}:flaky"), suite)
    assert all(answer.error is None and answer.text == "second try" for answer in retried)


def test_a_class_is_built_once_and_given_the_corpus_and_the_train_split(tmp_path: Path, suite: Path) -> None:
    module = user_module(tmp_path)
    found = answers(python_system(tmp_path, f"{module}:Trained", "hybrid", ", concurrency: 3"), suite)
    corpus, train = len(load_suite(suite).corpus), len(load_suite(suite).train)
    assert {answer.text for answer in found} == {f"1 {corpus} {train} ['answer_spans', 'gold_ids', 'id']"}
    assert all(answer.contexts and answer.contexts[0].doc_id == "" for answer in found)


def test_a_runnable_from_the_offline_parts_is_invoked_with_its_input_key(tmp_path: Path, suite: Path) -> None:
    code = f"""
    from langchain_core.documents import Document
    from langchain_core.runnables import RunnableLambda

    from examples.offline_parts import BM25Retriever, closest_sentence
    from harness.suite import load_suite

    corpus = load_suite({str(suite)!r}).corpus
    retriever = BM25Retriever.from_documents([Document(page_content=p.text, id=p.id) for p in corpus])


    def read(inputs):
        found = retriever.invoke(inputs["input"])
        return {{"answer": closest_sentence(inputs["input"], found), "context": found}}


    chain = RunnableLambda(read)
    """
    module = user_module(tmp_path, code)
    found = answers(python_system(tmp_path, f"{module}:chain", extra=", input_key: input"), suite)
    gold = {case.id: case.gold_ids for case in load_suite(suite).test}
    hits = [any(p.source_id in gold[a.case_id] for p in a.contexts or ()) for a in found]
    assert all(answer.error is None and answer.text for answer in found)
    assert sum(hits) >= 12  # BM25 finds the gold passage of most smoke questions in its top 3


def test_tokens_the_reply_reports_are_recorded_and_priced(
    tmp_path: Path, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = user_module(tmp_path)
    ref = f"python:{module}:counted"
    prices = tmp_path / "models.yaml"
    prices.write_text(f"models:\n  {ref}: {{price: {{input: 2.0, output: 10.0}}}}\n", encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(prices))
    before = LEDGER.snapshot()
    found = answers(python_system(tmp_path, f"{module}:counted"), suite)
    assert all(answer.usage == {"prompt_tokens": 70, "completion_tokens": 30} for answer in found)
    spent = spent_since(before)[(ref, "system:mine")]
    assert (spent.calls, spent.requests, spent.input_tokens, spent.output_tokens) == (20, 0, 1400, 600)
    assert spent.cost_usd == pytest.approx((1400 * 2.0 + 600 * 10.0) / 1e6)


def test_an_edit_of_the_users_code_changes_the_answer_key(tmp_path: Path, suite: Path) -> None:
    module = user_module(tmp_path)
    system = python_system(tmp_path, f"{module}:plain", "base")
    cache = Cache(tmp_path / "answer-cache")
    before = load_system_spec(system).hash
    _, first, _ = answer_cases(load_suite(suite), load_system_spec(system), cache)
    _, again, _ = answer_cases(load_suite(suite), load_system_spec(system), cache)
    assert (first.computed, again.computed, again.cached) == (20, 0, 20)
    path = tmp_path / f"{module}.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# tuned the prompt\n", encoding="utf-8")
    assert load_system_spec(system).hash != before
    _, edited, _ = answer_cases(load_suite(suite), load_system_spec(system), cache)
    assert edited.computed == 20  # the old code's answers are not reused


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        (
            "{m}:nothing_here",
            USER_CODE,
            "key 'generator.model': module '{m}' has no 'nothing_here' (it has: ",
        ),
        ("no_such_module_xyz:answer", USER_CODE, "no module named 'no_such_module_xyz'"),
        (
            "{m}:two",
            "def two(a, b, c):\n    return a\n",
            "two(a, b, c) must take (question) or (question, case)",
        ),
        (
            "{m}:Needs",
            "class Needs:\n    def __init__(self, x):\n        pass\n",
            "Needs(x) must take no arguments",
        ),
        ("{m}:Mute", "class Mute:\n    pass\n", "class Mute has no answer(question), invoke or __call__"),
        (
            "{m}:f",
            "raise RuntimeError('bad config')\n",
            "importing '{m}' failed at {m}.py:1: RuntimeError: bad",
        ),
        ("{m}", USER_CODE, "should be python:<module>:<callable>"),
        ("{m}:VALUE", "VALUE = 3\n", "'VALUE' is a int, not a function, class or Runnable"),
    ],
)
def test_a_bad_target_is_one_line_naming_the_file_and_key_and_exit_2(
    tmp_path: Path, target: str, code: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = user_module(tmp_path, code)
    system = python_system(tmp_path, target.format(m=module))
    assert main(["systems", "validate", str(system)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(system) in err and message.format(m=module) in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("retriever: {top_k: 3}\n", "key 'retriever': a python: system retrieves by itself"),
        ("finetune: {method: reader}\n", "key 'finetune': a python: system trains by itself"),
        ("http: {answer: data.answer}\n", "key 'http': only for http: systems"),
    ],
)
def test_harness_side_blocks_are_refused_for_a_python_system(
    tmp_path: Path, extra: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = user_module(tmp_path)
    system = python_system(tmp_path, f"{module}:plain")
    system.write_text(system.read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert main(["systems", "validate", str(system)]) == 2
    assert message in capsys.readouterr().err
