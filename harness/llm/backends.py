"""Model references -> guarded LangChain objects: `gemini:<model>`, `openai:<model>`, `hf:<model>`,
`offline:minilm`."""

import os
import re
import threading
from collections.abc import Sequence
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from harness import modelref
from harness.cache import Cache
from harness.errors import InputError
from harness.llm.guarded import GuardedChat, GuardedEmbeddings, runtime
from harness.llm.settings import ModelSettings, settings
from harness.modelref import CHAT_FAMILIES, EMBEDDING_FAMILIES
from harness.privacy import api_key

OFFLINE_EMBEDDER = "offline:minilm"
BASE_URL_VARIABLE = "HARNESS_GEMINI_BASE_URL"
OPENAI_BASE_URL_VARIABLE = "HARNESS_OPENAI_BASE_URL"
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"
# Sent to a server given by base_url when no key is set: vLLM, Ollama and llama.cpp's server take any key
# (the OpenAI client refuses to start without one).
NO_KEY = "no-key"


def family(ref: str) -> str:
    return modelref.family(ref)


def gemini_base_url(config: ModelSettings) -> str | None:
    return os.environ.get(BASE_URL_VARIABLE) or config.base_url


def require_key(ref: str, where: str) -> str:
    key = api_key()
    if key is None:
        raise InputError(where, f"{ref} needs an API key: set GOOGLE_API_KEY (or GEMINI_API_KEY)")
    return key


def openai_endpoint(
    ref: str, config: ModelSettings, where: str, url: str | None = None, key_variable: str | None = None
) -> tuple[str | None, str]:
    """(base URL, key) of an openai: model. The URL: the system's generator.base_url, else
    HARNESS_OPENAI_BASE_URL, else the model's base_url in the settings (HARNESS_MODELS), else OpenAI's.
    The key: the variable named by generator.api_key_env, else OPENAI_API_KEY; none is needed for a
    server given by URL."""
    from_env = os.environ.get(OPENAI_BASE_URL_VARIABLE) if not url else None
    url = url or from_env or config.base_url
    if from_env and not re.match(r"https?://[^/\s:]+", from_env.strip()):
        # a typo in the variable fails here, once, not as a connection error in every case
        raise InputError(OPENAI_BASE_URL_VARIABLE, f"'{from_env}' is not an http:// or https:// URL")
    variable = key_variable or OPENAI_KEY_VARIABLE
    key = os.environ.get(variable)
    if not key:
        if url is None:
            raise InputError(
                where,
                f"{ref} needs an API key: set {variable} (or give the base_url of a server that takes none)",
            )
        key = NO_KEY
    return url, key


def _http_error(err: Exception) -> Exception:
    """The openai client's status errors as the httpx error they wrap, which the harness's retry policy
    classifies (429 with its Retry-After, 5xx, other 4xx) like Gemini's; anything else unchanged."""
    import openai

    if isinstance(err, openai.APIStatusError):
        message = f"{err.status_code} from {err.request.url}: {err.message}"
        return httpx.HTTPStatusError(message, request=err.request, response=err.response)
    return err


class OpenAIErrors:
    """A LangChain OpenAI chat model whose status errors are re-raised as httpx errors (see _http_error)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def invoke(self, messages: Any, stop: list[str] | None = None) -> Any:
        try:
            return self.inner.invoke(messages, stop=stop)
        except Exception as err:
            translated = _http_error(err)
            if translated is err:
                raise
            raise translated from err


class OpenAIEmbeddingErrors(Embeddings):
    """OpenAIEmbeddings with its status errors re-raised as httpx errors (see _http_error)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return self.inner.embed_documents(texts)
        except Exception as err:
            translated = _http_error(err)
            if translated is err:
                raise
            raise translated from err

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def check_ref(ref: str, families: Sequence[str], where: str, what: str) -> None:
    """A model reference of a known family with a name after the colon (harness.modelref.check)."""
    modelref.check(ref, families, where, what)


