"""The Gemini peer, driven by the real langchain-google-genai clients, so the behaviours other tests and the
benchmark rely on (error classes, timeouts, rate window, parseable ragas replies) are pinned here."""

import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from google.genai.errors import ClientError, ServerError
from langchain_google_genai import ChatGoogleGenerativeAI, GoogleGenerativeAIEmbeddings
from langchain_google_genai._common import GoogleGenerativeAIError
from langchain_google_genai.chat_models import (
    ChatGoogleGenerativeAIError,
    GoogleAPIError,
    GoogleRateLimitError,
)
from ragas.metrics._faithfulness import (
    NLIStatementInput,
    NLIStatementPrompt,
    StatementGeneratorInput,
    StatementGeneratorPrompt,
)

from tests.local_server import GeminiPeer

MODEL = "gemini-2.5-flash"
EMBED_MODEL = "gemini-embedding-001"


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) <= before


@pytest.fixture
def peer() -> Iterator[GeminiPeer]:
    with GeminiPeer(scripts={"hello": "scripted reply"}) as p:
        yield p


def chat(peer: GeminiPeer, timeout: float = 5.0, api_key: str | None = None) -> ChatGoogleGenerativeAI:
    return ChatGoogleGenerativeAI(
        model=MODEL,
        api_key=api_key or peer.api_key,
        base_url=peer.url,
        max_retries=1,
        timeout=timeout,
        temperature=0,
    )


def embedder(peer: GeminiPeer) -> GoogleGenerativeAIEmbeddings:
    return GoogleGenerativeAIEmbeddings(
        model=EMBED_MODEL, api_key=peer.api_key, base_url=peer.url, client_args={"timeout": 5}
    )


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_invoke_returns_the_scripted_text_and_token_counts(peer: GeminiPeer) -> None:
    reply = chat(peer).invoke("hello")
    assert reply.content == "scripted reply"
    # ceil(chars / 4): "hello" -> 2, "scripted reply" -> 4
    assert reply.usage_metadata is not None
    assert (reply.usage_metadata["input_tokens"], reply.usage_metadata["output_tokens"]) == (2, 4)
    assert reply.usage_metadata["total_tokens"] == 6
    [seen] = peer.accepted(MODEL)
    assert (seen.method, seen.prompt, seen.fault) == ("generateContent", "hello", None)
    assert not seen.key_in_query


def test_unscripted_prompt_gets_the_first_sentence_of_passage_one(peer: GeminiPeer) -> None:
    prompt = "Answer from the passages.\n[1] Paris is the capital. It is big.\n[2] Rome.\nQuestion: capital?"
    assert chat(peer).invoke(prompt).content == "Paris is the capital."
    assert chat(peer).invoke("What is the capital?").content == "I do not know."


def test_embeddings_have_the_configured_width_and_rank_similar_texts_higher(peer: GeminiPeer) -> None:
    docs = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Quarterly revenue rose ten percent."]
    vectors = embedder(peer).embed_documents(docs)
    query = embedder(peer).embed_query("cat on a mat")
    assert [len(v) for v in [*vectors, query]] == [peer.embed_dim] * 4
    assert all(math.isclose(cosine(v, v), 1.0) for v in vectors)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert cosine(query, vectors[0]) > cosine(query, vectors[2])
    assert embedder(peer).embed_query("cat on a mat") == query
    # embed_query goes through batchEmbedContents too, with a single text
    assert {r.method for r in peer.log()} == {"batchEmbedContents"}
    assert [r.n_texts for r in peer.log()] == [3, 1, 1]


def test_wrong_key_is_refused_without_echoing_it(peer: GeminiPeer) -> None:
    secret = "not-the-key-4711"
    with pytest.raises(ChatGoogleGenerativeAIError) as caught:
        chat(peer, api_key=secret).invoke("hello")
    assert "API key not valid" in str(caught.value)
    assert isinstance(caught.value.__cause__, ClientError) and caught.value.__cause__.code == 400
    assert secret not in str(caught.value) and secret not in str(caught.value.__cause__.details)
    assert [r.status for r in peer.log()] == [400]


