/*
 * tiller_blas: OpenBLAS for Tiller's CPU path, loaded at run time (dlopen), so the addon builds
 * without BLAS headers and a machine without OpenBLAS just reports why not.
 *
 *   load(path)         dlopen the library; returns its core name (openblas_get_corename) or throws
 *   threads(n)         openblas_set_num_threads
 *   sgemm(buf, tA, tB, M, N, K, offA, lda, offB, ldb, offC, ldc)
 *                      C = op(A) op(B), row-major float32, all three inside one ArrayBuffer (the
 *                      wasm memory of jax-js's backend) at byte offsets
 *   dgesdd(m, n, A, S, U, VT, vectors)
 *                      thin SVD of the column-major m×n float64 A (overwritten), LAPACK's dgesdd
 *                      with jobz = 'S' (or 'N': values only, U and VT untouched); returns info
 * Only N-API calls: one binary serves every Node version ≥ 18.
 */
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                        float, float *, int);
typedef void (*dgesdd_t)(const char *, const int *, const int *, double *, const int *, double *,
                         double *, const int *, double *, const int *, double *, const int *, int *,
                         int *);
typedef char *(*corename_t)(void);
typedef void (*setthreads_t)(int);

static sgemm_t p_sgemm;
static dgesdd_t p_dgesdd;
static corename_t p_corename;
static setthreads_t p_setthreads;

#define CHECK(call)                                                                            \
  if ((call) != napi_ok) {                                                                     \
    napi_throw_error(env, NULL, "tiller_blas: bad arguments");                                 \
    return NULL;                                                                               \
  }

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len));
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fail(env, dlerror());
  p_sgemm = (sgemm_t)dlsym(lib, "cblas_sgemm");
  p_dgesdd = (dgesdd_t)dlsym(lib, "dgesdd_");
  p_corename = (corename_t)dlsym(lib, "openblas_get_corename");
  p_setthreads = (setthreads_t)dlsym(lib, "openblas_set_num_threads");
  if (!p_sgemm || !p_corename || !p_setthreads)
    return fail(env, "not OpenBLAS (no cblas_sgemm/openblas_get_corename)");
  napi_value out;
  CHECK(napi_create_string_utf8(env, p_corename(), NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &n));
  if (!p_setthreads) return fail(env, "tiller_blas: load() first");
  p_setthreads(n);
  return NULL;
}

/* Byte pointer into an ArrayBuffer or a typed array's data. */
static int data_of(napi_env env, napi_value v, void **data, size_t *bytes) {
  bool is;
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is)
    return napi_get_arraybuffer_info(env, v, data, bytes) == napi_ok;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return 0;
    *bytes = length * (type == napi_float64_array ? 8 : type == napi_float32_array ? 4 : 1);
    return 1;
  }
  return 0;
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  int64_t v[11]; /* byte offsets reach 4 GiB (wasm memory): not int32 */
  void *base;
  size_t bytes;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12 || !data_of(env, argv[0], &base, &bytes)) return fail(env, "sgemm: bad arguments");
  for (int i = 0; i < 11; i++) CHECK(napi_get_value_int64(env, argv[i + 1], &v[i]));
  int64_t tA = v[0], tB = v[1], M = v[2], N = v[3], K = v[4];
  for (int i = 2; i < 11; i++)
    if (v[i] < 0 || (i != 5 && i != 7 && i != 9 && v[i] > INT32_MAX))
      return fail(env, "sgemm: size or offset out of range");
  if (M <= 0 || N <= 0 || K <= 0) return fail(env, "sgemm: empty product");
  /* Bounds: the last element each operand touches must lie inside the buffer. */
  uint64_t endA = v[5] + 4 * ((uint64_t)(tA ? K : M) - 1) * v[6] + 4 * (uint64_t)(tA ? M : K);
  uint64_t endB = v[7] + 4 * ((uint64_t)(tB ? N : K) - 1) * v[8] + 4 * (uint64_t)(tB ? K : N);
  uint64_t endC = v[9] + 4 * ((uint64_t)M - 1) * v[10] + 4 * (uint64_t)N;
  if (endA > bytes || endB > bytes || endC > bytes) return fail(env, "sgemm: operand outside the buffer");
  char *b = (char *)base;
  p_sgemm(RowMajor, tA ? Trans : NoTrans, tB ? Trans : NoTrans, (int)M, (int)N, (int)K, 1.0f,
          (const float *)(b + v[5]), (int)v[6], (const float *)(b + v[7]), (int)v[8], 0.0f,
          (float *)(b + v[9]), (int)v[10]);
  return NULL;
}

static napi_value dgesdd(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  int32_t m, n;
  bool vectors;
  void *a, *s, *u, *vt;
  size_t na, ns, nu, nvt;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 7 || !p_dgesdd) return fail(env, "dgesdd: bad arguments or no LAPACK");
  CHECK(napi_get_value_int32(env, argv[0], &m));
  CHECK(napi_get_value_int32(env, argv[1], &n));
  CHECK(napi_get_value_bool(env, argv[6], &vectors));
  if (!data_of(env, argv[2], &a, &na) || !data_of(env, argv[3], &s, &ns) ||
      !data_of(env, argv[4], &u, &nu) || !data_of(env, argv[5], &vt, &nvt))
    return fail(env, "dgesdd: bad arguments");
  int k = m < n ? m : n;
  if (m <= 0 || n <= 0 || na < 8 * (size_t)m * n || ns < 8 * (size_t)k ||
      (vectors && (nu < 8 * (size_t)m * k || nvt < 8 * (size_t)k * n)))
    return fail(env, "dgesdd: arrays too small");
  const char *jobz = vectors ? "S" : "N";
  int lwork = -1, info_ = 0, ldu = vectors ? m : 1, ldvt = vectors ? k : 1;
  int *iwork = malloc(sizeof(int) * 8 * (size_t)k);
  double query = 0;
  p_dgesdd(jobz, &m, &n, a, &m, s, u, &ldu, vt, &ldvt, &query, &lwork, iwork, &info_);
  lwork = (int)query;
  double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
  if (!iwork || !work) {
    free(iwork);
    free(work);
    return fail(env, "dgesdd: out of memory");
  }
  p_dgesdd(jobz, &m, &n, a, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info_);
  free(iwork);
  free(work);
  napi_value out;
  CHECK(napi_create_int32(env, info_, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"dgesdd", NULL, dgesdd, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 4, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
