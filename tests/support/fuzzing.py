"""A small deterministic mutation fuzzer for the parsers of outside data.

A Target is a function of bytes, seeds (small valid inputs built in code) and the errors
it documents. `fuzz` mutates the seeds with a seeded generator (bit flips, interesting
values, chunk insertion, deletion and duplication, truncation, splicing, dictionary
tokens and, for JSON targets, type confusion in the parsed tree) and runs the target on
each input: returning or raising a documented error is fine, anything else is a Crash
kept with the input that reproduces it. The same seed gives the same inputs.
"""

from __future__ import annotations

import json
import random
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

_INTERESTING_8: Final = (0, 1, 0x7F, 0x80, 0xFF)
_INTERESTING_16: Final = (0, 0x7FFF, 0x8000, 0xFFFF, 0x0100)
_INTERESTING_32: Final = (0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x00010000, 100_000)
_NUMBERS: Final = (b"0", b"-1", b"1e999", b"-0", b"99999999999999999999", b"1.5", b"NaN")
_DIGITS: Final = re.compile(rb"[0-9]+")
_CORPUS_CAP: Final = 256
_SHOWN_HEX: Final = 4096  # bytes of a crashing input shown in a report


@dataclass(frozen=True)
class Target:
    """A parser of outside data under fuzzing."""

    name: str
    run: Callable[[bytes], object]
    """The parser on one input; what it returns, if a str, labels the outcome."""
    seeds: tuple[bytes, ...]
    allowed: tuple[type[BaseException], ...]
    """The errors the parser documents; any other exception is a crash."""
    tokens: tuple[bytes, ...] = ()
    """Format-specific byte strings worth inserting (chunk names, keywords, separators)."""
    json_tree: bool = False
    """Inputs are JSON: also mutate the parsed value (types, sizes, nesting)."""
    max_size: int = 64 * 1024


@dataclass(frozen=True)
class Crash:
    """An input that made a target raise an undocumented error."""

    target: str
    error: str
    where: str
    data: bytes

    def describe(self) -> str:
        """The crash on a few lines, with the input as hex to reproduce it."""
        shown = self.data[:_SHOWN_HEX].hex()
        more = "" if len(self.data) <= _SHOWN_HEX else f" (first {_SHOWN_HEX} of {len(self.data)})"
        return f"{self.target}: {self.error} at {self.where}\n  input{more}: {shown}"


@dataclass
class FuzzReport:
    """What one run of one target found."""

    target: str
    iterations: int = 0
    seconds: float = 0.0
    crashes: dict[tuple[str, str], Crash] = field(default_factory=dict)
    """The first crash of each (error type, place) pair."""
    outcomes: Counter[str] = field(default_factory=Counter)
    """How often each documented error type, "CRASH <type>" or result label came back."""


def fuzz(
    target: Target, *, iterations: int | None = None, seconds: float | None = None, seed: int = 0
) -> FuzzReport:
    """Run `target` on its seeds, then on mutants until `iterations` or `seconds` run out."""
    if iterations is None and seconds is None:
        raise ValueError("give iterations, seconds or both")
    rng = random.Random(f"{seed}:{target.name}")
    mutator = Mutator(rng, target.tokens, target.max_size)
    corpus = list(target.seeds)
    report = FuzzReport(target.name)
    started = time.perf_counter()
    inputs = iter(corpus[:])
    while True:
        if iterations is not None and report.iterations >= iterations:
            break
        if seconds is not None and time.perf_counter() - started >= seconds:
            break
        data = next(inputs, None)
        if data is None:
            data = _child(rng, mutator, corpus, target.json_tree)
        if _run_one(target, data, report) and len(corpus) < _CORPUS_CAP and rng.random() < 0.1:
            corpus.append(data)  # inputs the parser accepts make good parents
        report.iterations += 1
    report.seconds = time.perf_counter() - started
    return report


def _child(rng: random.Random, mutator: Mutator, corpus: list[bytes], json_tree: bool) -> bytes:
    parent = rng.choice(corpus)
    if json_tree and rng.random() < 0.5:
        tree = _json_or_none(parent)
        if tree is not None:
            text = json.dumps(mutate_json(tree, rng), ensure_ascii=rng.random() < 0.5)
            data = text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8
            if len(data) <= mutator.max_size:  # grown lists of long strings can get huge
                return data
    return mutator.mutate(parent, corpus)


def _run_one(target: Target, data: bytes, report: FuzzReport) -> bool:
    """Run once; True when the target returned normally."""
    try:
        label = target.run(data)
    except target.allowed as error:
        report.outcomes[type(error).__name__] += 1
        return False
    except Exception as error:  # the crash the fuzzer is looking for
        where = _innermost(error)
        key = (type(error).__name__, where)
        if key not in report.crashes:
            text = " ".join(str(error).split())[:200]
            report.crashes[key] = Crash(target.name, f"{type(error).__name__}: {text}", where, data)
        report.outcomes["CRASH " + type(error).__name__] += 1
        return False
    report.outcomes[label if isinstance(label, str) else "ok"] += 1
    return True


