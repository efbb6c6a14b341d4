"""`harness score`: the answers of a finished run scored again (another judge, another metric), as a new
run folder. The system is not called: each record's Answer is scored as it was stored."""

import argparse
import datetime as dt
import sys

from harness.errors import InputError


def score(args: argparse.Namespace) -> int:
    """Re-score the run folder `args.run_folder`; print its table and usage, log it unless --no-mlflow."""
    from harness.bench import log, print_usage
    from harness.cache import Cache
    from harness.metrics import build_metrics
    from harness.report import comparison_table, load_run
    from harness.runner import score_answers
    from harness.suite import JudgeSpec, load_suite
    from harness.system import SystemSpec, resolve_spec

    previous = load_run(args.run_folder)
    then = previous.report
    suite = load_suite(then.suite.path)
    if suite.hash != then.suite.hash:
        raise InputError(
            f"{suite.path}/suite.yaml",
            f"the suite changed since run {then.run_id}: its answers no longer match",
        )
    spec = resolve_spec(SystemSpec.model_validate(then.system.spec), args.run_folder)  # its prompt, code
    if spec.hash != then.system.hash:  # a prompt template or a python: system's code was edited
        raise InputError(
            str(args.run_folder),
            f"system '{spec.name}' changed since run {then.run_id} (its prompt or code): "
            "its answers are not this system's; run it again instead",
        )
    judge = suite.judge
    if args.judge_model:
        embeddings = args.judge_embeddings or (judge.embeddings if judge else "offline:minilm")
        judge = JudgeSpec(model=args.judge_model, embeddings=embeddings, temperature=args.judge_temperature)
    elif args.judge_embeddings and judge is not None:
        judge = judge.model_copy(update={"embeddings": args.judge_embeddings})
    cache = Cache(enabled=not args.no_cache)
    metrics = build_metrics(suite, cache, judge, args.metric or None, use_judge=not args.no_judge)
    by_id = {record.case_id: record.answer for record in previous.records}
    answers = [by_id[case.id] for case in suite.test]
    if args.dry_run:
        from harness.estimate import estimate, render

        print(render(estimate(suite, spec, cache, metrics, {answer.case_id: answer for answer in answers})))
        print("\ndry run: estimates only, nothing was sent")
        return 0
    run = score_answers(
        suite,
        spec,
        answers,
        metrics,
        cache,
        args.reports_dir,
        args.workers,
        stats={"answers_computed": 0, "answers_cached": len(answers)},
        training=then.training,
    )
    print(f"re-scored {then.run_id} -> {run.folder}", file=sys.stderr)
    print(comparison_table([run.report]))
    print_usage([run.report])
    log(args, [run], dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"))
    return 0
