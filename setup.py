"""Build fastnn's Cython extensions over the C kernels in csrc/.

-O3, OpenMP when the compiler has it (FASTNN_NO_OPENMP=1 forces a serial build), no
fast-math and no tuning for the build machine: hot loops pick AVX-512 / AVX2 at run time.
"""
import glob
import os
import sys
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# one extension per kernel family: its .pyx and the C files it calls
FAMILIES = {
    "activations": ["activations.c"],
    "softmax": ["softmax.c"],
    "update": ["update.c"],
    "dense": ["dense.c", "rows.c"],
    "embedding": ["embedding.c", "windows.c"],
    "sparse": ["sparse.c"],
    "openmp": ["threads.c"],
    "sgns": ["sgns.c"],
    "linsgd": ["linsgd.c"],
    "linsparse": ["linsparse.c"],
    "rnn": ["rnn.c", "activations.c", "dense.c"],
    # issue 4: fused MLP mini-batch
    "mlp": ["mlp.c"],
}
OPENMP_FLAG = "/openmp" if sys.platform == "win32" else "-fopenmp"
OPENMP_PROBE = "#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n"


def compiler_has_openmp(compiler):
    """Compile and link a tiny OpenMP program: the only reliable test."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        try:
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=[OPENMP_FLAG])
            compiler.link_executable(objs, os.path.join(tmp, "probe"),
                                     extra_postargs=[OPENMP_FLAG])
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        use_openmp = os.environ.get("FASTNN_NO_OPENMP", "") in ("", "0")
        if use_openmp and not compiler_has_openmp(self.compiler):
            print("fastnn: the compiler has no OpenMP; building serial kernels")
            use_openmp = False
        for ext in self.extensions:
            if self.compiler.compiler_type == "msvc":
                ext.extra_compile_args = ["/O2"]
            if use_openmp:
                ext.extra_compile_args.append(OPENMP_FLAG)
                ext.extra_link_args.append(OPENMP_FLAG)
        super().build_extensions()


extensions = [
    Extension(
        f"fastnn._kernels.{name}",
        [f"fastnn/_kernels/{name}.pyx"] + [f"csrc/{c}" for c in sources],
        include_dirs=["csrc"],
        # a family rebuilds when a header or a kernel body changes (bodies include
        # shared parts, e.g. linstep.inc)
        depends=glob.glob("csrc/*.h") + glob.glob("csrc/*.inc"),
        # -fno-trapping-math lets GCC vectorise branch-free selects around divisions; it
        # changes no result (only which FP exception flags may be raised), unlike fast-math
        # -fopenmp-simd: the kernels' `omp simd` loops vectorise in serial builds too
        extra_compile_args=["-O3", "-std=gnu11", "-fno-trapping-math", "-fopenmp-simd"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for name, sources in FAMILIES.items()
]

setup(
    ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": BuildExt},
)
