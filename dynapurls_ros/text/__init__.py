"""Action descriptions (eight slots, YAML banks) and the text encoders that embed them.

``descriptions`` is pure Python; importing ``encoder`` pulls in torch, and the backends
import ``transformers`` only when constructed.
"""

from dynapurls_ros.text.descriptions import (
    GLOBAL_SLOT,
    PART_SLOTS,
    PHASE_SLOTS,
    SLOTS,
    ActionDescription,
    BankError,
    label_only_description,
    load_bank,
)

__all__ = [
    "GLOBAL_SLOT",
    "PART_SLOTS",
    "PHASE_SLOTS",
    "SLOTS",
    "ActionDescription",
    "BankError",
    "label_only_description",
    "load_bank",
]
