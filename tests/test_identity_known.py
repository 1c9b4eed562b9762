"""identity.Known finds, by index, exactly the values a comparison with each would find:
the plan's corrected keys and deaths stop births ask it instead of comparing a batch with
every letter the ledger found."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cchc_letters.identity import Identity, Known

# Few IDs and names, so that identities share one, the other, both or neither.
identities = st.builds(
    Identity,
    st.one_of(st.none(), st.sampled_from(["id-1", "id-2", "id-3"])),
    st.one_of(st.none(), st.sampled_from(["name-a", "name-b", "name-c"])),
)


@given(st.lists(identities, max_size=12), identities)
def test_known_gives_what_comparing_with_each_gives_in_the_same_order(stored, asked):
    pairs = [(who, n) for n, who in enumerate(stored)]
    assert list(Known(pairs).same(asked)) == [n for who, n in pairs if asked.same(who)]


def test_an_id_decides_over_a_shared_name_and_a_name_serves_when_an_id_is_missing():
    known = Known(
        [
            (Identity("id-1", "name-a"), "same ID, other name"),
            (Identity("id-2", "name-b"), "same name, other ID"),
            (Identity(None, "name-b"), "same name, no ID"),
        ]
    )
    assert list(known.same(Identity("id-1", "name-b"))) == [
        "same ID, other name",
        "same name, no ID",
    ]
    assert list(known.same(Identity(None, "name-b"))) == ["same name, other ID", "same name, no ID"]
    assert list(known.same(Identity(None, None))) == []