def _innermost(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    ours = [f for f in frames if "/shieldwall/" in f.filename] or frames
    frame = ours[-1]
    return f"{frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno}"


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


class Mutator:
    """Byte-level mutations of an input, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, tokens: Sequence[bytes], max_size: int) -> None:
        self.rng = rng
        self.tokens = tuple(tokens) or (b"\x00",)
        self.max_size = max_size
        self._ops: tuple[Callable[[bytearray, Sequence[bytes]], None], ...] = (
            self._flip_bit,
            self._set_byte,
            self._set_word,
            self._insert_random,
            self._delete_chunk,
            self._duplicate_chunk,
            self._truncate,
            self._splice,
            self._insert_token,
            self._insert_token,
            self._replace_number,
            self._repeat_chunk,
        )

    def mutate(self, data: bytes, corpus: Sequence[bytes]) -> bytes:
        """One to four mutations of `data`, cut to the target's size cap."""
        out = bytearray(data)
        for _ in range(self.rng.randint(1, 4)):
            self.rng.choice(self._ops)(out, corpus)
        return bytes(out[: self.max_size])

    def _pos(self, out: bytearray, end: bool = False) -> int:
        return self.rng.randint(0, len(out)) if end or not out else self.rng.randrange(len(out))

    def _span(self, out: bytearray) -> tuple[int, int]:
        start = self._pos(out)
        length = self.rng.choice((1, 2, 4, 8, 16, 64, max(1, len(out) // 4)))
        return start, min(len(out), start + length)

    def _flip_bit(self, out: bytearray, _: Sequence[bytes]) -> None:
        if out:
            out[self._pos(out)] ^= 1 << self.rng.randrange(8)

    def _set_byte(self, out: bytearray, _: Sequence[bytes]) -> None:
        if out:
            out[self._pos(out)] = self.rng.choice((*_INTERESTING_8, self.rng.randrange(256)))

    def _set_word(self, out: bytearray, _: Sequence[bytes]) -> None:
        size = self.rng.choice((2, 4))
        values = _INTERESTING_16 if size == 2 else _INTERESTING_32
        word = self.rng.choice(values).to_bytes(size, self.rng.choice(("big", "little")))
        at = self._pos(out)
        out[at : at + size] = word

    def _insert_random(self, out: bytearray, _: Sequence[bytes]) -> None:
        at = self._pos(out, end=True)
        out[at:at] = self.rng.randbytes(self.rng.randint(1, 16))

    def _delete_chunk(self, out: bytearray, _: Sequence[bytes]) -> None:
        start, stop = self._span(out)
        del out[start:stop]

    def _duplicate_chunk(self, out: bytearray, _: Sequence[bytes]) -> None:
        start, stop = self._span(out)
        at = self._pos(out, end=True)
        out[at:at] = out[start:stop]

    def _repeat_chunk(self, out: bytearray, _: Sequence[bytes]) -> None:
        start, stop = self._span(out)
        # Never past the size cap: a bigger copy would only be cut again, at a cost.
        room = max(0, self.max_size - len(out)) // max(1, stop - start)
        times = min(self.rng.choice((2, 10, 100, 1000)), room + 1)
        out[start:stop] = bytes(out[start:stop]) * times

    def _truncate(self, out: bytearray, _: Sequence[bytes]) -> None:
        del out[self._pos(out, end=True) :]

    def _splice(self, out: bytearray, corpus: Sequence[bytes]) -> None:
        other = self.rng.choice(corpus)
        cut = self._pos(out, end=True)
        out[cut:] = other[self.rng.randint(0, len(other)) :]

    def _insert_token(self, out: bytearray, _: Sequence[bytes]) -> None:
        at = self._pos(out, end=True)
        out[at:at] = self.rng.choice(self.tokens)

    def _replace_number(self, out: bytearray, _: Sequence[bytes]) -> None:
        """Replace a run of ASCII digits with an extreme or malformed number."""
        match = _DIGITS.search(out, self._pos(out, end=True)) or _DIGITS.search(out)
        if match is not None:
            out[match.start() : match.end()] = self.rng.choice(_NUMBERS)


def mutate_json(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """`value` with one of its parts replaced by a value of another type or size."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        changed = dict(value)
        if rng.random() < 0.1:
            renamed = rng.choice(("", "x" * 300, "\u0000", "unknown", str(key).upper()))
            changed[renamed] = changed.pop(key)
        elif rng.random() < 0.1:
            del changed[key]
        else:
            changed[key] = mutate_json(value[key], rng, depth + 1)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.8:
        at = rng.randrange(len(value))
        changed_list = list(value)
        if rng.random() < 0.15:
            changed_list.extend([changed_list[at]] * rng.choice((1, 10, 1000)))
        else:
            changed_list[at] = mutate_json(value[at], rng, depth + 1)
        return changed_list
    return _odd_value(rng, depth)


def _odd_value(rng: random.Random, depth: int) -> Any:
    """A JSON value of a surprising type, size or form."""
    choices: list[Any] = [
        None,
        True,
        False,
        0,
        -1,
        2**64,
        10**400,
        1.5,
        float("inf"),
        float("nan"),
        "",
        " ",
        "x" * rng.choice((1, 300, 70_000)),
        "\u0000",
        "\ud800",
        "١٢٣",  # digits int() accepts
        "<b>x</b>",
        [],
        {},
        [None],
        {"": None},
    ]
    if depth < 3:
        nested: Any = []
        for _ in range(rng.choice((2, 50, 900))):  # json.dumps stops near 1,000 levels
            nested = [nested]
        choices.append(nested)
    return rng.choice(choices)
