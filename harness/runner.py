"""Answer every case, then score every answer; cached per case, written as each case finishes.

Over 300 lines for one reason: answering and scoring share the cache keys, the one thread pool, the stage
timings and the run folder that records are appended to as cases finish."""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

import harness
from harness.cache import Cache
from harness.errors import InputError
from harness.files import ensure_writable
from harness.hashing import digest
from harness.llm.usage import LEDGER, Tally, spent_since
from harness.metrics import Metric, Score, build_metrics, score_key
from harness.privacy import scrub
from harness.progress import PROGRESS
from harness.report import Record, Report, Run, git_state, outcome
from harness.report_types import GitInfo, SuiteInfo, SystemInfo, SystemUsage, Usage
from harness.report_types import Tally as TallyBlock
from harness.run_folder import RunFolder
from harness.suite import Case, Suite
from harness.system import Answer, System, SystemSpec, build_system


class Counts(NamedTuple):
    computed: int
    cached: int


def _prefetch_rouge(suite: Suite, answers: Sequence[Answer], metrics: Sequence[Metric], cache: Cache) -> None:
    """ROUGE for every case whose ROUGE scores are not cached yet, in one `evaluate` call (a warm run
    computes nothing and so does not even load `evaluate`)."""
    from harness.metrics.lexical import Rouge, prefetch_rouge

    rouges = [metric for metric in metrics if isinstance(metric, Rouge)]
    if not rouges:
        return
    pending = []
    for case, answer in zip(suite.test, answers, strict=True):
        if not case.references or answer.error is not None:
            continue
        answer_hash = digest(answer.model_dump(mode="json"))
        keys = [score_key(metric, case, answer, answer_hash) for metric in rouges]
        if any(cache.get(key) is None for key in keys):
            pending.append((answer.text, case.references))
    prefetch_rouge(pending)


def system_key(spec: SystemSpec, suite: Suite) -> str:
    """What a system's answers depend on: its spec, and the suite data it indexes or trains on."""
    # A python: or http: system retrieves and trains on its own terms: its kind says what it uses (its
    # contexts are matched to the suite's corpus, and prepare() receives the train split).
    external = spec.generator.model.split(":", 1)[0] in ("python", "http", "https")
    uses_corpus = spec.retriever is not None or (external and spec.kind in ("rag", "hybrid"))
    uses_train = spec.finetune is not None or (external and spec.kind in ("finetuned", "hybrid"))
    return digest([spec.hash, uses_corpus and suite.corpus_hash, uses_train and suite.train_hash])


def metric_identity(metric: Metric) -> list[Any]:
    """The identity a metric declares (Metric.identity); kept for old imports, use metric.identity()."""
    return metric.identity()


def cached_answers(suite: Suite, spec: SystemSpec, cache: Cache) -> dict[str, Answer]:
    """The answers of (suite, spec) already in the cache, by case id (the system is not built)."""
    base = system_key(spec, suite)
    found = {}
    for case in suite.test:
        stored = cache.get(Cache.key("answer", base, case.hash))
        if stored is not None:
            found[case.id] = Answer.model_validate(stored)
    return found


def limited(suite: Suite, limit: int | None) -> Suite:
    """The suite with only its first `limit` test cases (--limit), for a quick look; None: all of them.

    Its hash is the full suite's (the cases kept hash as before, so their cache entries are reused); the
    run records the limit in run.json (suite.limit), which is what tells a limited run from a full one.
    """
    if limit is None or limit >= len(suite.test):
        return suite
    return suite.model_copy(update={"test": suite.test[:limit]})


def prepare_doing(spec: SystemSpec, suite: Suite) -> str:
    """What prepare() is about to do, in words, for its stage line."""
    steps = []
    if spec.retriever is not None:
        steps.append(f"indexing {len(suite.corpus)} passages ({spec.retriever.method})")
    if spec.finetune is not None:
        steps.append(f"training {spec.generator.model} ({spec.finetune.method}) on {len(suite.train)} pairs")
    return " and ".join(steps) or f"loading {spec.generator.model}"


def _timed(cache: Cache, base: str, name: str, seconds: float | None = None) -> float | None:
    """The time a stage of this system on this suite took last time (to announce), or store it."""
    key = Cache.key("stage-time", base, name)
    if seconds is None:
        stored = cache.get(key)
        return float(stored) if isinstance(stored, int | float) else None
    cache.put(key, round(seconds, 3))
    return seconds


