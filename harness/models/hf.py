"""transformers causal LMs (`hf:<id or path>`): loading, prompts, batched greedy generation, LoRA tuning."""

import json
import math
import random
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import torch

from harness import modelref
from harness.cache import Cache
from harness.errors import InputError
from harness.hashing import digest
from harness.models.artifacts import Trained, train_or_reuse
from harness.values import FinetuneSpec

VERSION = 1  # bumped when prompt encoding or the training loop changes, so old adapters are not reused
CURVE_POINTS = 8


class Generation(NamedTuple):
    text: str
    prompt_tokens: int
    completion_tokens: int


def reference(model: str) -> str:
    """`hf:Qwen/Qwen2.5-0.5B-Instruct` -> `Qwen/Qwen2.5-0.5B-Instruct`."""
    ref = modelref.parse(model)
    return ref.name if ref.family == "hf" and ref.has_colon else model


def pick_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def fingerprint(ref: str) -> Any:
    """What identifies a base model: a hub id by name; a local folder also by its files' sizes and times."""
    folder = Path(ref)
    if not folder.is_dir():
        return ref
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return [str(folder.resolve()), [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]]


@contextmanager
def quiet() -> Iterator[None]:
    """Hide the weight loading/writing progress bars and library deprecation notices during prepare()."""
    from transformers.utils import logging

    bar = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        if bar:
            logging.enable_progress_bar()


class CausalLM:
    """A loaded model and tokenizer; generation is serialised because the runner answers from two threads."""

    def __init__(self, model: Any, tokenizer: Any, device: str) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.device = device
        self._lock = threading.Lock()

    @property
    def chat(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render(self, prompt: str) -> str:
        """The prompt in the tokenizer's chat template when it has one, else as written."""
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def prompt_ids(self, prompt: str) -> list[int]:
        # A chat template writes its own special tokens; a plain prompt gets the tokenizer's (e.g. BOS).
        return list(self.tokenizer(self.render(prompt), add_special_tokens=not self.chat)["input_ids"])

    def encode(self, prompt: str, answer: str, max_length: int) -> tuple[list[int], list[int]]:
        """input_ids and labels for one training example: the loss falls on the answer and EOS only."""
        prompt_ids = self.prompt_ids(prompt)
        spaced = (
            answer if self.chat else " " + answer
        )  # a plain prompt ends in "Answer:", the answer follows a space
        answer_ids = list(self.tokenizer(spaced, add_special_tokens=False)["input_ids"])
        answer_ids.append(self.tokenizer.eos_token_id)
        answer_ids = answer_ids[: max_length // 2]
        prompt_ids = prompt_ids[
            -(max_length - len(answer_ids)) :
        ]  # too long: drop the prompt's start, keep the question
        return prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids

    def generate(self, prompts: Sequence[str], max_new_tokens: int) -> list[Generation]:
        """Greedy continuations of a batch (left-padded, so every row ends where generation starts)."""
        from transformers import GenerationConfig

        if not prompts:
            return []
        rows = [self.prompt_ids(prompt) for prompt in prompts]
        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(row)) + row for row in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows], device=self.device)
        # Unset values are filled from the checkpoint's own generation config: pin what greedy means.
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,
            pad_token_id=pad,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        with self._lock, torch.no_grad():
            output = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
        results = []
        for row, new in zip(rows, output[:, width:].tolist(), strict=True):
            stop = self.tokenizer.eos_token_id
            used = new.index(stop) if stop in new else len(new)
            text = self.tokenizer.decode(new[:used], skip_special_tokens=True).strip()
            results.append(Generation(text, len(row), used))
        return results


