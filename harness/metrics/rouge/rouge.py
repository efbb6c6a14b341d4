"""ROUGE as a Hugging Face `evaluate` metric module, loaded by path (evaluate.load("rouge") needs the hub).

It wraps Google's `rouge_score` package and returns, per type, the F-measure: one value per prediction,
or their mean when `use_aggregator` is true.
"""

import datasets
import evaluate
from rouge_score import rouge_scorer

_DESCRIPTION = "ROUGE-N and ROUGE-L F-measure between predictions and references, via rouge_score."
_INPUTS = """
Args:
    predictions: list of strings.
    references: list of strings, one per prediction.
    rouge_types: which of rouge1, rouge2, rougeL, rougeLsum (default: rouge1, rouge2, rougeL).
    use_stemmer: apply the Porter stemmer before matching (default False).
    use_aggregator: return the mean over predictions instead of a list (default True).
Returns:
    {rouge_type: float or list of floats}
"""


class Rouge(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Lin, C.-Y. (2004). ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description=_INPUTS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, rouge_types=None, use_stemmer=False, use_aggregator=True):
        types = list(rouge_types or ["rouge1", "rouge2", "rougeL"])
        scorer = rouge_scorer.RougeScorer(types, use_stemmer=use_stemmer)
        per_type: dict[str, list[float]] = {name: [] for name in types}
        for prediction, reference in zip(predictions, references, strict=True):
            scores = scorer.score(reference, prediction)
            for name in types:
                per_type[name].append(float(scores[name].fmeasure))
        if use_aggregator:
            return {name: (sum(values) / len(values) if values else 0.0) for name, values in per_type.items()}
        return per_type
