"""Model references -> guarded LangChain objects: `gemini:<model>`, `hf:<model>`, `offline:minilm`."""

import os
import threading
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from harness.cache import Cache
from harness.errors import InputError
from harness.llm.guarded import GuardedChat, GuardedEmbeddings, runtime
from harness.llm.settings import ModelSettings, settings
from harness.privacy import api_key

CHAT_FAMILIES = ("gemini", "hf")
EMBEDDING_FAMILIES = ("gemini", "offline")
OFFLINE_EMBEDDER = "offline:minilm"
BASE_URL_VARIABLE = "HARNESS_GEMINI_BASE_URL"


def family(ref: str) -> str:
    return ref.split(":", 1)[0]


def base_url(config: ModelSettings) -> str | None:
    return os.environ.get(BASE_URL_VARIABLE) or config.base_url


def require_key(ref: str, where: str) -> str:
    key = api_key()
    if key is None:
        raise InputError(where, f"{ref} needs an API key: set GOOGLE_API_KEY (or GEMINI_API_KEY)")
    return key


def check_ref(ref: str, families: Sequence[str], where: str, what: str) -> None:
    """A model reference of a known family with a name after the colon (validation, no loading)."""
    name = ref.split(":", 1)[1] if ":" in ref else ""
    if family(ref) not in families or not name:
        choices = " or ".join(f"'{f}:<model>'" for f in families)
        raise InputError(where, f"{what}: unknown model '{ref}' (expected {choices})")


def chat(
    ref: str,
    purpose: str,
    store: Cache | None,
    temperature: float = 0.0,
    max_output_tokens: int | None = None,
    where: str = "model",
) -> GuardedChat:
    """A guarded chat model for `ref`. Gemini needs a key; hf: loads the checkpoint on first use."""
    check_ref(ref, CHAT_FAMILIES, where, "chat model")
    config = settings(ref)
    name = ref.split(":", 1)[1]
    inner: BaseChatModel
    if family(ref) == "gemini":
        from langchain_google_genai import ChatGoogleGenerativeAI

        options: dict[str, Any] = {}
        if (url := base_url(config)) is not None:
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
    params = {"temperature": temperature, "max_output_tokens": max_output_tokens}
    return GuardedChat(
        inner=inner, model=ref, params=params, purpose=purpose, runtime=runtime(ref, config), store=store
    )


def embedder(ref: str, purpose: str, store: Cache | None, where: str = "model") -> GuardedEmbeddings:
    """Guarded embeddings for `ref`: `gemini:<embedding model>` or the offline MiniLM."""
    check_ref(ref, EMBEDDING_FAMILIES, where, "embeddings")
    config = settings(ref)
    inner: Embeddings
    if family(ref) == "gemini":
        from langchain_google_genai import GoogleGenerativeAIEmbeddings

        inner = GoogleGenerativeAIEmbeddings(
            model=ref.split(":", 1)[1],
            api_key=require_key(ref, where),
            base_url=base_url(config),
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