def answer_cases(
    suite: Suite,
    spec: SystemSpec,
    cache: Cache,
    workers: int = 2,
    batch_size: int = 8,
    make_system: Callable[[SystemSpec, Cache], System] = build_system,
    timings: dict[str, float] | None = None,
) -> tuple[list[Answer], Counts, dict[str, list[float]]]:
    """One Answer per test case, in order, from the cache or from the system (built only if needed).

    Also returns the system's training log (from the cache when the system was not built this time).
    Each stage (prepare, answer) is announced on stderr and its seconds added to `timings`.
    """
    timings = {} if timings is None else timings
    base = system_key(spec, suite)
    keys = [Cache.key("answer", base, case.hash) for case in suite.test]
    answers = cached_answers(suite, spec, cache)
    missing = [(case, key) for case, key in zip(suite.test, keys, strict=True) if case.id not in answers]
    training_key = Cache.key("training-log", base)
    training: dict[str, list[float]] = cache.get(training_key) or {}
    if not missing:
        PROGRESS.say(f"{len(suite.test)} answers from the cache")
    if missing:
        with PROGRESS.stage("prepare", prepare_doing(spec, suite), _timed(cache, base, "prepare"), timings):
            system = make_system(spec, cache)
            try:
                system.prepare(suite)
            except InputError:  # bad input found late is still bad input: one line, exit 2
                raise
            except Exception as err:  # e.g. training that cannot start: every case fails with the reason
                reason = scrub(f"prepare failed: {type(err).__name__}: {err}")[:500]
                for case, _ in missing:
                    answers[case.id] = Answer(case_id=case.id, error=reason)
                ordered = [answers[case.id] for case in suite.test]
                return ordered, Counts(computed=len(missing), cached=len(suite.test) - len(missing)), training
        _timed(cache, base, "prepare", timings["prepare"])
        training = dict(getattr(system, "training_log", None) or {})
        cache.put(training_key, training)
        batches = [missing[i : i + batch_size] for i in range(0, len(missing), batch_size)]

        def answer_and_store(batch: list[tuple[Case, str]]) -> list[Answer]:
            done = _answer_batch(system, [case for case, _ in batch])
            for (_, key), answer in zip(batch, done, strict=True):
                if answer.error is None:  # failures are retried on the next run, not cached
                    cache.put(key, answer.model_dump(mode="json"))
            return done

        reused = len(suite.test) - len(missing)
        doing = f"answering {len(missing)} cases" + (f" ({reused} more from the cache)" if reused else "")
        with (
            PROGRESS.stage("answer", doing, None, timings),
            ThreadPoolExecutor(max_workers=workers) as pool,
        ):
            futures = {pool.submit(answer_and_store, batch): batch for batch in batches}
            for future in as_completed(futures):
                batch = futures[future]
                for (case, _), answer in zip(batch, future.result(), strict=True):
                    answers[case.id] = answer
    ordered = [answers[case.id] for case in suite.test]
    return ordered, Counts(computed=len(missing), cached=len(suite.test) - len(missing)), training


def _answer_batch(system: System, cases: Sequence[Case]) -> list[Answer]:
    """Answer a batch; if it fails, answer its cases one by one so one bad case fails alone."""
    try:
        answers = system.answer(cases)
        if len(answers) != len(cases):
            raise RuntimeError(f"system returned {len(answers)} answers for {len(cases)} cases")
        return answers
    except Exception as err:  # a broken case must not sink its batch: isolate it and record why
        if len(cases) == 1:
            return [Answer(case_id=cases[0].id, error=scrub(f"{type(err).__name__}: {err}")[:500])]
        return [answer for case in cases for answer in _answer_batch(system, [case])]


def score_answer(metric: Metric, case: Case, answer: Answer) -> Score:
    if answer.error is not None:
        return Score.unscored(f"no answer: {answer.error}")
    try:
        return metric.score(case, answer)
    except Exception as err:  # a metric that breaks on one case leaves that case unscored, with why
        return Score.unscored(scrub(f"metric failed: {type(err).__name__}: {err}")[:500])