def test_rate_limit_fault_carries_retry_info(peer: GeminiPeer) -> None:
    peer.fail("429")
    with pytest.raises(GoogleRateLimitError) as caught:
        chat(peer).invoke("hello")
    cause = caught.value.__cause__
    assert isinstance(cause, ClientError) and cause.code == 429
    delays = [d["retryDelay"] for d in cause.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert delays == ["1s"]
    assert chat(peer).invoke("hello").content == "scripted reply"  # the fault was used up


def test_server_error_fault(peer: GeminiPeer) -> None:
    peer.fail("500")
    with pytest.raises(GoogleAPIError) as caught:
        chat(peer).invoke("hello")
    assert caught.value.code == 500 and caught.value.details["error"]["status"] == "INTERNAL"


def test_slow_fault_trips_the_client_timeout(peer: GeminiPeer) -> None:
    peer.fail("slow", slow_s=2.0)
    with pytest.raises(httpx.TimeoutException):
        chat(peer, timeout=0.5).invoke("hello")
    assert [r.fault for r in peer.log()] == ["slow"]


def test_malformed_fault_is_ordinary_text(peer: GeminiPeer) -> None:
    peer.fail("malformed")
    assert str(chat(peer).invoke("hello").content).startswith("Sure! Here are the statements")


def test_empty_fault_gives_an_empty_message(peer: GeminiPeer) -> None:
    # With no candidates the client logs "Gemini produced an empty response" and returns AIMessage("")
    # carrying the prompt feedback; it does not raise, and usage_metadata is left unset.
    peer.fail("empty")
    reply = chat(peer).invoke("hello")
    assert reply.content == "" and reply.usage_metadata is None
    assert reply.response_metadata["prompt_feedback"]["block_reason"] == "SAFETY"


def test_faults_hit_only_matching_prompts_and_embeddings(peer: GeminiPeer) -> None:
    peer.fail("500", times=2, match="boom")
    assert chat(peer).invoke("hello").content == "scripted reply"
    with pytest.raises(GoogleGenerativeAIError) as caught:  # the embeddings class wraps the SDK error
        embedder(peer).embed_documents(["boom goes the dynamite"])
    assert isinstance(caught.value.__cause__, ServerError)
    with pytest.raises(GoogleAPIError):
        chat(peer).invoke("hello boom")
    assert chat(peer).invoke("hello boom").content == "scripted reply"
    assert [r.fault for r in peer.log()] == [None, "500", "500", None]


def test_rate_window_refuses_beyond_the_limit() -> None:
    # One request per 10 s window: wide enough that three calls always land in it, even on a busy machine.
    with GeminiPeer(rpm=6, window_s=10.0) as peer:
        llm = chat(peer)
        outcomes = []
        for _ in range(3):
            try:
                llm.invoke("hi")
                outcomes.append("ok")
            except GoogleRateLimitError:
                outcomes.append("refused")
        assert outcomes == ["ok", "refused", "refused"]
        assert len(peer.accepted(MODEL)) == 1 and peer.max_in_window(MODEL) == 1
        assert [r.status for r in peer.log()] == [200, 429, 429]
        assert [r.fault for r in peer.log()] == [None, None, None]
        peer.reset()
        assert peer.log() == [] and llm.invoke("hi").content == "I do not know."


def test_concurrent_requests_overlap_and_the_window_is_exact() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    url = f"/v1beta/models/{MODEL}:generateContent"
    with GeminiPeer(latency_s=0.25, rpm=60, window_s=5.0) as peer:  # 5 per window
        headers = {"x-goog-api-key": peer.api_key}
        with httpx.Client(base_url=peer.url, headers=headers, timeout=5) as client:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=12) as pool:
                statuses = list(pool.map(lambda _: client.post(url, json=body).status_code, range(12)))
            elapsed = time.monotonic() - started
        assert sorted(statuses) == [200] * 5 + [429] * 7
        assert peer.max_in_window(MODEL) == 5
        assert elapsed < 12 * 0.25 / 2  # served side by side, not one latency after another


def test_protocol_errors(peer: GeminiPeer) -> None:
    headers = {"x-goog-api-key": peer.api_key}
    missing = httpx.post(f"{peer.url}/v1beta/models/{MODEL}:countTokens", json={}, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    bad = httpx.post(f"{peer.url}/v1beta/models/{MODEL}:generateContent?key=x", content=b"{", headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
    assert [(r.status, r.key_in_query) for r in peer.log()] == [(404, False), (400, True)]
    single = httpx.post(
        f"{peer.url}/v1beta/models/{EMBED_MODEL}:embedContent",
        json={"content": {"parts": [{"text": "one text"}]}},
        headers=headers,
    )
    assert len(single.json()["embedding"]["values"]) == peer.embed_dim
    with pytest.raises(ValueError, match="unknown fault kind"):
        peer.fail("teapot")


def test_ragas_prompts_get_replies_their_output_models_parse(peer: GeminiPeer) -> None:
    llm = chat(peer)
    generator = StatementGeneratorPrompt()
    question = StatementGeneratorInput(
        question="Where is the Eiffel Tower?",
        answer="The Eiffel Tower is in Paris. It was completed in 1889.",
    )
    reply = str(llm.invoke(generator.to_string(question)).content)
    statements = generator.output_model.model_validate_json(reply)
    assert statements.statements == ["The Eiffel Tower is in Paris.", "It was completed in 1889."]

    nli = NLIStatementPrompt()
    claims = NLIStatementInput(
        context="The Eiffel Tower stands in Paris and was completed in 1889.",
        statements=["The Eiffel Tower stands in Paris.", "The tower is made of chocolate and cheese."],
    )
    judged = nli.output_model.model_validate_json(str(llm.invoke(nli.to_string(claims)).content))
    assert [s.verdict for s in judged.statements] == [1, 0]
    assert [s.statement for s in judged.statements] == claims.statements
