/*
 * MLX's Linux CPU wheel calls three CBLAS GEMM functions and resolves them from the reference (netlib)
 * BLAS it ships, which is 20-40x slower than OpenBLAS. The scipy-openblas32 wheel carries OpenBLAS,
 * but with every symbol prefixed ("scipy_cblas_sgemm"). This library exports the plain names and
 * forwards them; loaded with RTLD_GLOBAL before MLX's first matmul, it wins symbol resolution.
 * See engine/blas.py.
 */
#include <dlfcn.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                         double *, int);
typedef void (*cgemm_fn)(int, int, int, int, int, int, const void *, const void *, int, const void *, int,
                         const void *, void *, int);

static sgemm_fn openblas_sgemm;
static dgemm_fn openblas_dgemm;
static cgemm_fn openblas_cgemm;

/* Bind to the OpenBLAS library at `path`. Returns 0 on success, -1 if it cannot be opened, -2 if a
 * function is missing. Until it succeeds nothing is forwarded, so only call MLX after it returns 0. */
int cabin_bind_openblas(const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return -1;
    openblas_sgemm = (sgemm_fn)dlsym(lib, "scipy_cblas_sgemm");
    openblas_dgemm = (dgemm_fn)dlsym(lib, "scipy_cblas_dgemm");
    openblas_cgemm = (cgemm_fn)dlsym(lib, "scipy_cblas_cgemm");
    return (openblas_sgemm && openblas_dgemm && openblas_cgemm) ? 0 : -2;
}

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    openblas_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc) {
    openblas_dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_cgemm(int order, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int lda,
                 const void *b, int ldb, const void *beta, void *c, int ldc) {
    openblas_cgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
