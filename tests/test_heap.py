"""A long batch run's garbage collections leave out the objects it started with."""

from __future__ import annotations

import gc
import weakref

from normhub.heap import frozen_heap


class Cycle:
    """An object the collector tracks, in a reference cycle with itself."""

    def __init__(self):
        self.me = self


def in_a_generation(obj) -> bool:
    return any(obj is tracked for gen in range(3) for tracked in gc.get_objects(generation=gen))


def test_the_objects_alive_are_left_out_inside_the_block_and_handed_back_after():
    assert gc.get_freeze_count() == 0
    before = Cycle()
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        assert not in_a_generation(before)
        made_inside = Cycle()
        assert in_a_generation(made_inside)  # the block's own objects are collected as usual
    assert gc.get_freeze_count() == 0
    assert in_a_generation(before)


def test_garbage_frozen_with_the_heap_is_collected_after_the_block():
    garbage = Cycle()
    gone = weakref.ref(garbage)
    with frozen_heap():
        del garbage
        gc.collect()
        assert gone() is not None
    gc.collect()
    assert gone() is None


def test_a_process_that_froze_its_heap_keeps_it_frozen():
    # Asked of an object, not of the frozen count: another thread of the test process
    # may free frozen objects meanwhile (the count once fell by 2 under CI).
    before = Cycle()
    gc.freeze()
    try:
        with frozen_heap():
            assert not in_a_generation(before)
        assert not in_a_generation(before)  # still frozen: the block did not unfreeze it
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert in_a_generation(before)
