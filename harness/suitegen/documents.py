"""`harness suites new`: a folder of documents -> corpus.jsonl (passages cut by the retriever's own splitter,
each with its document and character range), suite.yaml and a README stub."""

import datetime as dt
import glob
import json
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from harness.errors import InputError

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, *PDF_SUFFIXES)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# What a suite built from documents is scored on: answers are short spans copied from a passage (exact
# match, token F1, answer recall, ROUGE-L), gold passages are known (retrieval metrics), and unanswerable
# questions carry the abstention answer (abstain_*). Hand-edit suite.yaml to add gate policies or a judge.
METRICS = (
    "exact_match",
    "token_f1",
    "answer_recall",
    "rouge_l",
    "answer_tokens",
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "abstain_correct",
    "abstain_false",
    "latency_s",
)


@dataclass
class Document:
    doc_id: str
    path: Path
    title: str
    text: str


class _HTMLText(HTMLParser):
    """Visible text of an HTML page: script, style and head left out; block elements end a line."""

    BLOCKS = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 section article header footer table ul ol pre".split()
    )
    HIDDEN = frozenset(("script", "style", "head", "noscript", "template"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.heading: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "body" and "head" in self._stack:  # </head> may be left out
            del self._stack[self._stack.index("head") :]
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag not in ("br", "meta", "link", "img", "hr", "input"):
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if "title" in self._stack:
            self.title.append(data)
        elif not self.HIDDEN.intersection(self._stack):
            self.parts.append(data)
            if "h1" in self._stack:
                self.heading.append(data)


def _tidy(text: str) -> str:
    """Runs of spaces to one, lines stripped, at most one blank line between paragraphs."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _read(path: Path) -> tuple[str, str]:
    """(title, text) of one document, read with LangChain's loaders (HTML with the standard library)."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        from langchain_community.document_loaders import PyPDFLoader

        logging.getLogger("pypdf").setLevel(logging.ERROR)  # "EOF marker not found" is reported below
        try:
            pages = PyPDFLoader(str(path)).load()
        except Exception as err:  # pypdf raises its own errors, ValueError, KeyError... on a broken file
            detail = (str(err).splitlines() or [type(err).__name__])[0][:120]
            raise InputError(str(path), f"not a readable PDF ({type(err).__name__}: {detail})") from None
        text = "\n\n".join(page.page_content for page in pages)
        if not text.strip():
            raise InputError(str(path), "a PDF with no text layer (scanned?): OCR it first")
        return "", _tidy(text)
    if suffix in HTML_SUFFIXES:
        parser = _HTMLText()
        try:
            parser.feed(path.read_text(encoding="utf-8-sig", errors="replace"))
        except AssertionError as err:  # html.parser's only failure mode on broken markup
            raise InputError(str(path), f"not readable HTML ({err})") from None
        title = " ".join("".join(parser.title or parser.heading).split())
        return title, _tidy("".join(parser.parts))
    from langchain_community.document_loaders import TextLoader

    try:
        docs = TextLoader(str(path), encoding="utf-8").load()
    except Exception as err:  # TextLoader wraps a decoding error in RuntimeError
        raise InputError(str(path), f"not UTF-8 text ({type(err.__cause__ or err).__name__})") from None
    text = _tidy("\n".join(doc.page_content for doc in docs).removeprefix("\ufeff"))  # a BOM is no text
    heading = re.match(r"#\s+(.+)", text) if suffix != ".txt" else None
    return (heading.group(1).strip() if heading else ""), text


def find_documents(docs: str) -> list[Path]:
    """The documents named by a folder (searched recursively) or a glob, in a stable order."""
    root = Path(docs)
    if root.is_dir():
        paths = [p for p in root.rglob("*") if p.is_file()]
    elif root.is_file():
        paths = [root]
    else:
        paths = [Path(p) for p in glob.glob(docs, recursive=True) if Path(p).is_file()]
        if not paths:
            raise InputError(docs, "no such folder, file or matching files")
    found = sorted(p for p in paths if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
    if not found:
        raise InputError(docs, f"no documents ({', '.join(SUFFIXES)}) in it")
    return found


def _doc_id(path: Path, base: Path, taken: set[str]) -> str:
    try:
        relative = path.relative_to(base)
    except ValueError:
        relative = Path(path.name)
    stem = re.sub(r"[^A-Za-z0-9]+", "-", str(relative.with_suffix(""))).strip("-").lower() or "doc"
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _base(docs: str) -> Path:
    """What document ids are relative to: the folder given, or a glob's folders before its first pattern."""
    if Path(docs).is_dir():
        return Path(docs)
    parts = Path(docs).parts
    first = next((i for i, part in enumerate(parts) if glob.has_magic(part)), None)
    return Path(*parts[:first]) if first else Path(docs).parent


def load_documents(docs: str) -> tuple[list[Document], list[Path]]:
    """The documents with text, and the files skipped because they hold none (an empty page, say)."""
    paths = find_documents(docs)
    base = _base(docs)
    taken: set[str] = set()
    documents, empty = [], []
    for path in paths:
        title, text = _read(path)
        if not text:
            empty.append(path)
            continue
        documents.append(Document(_doc_id(path, base, taken), path, title or path.stem, text))
    if not documents:
        raise InputError(docs, f"no text in any of its {len(paths)} documents")
    return documents, empty


def passages(documents: list[Document], size: int, overlap: int, unit: str) -> list[dict[str, Any]]:
    """Corpus rows: each document cut by the retriever's splitter (harness.systems.retrieval.chunk), so
    that a RAG system with the same chunk settings indexes these passages whole. Each row keeps its
    document (doc_id), the character range it covers in that document's text (start, end) and the file."""
    from harness.suite import Passage
    from harness.systems.retrieval import chunk, chunk_range

    rows = []
    for document in documents:
        whole = Passage(id=document.doc_id, text=document.text, title=document.title, doc_id=document.doc_id)
        for piece in chunk([whole], size, overlap, unit):
            start, end = chunk_range(piece) or (0, len(piece.text))
            rows.append(
                {
                    "id": piece.id,
                    "text": piece.text,
                    "title": document.title,
                    "doc_id": document.doc_id,
                    "start": start,
                    "end": end,
                    "source": document.path.as_posix(),
                }
            )
    return rows


def new_suite(
    name: str,
    docs: str,
    suites_dir: Path,
    size: int,
    overlap: int,
    unit: str,
    abstention: str,
    force: bool,
    command: str,
) -> tuple[Path, int, int]:
    """Write <suites_dir>/<name>/ corpus.jsonl, suite.yaml and README.md; (folder, documents, passages)."""
    from harness.files import write_atomic

    if not _NAME.match(name):
        raise InputError("name", f"'{name}' is not a folder name (letters, digits, '.', '_', '-')")
    if not abstention.strip():
        raise InputError("--abstention", "must not be empty")
    if size < 1:
        raise InputError("--chunk-size", f"must be at least 1, got {size}")
    if overlap < 0:
        raise InputError("--chunk-overlap", f"must not be negative, got {overlap}")
    if overlap > size // 2:
        raise InputError("--chunk-overlap", f"{overlap} is more than half of --chunk-size {size}")
    folder = suites_dir / name
    if folder.exists() and any(folder.iterdir()) and not force:
        raise InputError(str(folder), "already exists: choose another name, or --force to overwrite it")
    documents, empty = load_documents(docs)
    rows = passages(documents, size, overlap, unit)
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (folder / "corpus.jsonl").write_text(body, encoding="utf-8")
    for stale in (
        "train.jsonl",
        "test.jsonl",
        "review.csv",
        "generated.jsonl",
        "rejected.jsonl",
        "generation.json",
    ):
        (folder / stale).unlink(missing_ok=True)  # an overwritten suite's questions name old passages
    unit_words = "MiniLM word pieces" if unit == "tokens" else "characters"
    readme = [
        f"# {name}",
        "",
        f"Built by `{command}` on {dt.date.today().isoformat()}: {len(documents)} document"
        f"{'s' * (len(documents) != 1)} cut into "
        f"{len(rows)} passages of at most {size} {unit_words} (overlap {overlap}), with the retriever's "
        "splitter. Each corpus row keeps its document (`doc_id`), its character range in that document "
        "(`start`, `end`) and its file (`source`).",
        "",
        "## Questions",
        "",
        f"None yet: `harness suites generate {name} --model <chat model> --test N --train M` writes "
        "test.jsonl and train.jsonl (see docs/generate.md), then review review.csv and apply it with "
        f"`harness suites generate {name} --apply-review`.",
        "",
        "## Licence",
        "",
        "TODO: who owns these documents, and whether the suite may be shared.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(readme), encoding="utf-8")
    spec = [
        f"name: {name}",
        "version: 1",
        f"description: {json.dumps(f'Questions generated from {len(documents)} documents.')}",
        "corpus: corpus.jsonl",
        "train: train.jsonl  # written by harness suites generate",
        "test: test.jsonl    # written by harness suites generate",
        "k: 5",
        f"abstention: {json.dumps(abstention)}",
        "# generated answers are spans copied from a gold passage; add gate policies ({min, max_drop}) or a",
        "# judge block (judge: {model: gemini:gemini-2.5-flash}) and LLM-graded metrics by hand",
        "metrics:",
        *(f"  {metric}: {{}}" for metric in METRICS),
        "",
    ]
    write_atomic(folder / "suite.yaml", "\n".join(spec))
    for path in empty:
        print(f"skipped {path}: no text")
    return folder, len(documents), len(rows)
