"""Dynamic refinement: online test-time adaptation of the class texts.

``refiner`` holds the method (:class:`TextRefiner`, :class:`RefinementConfig`), used by
the recognizer through its small interface; ``stream`` replays labelled test sets
through it for the benchmarks and ``dynapurls evaluate --refine``.
"""

from dynapurls_ros.refinement.refiner import RefinementConfig, TextRefiner

__all__ = ["RefinementConfig", "TextRefiner"]
