"""The hf: generative path on tiny checkpoints built here (random weights, a word-level tokenizer; no hub)."""

import json
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.cli import main
from harness.models import artifacts, hf
from harness.suite import load_suite
from harness.system import FinetuneSpec, load_system_spec
from tests.conftest import SMOKE

QUESTION_WORDS = (
    "Answer the question in a few words from what you know using only passages below If they do not"
)


def build_checkpoint(folder: Path, chat: bool = False) -> Path:
    """A 2-layer Llama with random weights and a word-level tokenizer over the smoke suite's words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [QUESTION_WORDS, "contain the answer say: The documents do not say. Question: Answer: [1] :"]
    for name in ("corpus", "train", "test"):
        for line in (SMOKE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [str(row.get(key, "")) for key in ("text", "title", "question", "reference")]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(
        texts, trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[BOS]", "[EOS]"])
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]"
    )
    if chat:
        wrapped.chat_template = "{% for m in messages %}[BOS] {{ m['content'] }}{% endfor %} Answer:"
    config = LlamaConfig(
        vocab_size=wrapped.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.3,  # with the default 0.02 logits are too flat for a few LoRA steps to move
        pad_token_id=wrapped.pad_token_id,
        bos_token_id=wrapped.bos_token_id,
        eos_token_id=wrapped.eos_token_id,
    )
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(str(folder))
    wrapped.save_pretrained(str(folder))
    return folder


@pytest.fixture(autouse=True)
def on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a GPU the model would run in bfloat16, where a random tiny model's near-tied logits can flip a
    # greedy pick between batch shapes; the padding logic under test is the same on every device.
    monkeypatch.setattr(hf, "pick_device", lambda: "cpu")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkpoint(tmp_path_factory.mktemp("tiny-llama"))


TUNE = FinetuneSpec(
    method="lora",
    epochs=30,
    lr=3e-2,
    batch_size=4,
    rank=8,
    alpha=16,
    max_steps=24,
    val_share=0.25,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)


def test_labels_mask_the_prompt(checkpoint: Path) -> None:
    lm = hf.load(str(checkpoint))
    prompt = "Question: Can I bring my dog to Fernhollow? Answer:"
    ids, labels = lm.encode(prompt, "on a short lead", max_length=256)
    prompt_length = len(lm.prompt_ids(prompt))
    assert labels[:prompt_length] == [-100] * prompt_length
    assert labels[prompt_length:] == ids[prompt_length:]
    assert lm.tokenizer.decode(labels[prompt_length:], skip_special_tokens=True) == "on a short lead"
    assert labels[-1] == lm.tokenizer.eos_token_id


def test_chat_template_is_used_when_present(tmp_path: Path) -> None:
    lm = hf.load(str(build_checkpoint(tmp_path / "chat", chat=True)))
    assert lm.render("Question: why?") == "[BOS] Question: why? Answer:"


def test_batched_and_unbatched_greedy_generation_agree(checkpoint: Path) -> None:
    lm = hf.load(str(checkpoint))
    suite = load_suite(SMOKE)
    prompts = [f"Question: {case.question} Answer:" for case in suite.test[:6]]
    batched = lm.generate(prompts, max_new_tokens=8)
    single = [lm.generate([prompt], max_new_tokens=8)[0] for prompt in prompts]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(g.text and g.completion_tokens > 0 for g in batched)
    assert (
        len({g.prompt_tokens for g in batched}) > 1
    )  # the prompts differ in length, so padding was exercised


def test_lora_training_lowers_the_loss_and_is_reused_from_the_cache(checkpoint: Path, tmp_path: Path) -> None:
    suite = load_suite(SMOKE)
    examples = [(f"Question: {case.question} Answer:", case.reference) for case in suite.train[:16]]
    cache = Cache(tmp_path / "cache")
    before = artifacts.runs
    trained = hf.train(str(checkpoint), examples, TUNE, cache)
    curve = trained.curves["train_loss"]
    assert artifacts.runs == before + 1
    assert len(curve) >= 4 and curve[-1] < curve[0] * 0.8
    assert len(trained.curves["val_loss"]) == len(curve)
    assert (trained.folder / "adapter_config.json").is_file()
    again = hf.train(str(checkpoint), examples, TUNE, cache)
    assert artifacts.runs == before + 1 and again.folder == trained.folder and again.curves == trained.curves
    tuned = hf.load(str(checkpoint), adapter=trained.folder)
    base = hf.load(str(checkpoint))
    prompts = [prompt for prompt, _ in examples[:4]]
    assert tuned.generate(prompts, 8) != base.generate(prompts, 8)  # the adapter changes what the model says
    assert hf.load(str(trained.folder)).generate(prompts, 8) == tuned.generate(
        prompts, 8
    )  # adapter folder alone


def write_system(
    folder: Path, name: str, kind: str, checkpoint: Path, retriever: bool, finetune: bool
) -> Path:
    lines = [
        f"name: {name}",
        f"kind: {kind}",
        "profile: hf",
        f'generator: {{model: "hf:{checkpoint}", max_new_tokens: 8}}',
    ]
    if retriever:
        lines.append("retriever: {method: bm25, top_k: 2}")
    if finetune:
        lines.append(
            "finetune: {method: lora, max_steps: 6, batch_size: 8, lr: 1.0e-2, rank: 4, distractors: 1}"
        )
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_once(system: Path, reports: Path) -> dict:
    argv = [
        "run",
        "--suite",
        str(SMOKE),
        "--system",
        str(system),
        "--no-mlflow",
        "--reports-dir",
        str(reports),
    ]
    assert main(argv) == 0
    (folder,) = [path for path in (reports / "runs").iterdir() if system.stem in path.name]
    return {
        "run": json.loads((folder / "run.json").read_text(encoding="utf-8")),
        "records": [
            json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
        ],
    }


def test_hybrid_and_finetuned_systems_run_end_to_end(checkpoint: Path, tmp_path: Path) -> None:
    hybrid = run_once(
        write_system(tmp_path, "hybrid-tiny", "hybrid", checkpoint, True, True), tmp_path / "reports"
    )
    assert all(len(r["contexts"]) == 2 for r in hybrid["records"])
    assert hybrid["run"]["training"]["train_loss"]
    closed = run_once(
        write_system(tmp_path, "finetuned-tiny", "finetuned", checkpoint, False, True), tmp_path / "reports"
    )
    assert all(r["contexts"] is None for r in closed["records"])
    assert closed["run"]["training"]["train_loss"] and closed["run"]["training"]["val_loss"]
    assert all(r["usage"]["prompt_tokens"] > 0 for r in closed["records"])


def test_prompt_text_is_part_of_the_system_hash(checkpoint: Path, tmp_path: Path) -> None:
    template = tmp_path / "mine.txt"
    template.write_text("Q: {question}\nA:", encoding="utf-8")
    path = write_system(tmp_path, "base-tiny", "finetuned", checkpoint, False, False)
    path.write_text(
        path.read_text().replace("max_new_tokens: 8", f"max_new_tokens: 8, tuned: true, prompt: {template}")
    )
    first = load_system_spec(path).hash
    template.write_text("Question: {question}\nAnswer:", encoding="utf-8")
    assert load_system_spec(path).hash != first
    template.write_text("no placeholder here", encoding="utf-8")
    assert main(["systems", "validate", str(path)]) == 2


def test_full_fine_tuning_saves_a_checkpoint_that_loads_alone(checkpoint: Path, tmp_path: Path) -> None:
    suite = load_suite(SMOKE)
    examples = [(f"Question: {case.question} Answer:", case.reference) for case in suite.train[:8]]
    tune = FinetuneSpec(method="full", lr=3e-3, batch_size=4, max_steps=24, epochs=12, val_share=0.0)
    trained = hf.train(str(checkpoint), examples, tune, Cache(tmp_path / "cache"))
    curves = trained.curves
    assert curves["train_loss"][-1] < curves["train_loss"][0] and curves["val_loss"] == []
    assert (trained.folder / "model.safetensors").is_file()
    assert not (trained.folder / "adapter_config.json").exists()
    answers = hf.load(str(trained.folder)).generate([prompt for prompt, _ in examples], 8)
    # Twelve epochs over eight pairs with every weight free: most answers are learnt by heart.
    assert sum(got.text == want for got, (_, want) in zip(answers, examples, strict=True)) >= 5


def test_raft_examples_mix_gold_distractors_and_a_share_without_gold() -> None:
    from harness.systems.hf import raft_examples

    suite = load_suite(SMOKE)
    cases = [case for case in suite.train if case.gold_ids]
    examples = raft_examples(cases, suite.corpus, distractors=2, no_gold_share=0.25, seed=0)
    with_gold = [any(p.id in case.gold_ids for p in shown) for shown, case in examples]
    assert sum(not flag for flag in with_gold) == round(len(cases) * 0.25)
    assert all(len(shown) == 3 for shown, _ in examples)
    assert all(len({p.id for p in shown}) == 3 for shown, _ in examples)
    # Seeded: the same train split gives the same examples, hence the same adapter cache key.
    assert raft_examples(cases, suite.corpus, 2, 0.25, seed=0) == examples


def test_a_local_hf_model_judges_and_what_it_cannot_say_is_unscored_with_a_reason(checkpoint: Path) -> None:
    """The judge may be a local hf: model. A random tiny model writes no JSON: every sample is unscored
    with the parse reason (never 0, never dropped), the calls are metered and cost nothing."""
    from harness.metrics import build_metrics
    from harness.runner import score_answer
    from harness.suite import JudgeSpec
    from harness.system import Answer

    suite = load_suite(SMOKE)
    judge = JudgeSpec(model=f"hf:{checkpoint}", embeddings="offline:minilm", max_output_tokens=16)
    metrics = build_metrics(suite, Cache(), judge, ["faithfulness", "answer_relevancy"])
    case = suite.test[0]
    answer = Answer(case_id=case.id, text="Dogs are welcome on a short lead.", contexts=suite.corpus[:2])
    for metric in metrics:
        assert metric.judge.startswith(f"hf:{checkpoint}@t=0")
        score = score_answer(metric, case, answer)
        assert score.value is None
        assert score.reason == "judge reply could not be parsed as the JSON ragas asked for"
        assert not score.transient  # a parse failure is the judge's answer: cached, not retried
        assert score.details["usage"]["calls"] >= 1
        assert score.details["usage"]["cost_usd"] == 0
