import re

_WORD = re.compile(r"[A-Za-z']+")
_SENTENCE_END = re.compile(r"[.!?]+")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def words(text):
    return [w.lower() for w in _WORD.findall(text)]


def sentences(text):
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def syllables(word):
    word = word.lower().strip("'")
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and count > 1 and not word.endswith("le"):
        count -= 1
    return max(count, 1)
