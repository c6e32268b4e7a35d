"""The node's two background threads, kept free of ROS so they can be tested alone.

- ``VocabularyWorker`` encodes a new vocabulary (seconds of text-model time) off the
  executor, so recognition carries on with the old one meanwhile;
- ``InferenceLoop`` runs the forward pass on its own thread as soon as a message makes a
  window due, so a label waits for the model and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class VocabularyWorker:
    """Encodes vocabularies one at a time, off the executor threads.

    Only the newest request matters: one superseded before or during its encoding is
    discarded, so a burst of ``ros2 param set`` calls ends on the last value.
    """

    def __init__(
        self,
        encode: Callable[[list[str], str], Any],
        on_ready: Callable[[list[str], str, Any], None],
        on_error: Callable[[list[str], Exception], None],
    ) -> None:
        self._encode, self._on_ready, self._on_error = encode, on_ready, on_error
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vocabulary")
        self._lock = threading.Lock()
        self._generation = 0

    def request(self, labels: list[str], descriptions_file: str) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        self._pool.submit(self._run, generation, labels, descriptions_file)

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _run(self, generation: int, labels: list[str], descriptions_file: str) -> None:
        if not self._current(generation):
            return
        try:
            vocabulary = self._encode(labels, descriptions_file)
        except Exception as error:  # noqa: BLE001 - any failure keeps the old vocabulary
            self._on_error(labels, error)
            return
        if self._current(generation):
            self._on_ready(labels, descriptions_file, vocabulary)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class InferenceLoop:
    """Runs ``step`` on a dedicated thread whenever woken, and at least every
    ``idle_period`` seconds (for what no message announces: a person timing out with a
    window due).

    A wake that arrives while ``step`` runs is kept, so the windows that fell due
    meanwhile are cut right after it. ``step`` must handle its own errors; one that
    escapes is reported through ``on_error`` and the loop goes on, since a node that
    keeps receiving but silently stops labelling is worse than one that says why.
    """

    def __init__(
        self,
        step: Callable[[], None],
        idle_period: float,
        on_error: Callable[[Exception], None],
    ) -> None:
        self._step, self._idle_period, self._on_error = step, idle_period, on_error
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._idle_period)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._step()
            except Exception as error:  # noqa: BLE001 - reported, and labelling goes on
                self._on_error(error)

    def stop(self, timeout: float = 5.0) -> None:
        """Ends the loop after the current step (waits at most ``timeout`` seconds)."""
        self._stopping = True
        self._wake.set()
        if self.alive:
            self._thread.join(timeout)
