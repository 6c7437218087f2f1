"""Build the optional C similarity kernel; the package falls back to numpy if it cannot be built."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "linkage.matching._cdice",
            sources=["linkage/matching/_cdice.c"],
            extra_compile_args=["-O3", "-std=c11"],
            optional=True,
        )
    ]
)
