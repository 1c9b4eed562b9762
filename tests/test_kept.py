"""kept.Kept: values kept by key and stamp, under a weight limit, computed once at a time."""

from __future__ import annotations

import threading
import time

import pytest

from cchc_letters.kept import Kept, file_stamp


class Maker:
    """make() for a key: records each call, returns a fresh value."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, key: str, size: int = 1):
        def make() -> list[str]:
            self.calls.append(key)
            return [key] * size

        return make


def test_a_value_is_given_back_for_its_stamp_and_made_anew_for_another():
    kept: Kept[str, list[str]] = Kept(10)
    make = Maker()
    first = kept.get("a", 1, make("a"))
    assert kept.get("a", 1, make("a")) is first
    assert make.calls == ["a"]
    second = kept.get("a", 2, make("a"))  # the file changed since
    assert second is not first and make.calls == ["a", "a"]
    assert kept.get("a", 2, make("a")) is second
    assert kept.get("a", 1, make("a")) is not second  # the old stamp is not kept beside it
    assert make.calls == ["a", "a", "a"]


def test_the_values_stay_under_their_weight_the_longest_unused_dropped():
    kept: Kept[str, list[str]] = Kept(6, weight=len)
    make = Maker()
    kept.get("a", 0, make("a", 3))
    kept.get("b", 0, make("b", 3))
    kept.get("a", 0, make("a", 3))  # a used last: b is the longest unused
    kept.get("c", 0, make("c", 3))  # over the limit: b dropped
    assert make.calls == ["a", "b", "c"]
    kept.get("a", 0, make("a", 3))
    assert make.calls[-1] == "c"  # a kept
    kept.get("b", 0, make("b", 3))
    assert make.calls[-1] == "b"  # b made again
    big = kept.get("d", 0, make("d", 10))  # heavier than the limit: still kept, alone
    assert kept.get("d", 0, make("d", 10)) is big
    assert make.calls == ["a", "b", "c", "b", "d"]
    kept.get("a", 0, make("a", 3))
    assert make.calls[-1] == "a"


def test_what_make_raises_is_raised_and_nothing_kept():
    kept: Kept[str, list[str]] = Kept(10)
    make = Maker()

    def failing() -> list[str]:
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        kept.get("a", 0, failing)
    kept.get("a", 0, make("a"))
    assert make.calls == ["a"]


def test_two_asking_for_one_value_at_once_make_it_once_and_others_do_not_wait():
    kept: Kept[str, object] = Kept(10)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> object:
        calls.append("slow")
        started.set()
        assert release.wait(10)
        return "the value"

    answers: list[object] = []
    first = threading.Thread(target=lambda: answers.append(kept.get("a", 0, slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: answers.append(kept.get("a", 0, slow)))
    second.start()
    # while "a" is being made, another key is answered at once
    assert kept.get("b", 0, lambda: "other") == "other"
    time.sleep(0.2)  # (not join(0.2): a lock's timeout never ends under faketime)
    assert second.is_alive()  # waiting for the first, not making it again
    release.set()
    first.join(10)
    second.join(10)
    assert answers == ["the value", "the value"] and calls == ["slow"]


def test_a_files_stamp_changes_with_its_content_and_is_none_without_the_file(tmp_path):
    import os

    def write(text: str, at_second: int) -> tuple[int, int] | None:
        path.write_text(text)
        os.utime(path, ns=(at_second * 10**9, at_second * 10**9))
        return file_stamp(path)

    path = tmp_path / "manifest.csv"
    assert file_stamp(path) is None and file_stamp(None) is None
    first = write("one", 1)
    assert first == file_stamp(path) == (3, 10**9)  # asked again, unchanged
    assert write("two", 2) != first  # the same size, written later
    assert write("three", 2) != (3, 2 * 10**9)  # the same time, another size


def _soon(kept: Kept, key: str, stamp: int, make):
    """Ask ``soon`` until the value is there (polled with time.sleep: see the test above)."""
    for _ in range(400):
        value = kept.soon(key, stamp, make)
        if value is not None:
            return value
        time.sleep(0.01)
    raise AssertionError("never computed")


def test_soon_computes_in_the_background_and_hands_on_a_failure_for_its_stamp_only():
    kept: Kept[str, list[str]] = Kept(10)
    release = threading.Event()
    calls: list[int] = []

    def make(stamp: int, fails: bool = False):
        def compute() -> list[str]:
            calls.append(stamp)
            release.wait()
            if fails:
                raise ValueError(f"failed at {stamp}")
            return [str(stamp)]

        return compute

    try:
        assert kept.soon("a", 1, make(1, fails=True)) is None  # started
        assert kept.soon("a", 1, make(1, fails=True)) is None  # still running: not again
        release.set()
        with pytest.raises(ValueError, match="failed at 1"):
            _soon(kept, "a", 1, make(1, fails=True))
        assert calls == [1]
        assert _soon(kept, "a", 1, make(1)) == ["1"]  # asked again: computed again
        assert calls == [1, 1]
        assert kept.soon("a", 1, make(1)) == ["1"]  # kept
        release.clear()
        assert kept.soon("a", 2, make(2, fails=True)) is None  # another stamp: computed anew
        release.set()
        for _ in range(400):  # its failure waits for an ask of stamp 2 …
            if calls == [1, 1, 2] and not kept._behind:
                break
            time.sleep(0.01)
        assert _soon(kept, "a", 3, make(3)) == ["3"]  # … not of stamp 3
    finally:
        release.set()