def chat(
    ref: str,
    purpose: str,
    store: Cache | None,
    temperature: float = 0.0,
    max_output_tokens: int | None = None,
    where: str = "model",
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> GuardedChat:
    """A guarded chat model for `ref`. Gemini needs a key; openai: a key or a base_url (`base_url` and
    `api_key_env` are a system's generator keys); hf: loads the checkpoint on first use."""
    check_ref(ref, CHAT_FAMILIES, where, "chat model")
    config = settings(ref)
    name = modelref.name(ref)
    params: dict[str, Any] = {"temperature": temperature, "max_output_tokens": max_output_tokens}
    inner: Any
    if family(ref) == "openai":
        from langchain_openai import ChatOpenAI

        url, key = openai_endpoint(ref, config, where, base_url, api_key_env)
        inner = OpenAIErrors(
            ChatOpenAI(
                model=name,
                api_key=key,  # type: ignore[arg-type]
                base_url=url,
                temperature=temperature,
                max_tokens=max_output_tokens,  # type: ignore[call-arg]
                max_retries=0,  # the harness retries, honouring Retry-After
                timeout=config.timeout_s,
            )
        )
        if url is not None:  # one model name on two servers is two models: their cached calls differ
            params["base_url"] = url
    elif family(ref) == "gemini":
        from langchain_google_genai import ChatGoogleGenerativeAI

        options: dict[str, Any] = {}
        if (url := gemini_base_url(config)) is not None:
            options["base_url"] = url
        inner = ChatGoogleGenerativeAI(
            model=name,
            api_key=require_key(ref, where),
            temperature=temperature,
            max_output_tokens=max_output_tokens,
            max_retries=1,  # 1 = a single attempt: the SDK's retries ignore the server's retry delay
            timeout=config.timeout_s,
            **options,
        )
    else:
        inner = LocalChat(ref=ref, max_new_tokens=max_output_tokens or 256)
    return GuardedChat(
        inner=inner, model=ref, params=params, purpose=purpose, runtime=runtime(ref, config), store=store
    )


def embedder(ref: str, purpose: str, store: Cache | None, where: str = "model") -> GuardedEmbeddings:
    """Guarded embeddings for `ref`: `gemini:<embedding model>`, `openai:<embedding model>` (its server
    from HARNESS_OPENAI_BASE_URL or the settings) or the offline MiniLM."""
    check_ref(ref, EMBEDDING_FAMILIES, where, "embeddings")
    config = settings(ref)
    inner: Embeddings
    if family(ref) == "openai":
        from langchain_openai import OpenAIEmbeddings

        url, key = openai_endpoint(ref, config, where)
        inner = OpenAIEmbeddingErrors(
            OpenAIEmbeddings(
                model=modelref.name(ref),
                openai_api_key=key,  # type: ignore[arg-type]
                openai_api_base=url,
                max_retries=0,
                request_timeout=config.timeout_s,
                # Send the texts as they are: counting tokens would fetch tiktoken's tables at run time.
                check_embedding_ctx_length=False,
            )
        )
    elif family(ref) == "gemini":
        from langchain_google_genai import GoogleGenerativeAIEmbeddings

        inner = GoogleGenerativeAIEmbeddings(
            model=modelref.name(ref),
            api_key=require_key(ref, where),
            base_url=gemini_base_url(config),
            client_args={"timeout": config.timeout_s},
        )
    else:
        if ref != OFFLINE_EMBEDDER:
            raise InputError(where, f"embeddings '{ref}': the offline embedder is '{OFFLINE_EMBEDDER}'")
        inner = MiniLMEmbeddings()
    return GuardedEmbeddings(inner, ref, purpose, runtime(ref, config), store)


class MiniLMEmbeddings(Embeddings):
    """The offline all-MiniLM-L6-v2 as a LangChain Embeddings object (what ragas is given, not its own
    HuggingfaceEmbeddings, which is broken in ragas 0.4.3)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        from harness.models import minilm

        return [list(map(float, row)) for row in minilm.embed(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class LocalChat(BaseChatModel):
    """A local `hf:` causal LM as a LangChain chat model (greedy decoding: temperature 0)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    ref: str
    max_new_tokens: int = 256
    _lm: Any = None
    _lock: Any = None

    @property
    def _llm_type(self) -> str:
        return "harness-hf"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        from harness.models import hf

        if self._lock is None:
            self._lock = threading.Lock()
        with self._lock:  # one model in memory, one generation at a time
            if self._lm is None:
                self._lm = hf.load(hf.reference(self.ref))
            prompt = "\n\n".join(str(message.content) for message in messages)
            generation = self._lm.generate([prompt], self.max_new_tokens)[0]
        message = AIMessage(
            content=generation.text,
            usage_metadata={
                "input_tokens": generation.prompt_tokens,
                "output_tokens": generation.completion_tokens,
                "total_tokens": generation.prompt_tokens + generation.completion_tokens,
            },
            response_metadata={"finish_reason": "STOP"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
