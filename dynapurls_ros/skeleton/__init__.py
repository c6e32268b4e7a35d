"""Skeleton data (numpy only): joint layouts and the preprocessing shared by training and
the live node."""

from .layouts import CANONICAL, CANONICAL_BONES, LAYOUTS, JointLayout, get_layout
from .preprocess import clean, normalize, resample, select_main_body, to_input

__all__ = [
    "CANONICAL",
    "CANONICAL_BONES",
    "LAYOUTS",
    "JointLayout",
    "get_layout",
    "clean",
    "normalize",
    "resample",
    "select_main_body",
    "to_input",
]
