"""The store is the one owner of the cached history: it never holds what the database does not."""

from devhost.runtime.store import Store


def test_the_history_cache_never_holds_what_a_rollback_undid() -> None:
    """The store owns the cached history: a savepoint or transaction that rolls back drops the
    instances it touched, so the next read comes from the database again."""
    store = Store(None)
    with store.transaction():
        store.append_history("kept", ['{"n":0}'])
    assert list(store.played_history("kept")) == ['{"n":0}']
    with store.transaction():
        store.append_history("kept", ['{"n":1}'])
        try:
            with store.transaction():  # a savepoint that fails
                store.append_history("kept", ['{"n":2}'])
                assert len(store.played_history("kept")) == 3
                raise RuntimeError("episode failed")
        except RuntimeError:
            pass
        assert list(store.played_history("kept")) == ['{"n":0}', '{"n":1}']
    try:
        with store.transaction():  # a whole group that fails
            store.clear_history("kept")
            assert list(store.played_history("kept")) == []
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert list(store.played_history("kept")) == ['{"n":0}', '{"n":1}']
    assert store.load_history("kept") == [{"n": 0}, {"n": 1}]
