from textstats import summary
from textstats.tokenize import sentences, syllables, words

TEXT = "The cat sat on the mat. The dog sat too! Did the bird sing?"


def test_words_are_lowercased():
    assert words("Hello, World") == ["hello", "world"]


def test_sentences_split_on_terminators():
    assert sentences(TEXT) == ["The cat sat on the mat", "The dog sat too", "Did the bird sing"]


def test_syllables():
    assert syllables("cat") == 1
    assert syllables("table") == 2
    assert syllables("make") == 1
    assert syllables("banana") == 3


def test_summary_counts():
    s = summary(TEXT)
    assert s["words"] == 14
    assert s["sentences"] == 3
    assert s["top"][0] == ("the", 4)
    assert s["reading_ease"] > 90


def test_summary_of_empty_text():
    assert summary("")["reading_ease"] == 0.0