def run(
    suite: Suite,
    spec: SystemSpec,
    cache: Cache,
    reports_dir: Path,
    workers: int = 2,
    batch_size: int = 8,
    make_system: Callable[[SystemSpec, Cache], System] = build_system,
    use_judge: bool = True,
    limit: int | None = None,
) -> Run:
    """Run one (suite, system): answer, score, summarise, and save the run folder.

    `limit`: only the first N test cases (--limit); run.json records it. Each stage is announced on
    stderr as `[i/n] suite × system: ...` and its seconds are kept in run.json (timings).
    """
    ensure_writable(reports_dir / "runs", "the reports folder")  # before answering, not after
    PROGRESS.next_run(f"{suite.name} × {spec.name}")
    full = len(suite.test)
    suite = limited(suite, limit)
    if len(suite.test) < full:
        PROGRESS.say(f"--limit {limit}: the first {len(suite.test)} of {full} test cases")
    before = LEDGER.snapshot()
    timings: dict[str, float] = {}
    answers, answered, training = answer_cases(suite, spec, cache, workers, batch_size, make_system, timings)
    metrics = build_metrics(suite, cache, use_judge=use_judge)
    stats = {"answers_computed": answered.computed, "answers_cached": answered.cached}
    return score_answers(
        suite,
        spec,
        answers,
        metrics,
        cache,
        reports_dir,
        workers,
        stats,
        training,
        before,
        timings=timings,
        full_test_cases=full,
    )


def score_answers(
    suite: Suite,
    spec: SystemSpec,
    answers: Sequence[Answer],
    metrics: Sequence[Metric],
    cache: Cache,
    reports_dir: Path,
    workers: int = 2,
    stats: dict[str, int] | None = None,
    training: dict[str, list[float]] | None = None,
    before: dict[tuple[str, str], Tally] | None = None,
    timings: dict[str, float] | None = None,
    full_test_cases: int | None = None,
) -> Run:
    """Score answers (fresh, or stored by an earlier run) and save them as a new run folder.

    `full_test_cases`: how many test cases the whole suite has, when `suite` is its first --limit cases
    (run.json's suite block then records the limit); `timings` (seconds per stage) gets the scoring time
    and goes into run.json.
    """
    before = LEDGER.snapshot() if before is None else before
    timings = {} if timings is None else timings
    out = RunFolder.start(reports_dir, suite.name, spec.name)
    counts = {"computed": 0, "cached": 0}
    records: dict[str, Record] = {}

    def score_case(case: Case, answer: Answer) -> Record:
        scores = {}
        answer_hash = digest(answer.model_dump(mode="json"))
        for metric in metrics:
            key = score_key(metric, case, answer, answer_hash)
            stored = cache.get(key)
            if stored is None:
                score = score_answer(metric, case, answer)
                if not score.transient:  # a timeout or a rate limit may pass: try again next run
                    cache.put(key, score.model_dump(mode="json"))
                counts["computed"] += 1
            else:
                score = Score.model_validate(stored)
                counts["cached"] += 1
            scores[metric.name] = score
        record = Record.build(case, answer, scores)
        out.append(record)  # on disk as soon as it is scored: a killed run keeps its finished cases
        return record

    _prefetch_rouge(suite, answers, metrics, cache)
    # Judged metrics wait on the network, not the CPU: score as many cases at once as the judge allows.
    threads = max([workers, *(getattr(metric, "concurrency", 1) for metric in metrics)])
    doing = f"scoring {len(answers)} answers on {len(metrics)} metrics"
    with (
        PROGRESS.stage("score", doing, None, timings),
        ThreadPoolExecutor(max_workers=threads) as pool,
    ):
        futures = [
            pool.submit(score_case, case, answer) for case, answer in zip(suite.test, answers, strict=True)
        ]
        for future in as_completed(futures):
            record = future.result()
            records[record.case_id] = record
    ordered = [records[case.id] for case in suite.test]
    limit = full_test_cases is not None and len(suite.test) < full_test_cases
    report = Report(
        run_id=out.run_id,
        created=out.created,
        harness_version=harness.__version__,
        git=GitInfo.model_validate(git_state()),
        suite=SuiteInfo(
            name=suite.name,
            version=suite.version,
            hash=suite.hash,
            path=suite.path,
            k=suite.k,
            limit=len(suite.test) if limit else None,
            full_test_cases=full_test_cases if limit else None,
        ),
        system=SystemInfo(
            name=spec.name,
            kind=spec.kind,
            label=spec.label,
            hash=spec.hash,
            spec=spec.model_dump(mode="json"),
        ),
        judges=sorted({metric.judge for metric in metrics if metric.judge}),
        cache={**(stats or {}), "scores_computed": counts["computed"], "scores_cached": counts["cached"]},
        training=training or {},
        usage=usage_summary(spec, ordered, metrics, spent_since(before)),
        timings=timings,
        **outcome(ordered, metrics),
    )
    return out.finish(report, ordered)


