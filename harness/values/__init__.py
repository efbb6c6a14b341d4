"""The values every layer shares, at the bottom of the import graph: no I/O, no registry imports.

- `harness.values.suite`: Passage, AnswerSpan, Case, Source, MetricPolicy, JudgeSpec, SuiteFile, Suite
- `harness.values.system`: RetrieverSpec, GeneratorSpec, HttpSpec, FinetuneSpec, SystemSpec (and Kind)
- `harness.values.answer`: Answer and the System protocol

The loaders that read files into them and check them against the tables sit above (harness.suite,
harness.system); docs/architecture.md draws the layers.
"""

from harness.values.answer import Answer, System
from harness.values.suite import (
    AnswerSpan,
    Case,
    JudgeSpec,
    LazyCases,
    MetricPolicy,
    Passage,
    Source,
    Suite,
    SuiteFile,
    cases_hash,
    chunk_range,
    chunks_holding,
)
from harness.values.system import (
    COMPONENT_VERSIONS,
    DEFAULT_ENCODER,
    EXTERNAL_FAMILIES,
    EXTERNAL_GENERATOR_KEYS,
    PROMPTED_FAMILIES,
    FinetuneSpec,
    GeneratorSpec,
    HttpSpec,
    Kind,
    RetrieverSpec,
    SystemSpec,
)

__all__ = [
    "COMPONENT_VERSIONS",
    "DEFAULT_ENCODER",
    "EXTERNAL_FAMILIES",
    "EXTERNAL_GENERATOR_KEYS",
    "PROMPTED_FAMILIES",
    "Answer",
    "AnswerSpan",
    "Case",
    "FinetuneSpec",
    "GeneratorSpec",
    "HttpSpec",
    "JudgeSpec",
    "Kind",
    "LazyCases",
    "MetricPolicy",
    "Passage",
    "RetrieverSpec",
    "Source",
    "Suite",
    "SuiteFile",
    "System",
    "SystemSpec",
    "cases_hash",
    "chunk_range",
    "chunks_holding",
]
