"""Build the optional C extensions; the package falls back to pure Python/numpy without them.

* ``linkage.matching._cdice``: the Dice similarity kernel (encoded zone, no dependencies).
* ``linkage.bloom._hmac``: batch HMAC-SHA256 through OpenSSL's libcrypto for the encoder
  (plaintext zone); needs the OpenSSL 3 headers (Debian: libssl-dev).
* ``linkage.bloom._bits``: sets records' Bloom-filter bits from their tokens' hash words
  (plaintext zone, no dependencies).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "linkage.matching._cdice",
            sources=["linkage/matching/_cdice.c"],
            extra_compile_args=["-O3", "-std=c11"],
            optional=True,
        ),
        Extension(
            "linkage.bloom._hmac",
            sources=["linkage/bloom/_hmac.c"],
            extra_compile_args=["-O2", "-std=c11"],
            libraries=["crypto"],
            optional=True,
        ),
        Extension(
            "linkage.bloom._bits",
            sources=["linkage/bloom/_bits.c"],
            extra_compile_args=["-O3", "-std=c11"],
            optional=True,
        ),
    ]
)