def load(ref: str, adapter: Path | None = None) -> CausalLM:
    """A causal LM from a local folder or a cached hub id, with a trained LoRA adapter on top when given.

    A folder holding only an adapter (adapter_config.json) loads its base model first, as peft records it.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = pick_device()
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    base = ref
    config_path = Path(ref) / "adapter_config.json"
    if config_path.is_file():
        adapter, base = (
            Path(ref),
            json.loads(config_path.read_text(encoding="utf-8"))["base_model_name_or_path"],
        )
    try:
        with quiet():
            tokenizer = AutoTokenizer.from_pretrained(str(adapter) if _has_tokenizer(adapter) else base)
            model: Any = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    except OSError as err:
        raise InputError(
            "generator.model",
            f"cannot load 'hf:{ref}' (a hub id works offline only once cached): {str(err).splitlines()[0]}",
        ) from None
    if adapter is not None:
        from peft import PeftModel

        with quiet():
            model = PeftModel.from_pretrained(model, str(adapter))
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return CausalLM(model.to(device), tokenizer, device)


def _has_tokenizer(folder: Path | None) -> bool:
    return folder is not None and (folder / "tokenizer_config.json").is_file()


def _batches(
    rows: Sequence[tuple[list[int], list[int]]], size: int, pad: int, device: str
) -> list[dict[str, Any]]:
    """Right-padded training batches; padding is masked out of both attention and loss."""
    batches = []
    for first in range(0, len(rows), size):
        chunk = rows[first : first + size]
        width = max(len(ids) for ids, _ in chunk)
        batches.append(
            {
                "input_ids": torch.tensor(
                    [ids + [pad] * (width - len(ids)) for ids, _ in chunk], device=device
                ),
                "labels": torch.tensor(
                    [labels + [-100] * (width - len(labels)) for _, labels in chunk], device=device
                ),
                "attention_mask": torch.tensor(
                    [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk], device=device
                ),
            }
        )
    return batches


def _mean_loss(model: Any, batches: Sequence[dict[str, Any]]) -> float:
    model.eval()
    with torch.no_grad():
        losses = [float(model(**batch).loss) for batch in batches]
    model.train()
    return round(sum(losses) / len(losses), 5)


def train(ref: str, examples: Sequence[tuple[str, str]], tune: FinetuneSpec, cache: Cache | None) -> Trained:
    """Fine-tune on (prompt, answer) pairs with LoRA or all weights; reused from the cache if trained."""
    parts = [fingerprint(ref), digest(list(examples), length=32), tune.model_dump(mode="json"), VERSION]

    def run(folder: Path) -> Trained:
        with quiet():
            return _train(ref, examples, tune, folder)

    return train_or_reuse(cache, "hf-adapter", parts, run, prefix="harness-hf-")


def _train(ref: str, examples: Sequence[tuple[str, str]], tune: FinetuneSpec, folder: Path) -> Trained:
    torch.manual_seed(tune.seed)
    rng = random.Random(tune.seed)
    lm = load(ref)
    model: Any = lm.model
    if tune.method == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=tune.rank,
            lora_alpha=tune.alpha,
            target_modules=tune.target_modules,
            lora_dropout=0.0,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
    model.train()
    rows = [lm.encode(prompt, answer, tune.max_length) for prompt, answer in examples]
    rng.shuffle(rows)
    held = int(len(rows) * tune.val_share) if len(rows) > 1 else 0
    val_rows, train_rows = rows[:held], rows[held:]
    pad = lm.tokenizer.pad_token_id
    val_batches = _batches(val_rows, tune.batch_size, pad, lm.device)
    total = tune.epochs * math.ceil(len(train_rows) / tune.batch_size)
    total = min(total, tune.max_steps) if tune.max_steps else total
    points = {max(1, round(total * (n + 1) / CURVE_POINTS)) for n in range(CURVE_POINTS)}
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=tune.lr)
    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    window: list[float] = []
    step = 0
    while step < total:
        rng.shuffle(train_rows)
        for batch in _batches(train_rows, tune.batch_size, pad, lm.device):
            loss = model(**batch).loss
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
            window.append(loss.item())
            step += 1
            if step in points:
                curves["train_loss"].append(round(sum(window) / len(window), 5))
                window = []
                if val_batches:
                    curves["val_loss"].append(_mean_loss(model, val_batches))
            if step >= total:
                break
    model.save_pretrained(str(folder))
    if tune.method == "full":
        lm.tokenizer.save_pretrained(str(folder))
    info = {"steps": step, "train_examples": len(train_rows), "val_examples": len(val_rows)}
    return Trained(folder, curves, info)  # train_or_reuse writes the log, last
