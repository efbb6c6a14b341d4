"""The retriever's splitter (harness.systems.retrieval.split_ranges and chunk) on texts small enough to cut
by hand: sizes, overlap, where it cuts, and the character ranges each chunk keeps."""

import random

from harness.suite import Passage
from harness.systems.retrieval import chunk, chunk_range, split_ranges

FOUR = "aaaa bbbb cccc dddd"  # 19 characters; the pieces at spaces are "aaaa ", "bbbb ", "cccc ", "dddd"


def texts(text: str, ranges: list[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in ranges]


def test_pieces_are_packed_up_to_size_and_overlap_by_whole_pieces() -> None:
    # size 10: two 5-character pieces fill a chunk. overlap 5: the next chunk starts with the last piece
    # of the previous one. Trailing spaces are cut from each range.
    ranges = split_ranges(FOUR, size=10, overlap=5, measure=len)
    assert ranges == [(0, 9), (5, 14), (10, 19)]
    assert texts(FOUR, ranges) == ["aaaa bbbb", "bbbb cccc", "cccc dddd"]


def test_without_overlap_chunks_meet_end_to_end() -> None:
    ranges = split_ranges(FOUR, size=10, overlap=0, measure=len)
    assert texts(FOUR, ranges) == ["aaaa bbbb", "cccc dddd"]


def test_a_paragraph_break_is_preferred_and_a_separator_stays_with_the_piece_before_it() -> None:
    # "one two.\n\n" (10 characters) fits in 12, so the text is cut at the blank line first; the second
    # paragraph (15) does not fit and is cut at its spaces: "three " + "four " is 11, "five" starts anew.
    text = "one two.\n\nthree four five"
    ranges = split_ranges(text, size=12, overlap=0, measure=len)
    assert ranges == [(0, 8), (10, 20), (21, 25)]
    assert texts(text, ranges) == ["one two.", "three four", "five"]


def test_a_sentence_break_comes_before_a_word_break() -> None:
    # No paragraph or line break: the cut falls after ". ", not at the space inside a sentence.
    text = "Cats nap. Dogs run far."
    assert texts(text, split_ranges(text, size=14, overlap=0, measure=len)) == ["Cats nap.", "Dogs run far."]


def test_a_word_longer_than_size_is_cut_into_characters() -> None:
    assert split_ranges("abcdefghij", size=4, overlap=0, measure=len) == [(0, 4), (4, 8), (8, 10)]


def test_size_is_measured_in_the_given_unit() -> None:
    # Measured in words, "a b c d e f" with size 2 and overlap 1 slides one word at a time.
    text = "a b c d e f"
    ranges = split_ranges(text, size=2, overlap=1, measure=lambda piece: len(piece.split()))
    assert texts(text, ranges) == ["a b", "b c", "c d", "d e", "e f"]


def test_on_a_longer_text_every_chunk_fits_overlaps_at_most_as_asked_and_nothing_is_lost() -> None:
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 9))) for _ in range(300)]
    text = " ".join(w + ("." if rng.random() < 0.1 else "") for w in words)
    size, overlap = 40, 12
    ranges = split_ranges(text, size, overlap, measure=len)
    assert all(b - a <= size for a, b in ranges)
    assert all(not text[a].isspace() and not text[b - 1].isspace() for a, b in ranges)
    for (a1, b1), (a2, b2) in zip(ranges, ranges[1:], strict=False):
        assert a1 < a2 and b1 < b2  # moving forward
        assert max(0, b1 - a2) <= overlap  # shared characters
    covered = set().union(*(range(a, b) for a, b in ranges))
    assert {i for i, c in enumerate(text) if not c.isspace()} <= covered


def test_chunk_names_each_piece_by_its_range_and_keeps_short_passages_whole() -> None:
    corpus = [Passage(id="p1", text=FOUR, title="Letters"), Passage(id="p2", text="short one")]
    chunks = chunk(corpus, size=10, overlap=5)
    assert [c.id for c in chunks] == ["p1#0-9", "p1#5-14", "p1#10-19", "p2"]
    assert [c.text for c in chunks] == ["aaaa bbbb", "bbbb cccc", "cccc dddd", "short one"]
    assert [c.doc_id for c in chunks] == ["p1", "p1", "p1", "p2"]
    assert [c.title for c in chunks] == ["Letters"] * 3 + [""]
    # Each range reads back from the id, and is where the chunk's text sits in the document.
    for piece in chunks[:3]:
        start, end = chunk_range(piece) or (-1, -1)
        assert FOUR[start:end] == piece.text
    assert chunk_range(chunks[3]) == (0, len("short one"))


def test_chunk_caps_overlap_at_half_the_size() -> None:
    # Pieces of 2 characters ("a ", "b ", ...), size 10: a chunk holds five. With overlap 5 the next chunk
    # keeps the last two pieces ("d e", 4 characters; a third would make 6), so each chunk moves on by three.
    text = "a b c d e f g h i j k l"
    assert texts(text, split_ranges(text, 10, 5, len)) == ["a b c d e", "d e f g h", "g h i j k", "j k l"]
    # Asked for 9, split_ranges alone would keep four pieces and move on by one (eight chunks); chunk()
    # takes at most half the size, 5, and cuts as above.
    assert len(split_ranges(text, 10, 9, len)) == 8
    pieces = chunk([Passage(id="p", text=text)], size=10, overlap=9)
    assert [c.text for c in pieces] == ["a b c d e", "d e f g h", "g h i j k", "j k l"]