def check_before_running(suites: Sequence[Suite], specs: Sequence[SystemSpec], reports_dir: Path) -> None:
    """What would stop a bench part-way, checked before its first run: the reports folder can be written,
    every fine-tuning system has a train split in every suite, and an hf: hub model is in the local cache
    when the hub is off."""
    import os

    ensure_writable(reports_dir / "runs", "the reports folder")
    for spec in specs:
        for suite in suites:
            if spec.finetune is not None and not suite.train:
                raise InputError(
                    f"{suite.path}/suite.yaml",
                    f"system '{spec.name}' fine-tunes, but the suite has no train split",
                )
        offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")
        if spec.generator.model.startswith("hf:") and offline:
            _check_cached_hf_model(spec)


def _check_cached_hf_model(spec: SystemSpec) -> None:
    ref = spec.generator.model.removeprefix("hf:")
    if Path(ref).expanduser().exists():
        return
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(ref, "config.json"), str):
        raise InputError(
            f"system '{spec.name}'",
            f"key 'generator.model': 'hf:{ref}' is not a local folder nor in the Hugging Face cache, and the "
            "hub is off (export HF_HUB_OFFLINE=0 to download it)",
        )


def failed_runs(reports: Sequence[Report]) -> str | None:
    """One line naming the runs that produced nothing (every answer failed), or None if there are none.

    Such a run is saved, with each case's error, but it did not measure the system: the command that made
    it must not exit 0.
    """
    failed = [report for report in reports if report.n_cases and report.n_errors == report.n_cases]
    if not failed:
        return None
    first = failed[0]
    reason = next(iter(next(iter(first.summary.values())).unscored_reasons), "") if first.summary else ""
    names = ", ".join(f"{r.suite.name} × {r.system.name}" for r in failed)
    return scrub(
        f"{len(failed)} of {len(reports)} run(s) could not answer a single case: {names}"
        + (f" (first reason: {reason.removeprefix('no answer: ')[:200]})" if reason else "")
    )


def usage_summary(
    spec: SystemSpec,
    records: Sequence[Record],
    metrics: Sequence[Metric],
    spent: dict[tuple[str, str], Tally],
) -> Usage:
    """Tokens and dollars: what the answers and each metric's scores cost to produce, and what this run
    actually sent (cached calls cost nothing; retries and 429s are counted)."""
    from harness.llm.settings import settings

    model = spec.generator.model
    system = Tally()
    for record in records:
        if record.answer.usage:
            system.calls += 1
            system.input_tokens += record.answer.usage.get("prompt_tokens", 0)
            system.output_tokens += record.answer.usage.get("completion_tokens", 0)
    if ":" in model:
        system.cost_usd = settings(model).cost(system.input_tokens, system.output_tokens)
    by_metric: dict[str, TallyBlock] = {}
    for metric in metrics:
        total = Tally()
        for record in records:
            used = record.scores[metric.name].details.get("usage")
            if used:
                total.add(Tally(**{k: v for k, v in used.items() if k in Tally.__dataclass_fields__}))
        if total.calls:
            by_metric[metric.name] = TallyBlock(**total.as_dict())
    sent = {
        f"{model_ref} {purpose}": TallyBlock(**tally.as_dict())
        for (model_ref, purpose), tally in sorted(spent.items())
    }
    total_sent = Tally()
    for tally in spent.values():
        total_sent.add(tally)
    return Usage(
        system=SystemUsage(model=model, **system.as_dict()),
        metrics=by_metric,
        sent=sent,
        sent_total=TallyBlock(**total_sent.as_dict()),
    )
