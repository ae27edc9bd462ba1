"""Name, block size and bytes per block of each ggml tensor type (the one table: GGUF reading and writing, the
memory estimator and llama.cpp's oracle all look types up here), without importing the `gguf` package (numpy and
all of gguf cost about 0.3 s, most of what `invoke plan-memory --gguf` did). The table is ggml's own
(ggml.h / gguf.constants.GGML_QUANT_SIZES); tests/unit/gguf/test_qtypes.py holds it equal to the installed gguf's.
A type id not in it (a newer ggml) falls back to the gguf package.
"""

from __future__ import annotations

# ggml type id: (its name in ggml.h, elements per block, bytes per block)
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}
QUANT_SIZES: dict[int, tuple[int, int]] = {t: (b, size) for t, (_, b, size) in GGML_TYPES.items()}
TYPE_IDS: dict[str, int] = {name: t for t, (name, _, _) in GGML_TYPES.items()}  # "Q8_0" -> 8
# The types llama.cpp takes for its KV cache (common/arg.cpp kv_cache_types; -ctk/-ctv, Ollama's
# OLLAMA_KV_CACHE_TYPE), by the lower-case names ggml_type_name gives them.
KV_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


def block(qtype: int) -> tuple[int, int]:
    """(elements per block, bytes per block) of a ggml type id."""
    try:
        return QUANT_SIZES[qtype]
    except KeyError:
        from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

        return GGML_QUANT_SIZES[GGMLQuantizationType(qtype)]


def block_of(name: str) -> tuple[int, int]:
    """(elements per block, bytes per block) of a ggml type by name, in any case ("q8_0", "Q8_0"); KeyError
    for a name ggml does not have."""
    return QUANT_SIZES[TYPE_IDS[name.upper()]]


def bytes_per_weight(name: str) -> float:
    """Bytes one weight takes in a ggml type (by name): bytes per block over elements per block."""
    block_, size = block_of(name)
    return size / block_
