// mock_attention.cu - naive attention kernels with flashc's kernel ABI.
//
// NOT flashc's kernels: a one-thread-per-row CUDA implementation of the
// semantics (DESIGN.md) behind exactly the calling convention the generated
// kernels have (runtime/Manifest.h, passes/KernelABI.h). make-mock-kernels.sh
// compiles it to PTX (and a cubin) once per configuration with -D options,
// and writes a flashc.json beside it, so that the runtime, flashc-gpu-tests
// and bench/run_gpu_tests.sh can be checked on a GPU before codegen/nvidia
// produces real kernels. Every option is a macro:
//
//   ELT 0|1|2 (f16, bf16, f32), D, DV, BQ, BK (rows per CTA = threads),
//   SCALE, CAUSAL, BOTTOM_RIGHT, WINDOW_LEFT, WINDOW_RIGHT (-1: none),
//   HAS_SOFTCAP and SOFTCAP, ALIBI, SEQLENS_Q, SEQLENS_K, LAYOUT, LAYOUT_BQ,
//   LAYOUT_BK, HAS_DROPOUT and DROPOUT_P, CUSTOM_MASK (1: prefix16),
//   CUSTOM_SCORE (1: tanhmix), DYN_SHARED (touch dynamic shared memory),
//   FAULT (0: none; 1-6 plant one bug each, for negative controls that
//   flashc-gpu-tests must catch: see make_mock_kernels.py --faulty).

#include <cstdint>
#include <cuda_bf16.h>

#ifndef WINDOW_LEFT
#define WINDOW_LEFT -1
#endif
#ifndef WINDOW_RIGHT
#define WINDOW_RIGHT -1
#endif
#ifndef SCALE
#define SCALE 0.125f
#endif
#ifndef FAULT
#define FAULT 0
#endif
#include <cuda_fp16.h>

#if ELT == 0
typedef __half T;
__device__ inline float toF(T x) { return __half2float(x); }
__device__ inline T fromF(float x) { return __float2half_rn(x); }
#elif ELT == 1
typedef __nv_bfloat16 T;
__device__ inline float toF(T x) { return __bfloat162float(x); }
__device__ inline T fromF(float x) { return __float2bfloat16_rn(x); }
#else
typedef float T;
__device__ inline float toF(T x) { return x; }
__device__ inline T fromF(float x) { return x; }
#endif

// Expanded memref descriptors: allocated, aligned, offset, sizes, strides.
#define DESC4(Ty, n)                                                           \
  Ty *n##_a, Ty *n, int64_t n##_o, int64_t n##_s0, int64_t n##_s1,             \
      int64_t n##_s2, int64_t n##_s3, int64_t n##_t0, int64_t n##_t1,          \
      int64_t n##_t2, int64_t n##_t3
#define DESC3(Ty, n)                                                           \
  Ty *n##_a, Ty *n, int64_t n##_o, int64_t n##_s0, int64_t n##_s1,             \
      int64_t n##_s2, int64_t n##_t0, int64_t n##_t1, int64_t n##_t2
#define DESC1(Ty, n) Ty *n##_a, Ty *n, int64_t n##_o, int64_t n##_s0, int64_t n##_t0

#define AT4(n, b, h, i, d)                                                     \
  n[n##_o + (b) * n##_t0 + (h) * n##_t1 + (i) * n##_t2 + (d) * n##_t3]
#define AT3(n, b, h, i) n[n##_o + (b) * n##_t0 + (h) * n##_t1 + (i) * n##_t2]

#if SEQLENS_Q
#define SEQQ_PARAMS , DESC1(const int32_t, sq)
#else
#define SEQQ_PARAMS
#endif
#if SEQLENS_K
#define SEQK_PARAMS , DESC1(const int32_t, sk)
#else
#define SEQK_PARAMS
#endif
#if LAYOUT
#define LAYOUT_PARAMS , DESC3(const int32_t, lo), DESC1(const int32_t, lb)
#else
#define LAYOUT_PARAMS
#endif
#if HAS_DROPOUT
#define DROPOUT_PARAMS , int64_t seed, int64_t offset
#else
#define DROPOUT_PARAMS
#endif
#define OPT_PARAMS SEQQ_PARAMS SEQK_PARAMS LAYOUT_PARAMS DROPOUT_PARAMS

#if DYN_SHARED
extern __shared__ float dynShared[];
// Writes and reads the last word of the opted-in dynamic shared memory, so
// that a launch without the opt-in would fail.
#define TOUCH_SHARED()                                                         \
  do {                                                                         \
    dynShared[DYN_SHARED / 4 - 1 - threadIdx.x] = 1.0f;                        \
    __syncthreads();                                                           \
    if (dynShared[DYN_SHARED / 4 - 1 - threadIdx.x] != 1.0f)                   \
      __trap();                                                                \
  } while (0)
#else
#define TOUCH_SHARED()                                                         \
  do {                                                                         \
  } while (0)
#endif

struct Lens {
  int64_t nq, nk, shift;
};

__device__ inline int64_t clampLen(int64_t v, int64_t n) {
  return v < 0 ? 0 : (v > n ? n : v);
}

__device__ inline bool kept(const Lens &l, int64_t b, int64_t h, int64_t i,
                            int64_t j) {
  if (i >= l.nq || j >= l.nk)
    return false;
#if CAUSAL
  if (j > i + l.shift)
    return false;
#endif
#if WINDOW_LEFT >= 0
  if (j < i + l.shift - WINDOW_LEFT)
    return false;
#endif
#if WINDOW_RIGHT >= 0
  if (j > i + l.shift + WINDOW_RIGHT)
    return false;
#endif
#if CUSTOM_MASK == 1
  if (!(j < 16 || j <= i))
    return false;
#endif
  return true;
}

// Score stages and the derivative of the modified score w.r.t. q.k.
__device__ inline float score(float qk, const Lens &l, int64_t h, int64_t hq,
                              int64_t i, int64_t j, float *dScoreDqk) {
  float s = SCALE * qk;
  float grad = SCALE;
#if FAULT == 1
  if (!dScoreDqk)
    s *= 1.001f; // forward only: a slightly wrong scale
#endif
#if HAS_SOFTCAP
  float t = tanhf(s / SOFTCAP);
  grad *= 1.0f - t * t;
  s = SOFTCAP * t;
#endif
#if ALIBI
  float slope = exp2f(-8.0f * (float)(h + 1) / (float)hq);
  s -= slope * fabsf((float)(i + l.shift - j));
#endif
#if CUSTOM_SCORE == 1
  float u = tanhf(s);
  grad *= 1.0f + 0.5f * (1.0f - u * u);
  s = s + 0.5f * u;
#endif
  if (dScoreDqk)
    *dScoreDqk = grad;
  return s;
}

#if HAS_DROPOUT
__device__ inline float dropoutFactor(int64_t seed, int64_t offset,
                                      int64_t bh, int64_t i, int64_t j) {
  uint32_t c0 = (uint32_t)j, c1 = (uint32_t)i, c2 = (uint32_t)bh,
           c3 = FAULT == 6 ? 0u : (uint32_t)offset;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)((uint64_t)seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  double u = (double)(c0 >> 8) * (1.0 / 16777216.0);
  return u >= (double)DROPOUT_P ? (float)(1.0 / (1.0 - (double)DROPOUT_P))
                                : 0.0f;
}
#define DROP(bh, i, j) dropoutFactor(seed, offset, bh, i, j)
#else
#define DROP(bh, i, j) 1.0f
#endif

#if LAYOUT
// Runs the body (the variadic argument) for each key j of the kept layout blocks of row i.
#define FOR_KEYS(b, h, i, nkFull, ...)                                        \
  {                                                                            \
    int64_t lb_ = lo_s0 == 1 ? 0 : (b), lh_ = lo_s1 == 1 ? 0 : (h);            \
    int64_t r_ = (i) / LAYOUT_BQ;                                              \
    int64_t base_ = lo_o + lb_ * lo_t0 + lh_ * lo_t1;                          \
    for (int64_t e_ = lo[base_ + r_ * lo_t2]; e_ < lo[base_ + (r_ + 1) * lo_t2];\
         ++e_) {                                                               \
      int64_t c_ = lb[lb_o + e_ * lb_t0];                                      \
      int64_t end_ = (c_ + 1) * LAYOUT_BK < (nkFull) ? (c_ + 1) * LAYOUT_BK    \
                                                     : (nkFull);               \
      for (int64_t j = c_ * LAYOUT_BK; j < end_; ++j) {                        \
        __VA_ARGS__                                                            \
      }                                                                        \
    }                                                                          \
  }
// Runs the body for each query i of the kept layout blocks of column j
// (the transposed lists of bwd_dkdv).
#define FOR_QUERIES(b, h, j, nqFull, ...)                                     \
  {                                                                            \
    int64_t lb_ = lo_s0 == 1 ? 0 : (b), lh_ = lo_s1 == 1 ? 0 : (h);            \
    int64_t c_ = (j) / LAYOUT_BK;                                              \
    int64_t base_ = lo_o + lb_ * lo_t0 + lh_ * lo_t1;                          \
    for (int64_t e_ = lo[base_ + c_ * lo_t2]; e_ < lo[base_ + (c_ + 1) * lo_t2];\
         ++e_) {                                                               \
      int64_t r_ = lb[lb_o + e_ * lb_t0];                                      \
      int64_t end_ = (r_ + 1) * LAYOUT_BQ < (nqFull) ? (r_ + 1) * LAYOUT_BQ    \
                                                     : (nqFull);               \
      for (int64_t i = r_ * LAYOUT_BQ; i < end_; ++i) {                        \
        __VA_ARGS__                                                            \
      }                                                                        \
    }                                                                          \
  }
#else
#define FOR_KEYS(b, h, i, nkFull, ...)                                        \
  for (int64_t j = 0; j < (nkFull); ++j) {                                     \
    __VA_ARGS__                                                                \
  }
#define FOR_QUERIES(b, h, j, nqFull, ...)                                     \
  for (int64_t i = 0; i < (nqFull); ++i) {                                     \
    __VA_ARGS__                                                                \
  }
#endif

__device__ inline Lens lensOf(int64_t b, int64_t Nq, int64_t Nk
#if SEQLENS_Q
                              ,
                              const int32_t *sq, int64_t sq_o, int64_t sq_t0
#endif
#if SEQLENS_K
                              ,
                              const int32_t *sk, int64_t sk_o, int64_t sk_t0
#endif
) {
  Lens l;
  l.nq = Nq;
  l.nk = Nk;
#if SEQLENS_Q
  l.nq = clampLen(sq[sq_o + b * sq_t0], Nq);
#endif
#if SEQLENS_K
  l.nk = clampLen(sk[sk_o + b * sk_t0], Nk);
#endif
  l.shift = BOTTOM_RIGHT ? l.nk - l.nq : 0;
  return l;
}

#if SEQLENS_Q && SEQLENS_K
#define LENS(b) lensOf(b, Nq, Nk, sq, sq_o, sq_t0, sk, sk_o, sk_t0)
#elif SEQLENS_Q
#define LENS(b) lensOf(b, Nq, Nk, sq, sq_o, sq_t0)
#elif SEQLENS_K
#define LENS(b) lensOf(b, Nq, Nk, sk, sk_o, sk_t0)
#else
#define LENS(b) lensOf(b, Nq, Nk)
#endif

extern "C" __global__ void mock_fwd(DESC4(const T, q), DESC4(const T, k),
                                    DESC4(const T, v), DESC4(T, o),
                                    DESC3(float, lse) OPT_PARAMS) {
  TOUCH_SHARED();
  int64_t b = blockIdx.z, h = blockIdx.y;
  int64_t i = (int64_t)blockIdx.x * BQ + threadIdx.x;
  int64_t Nq = q_s2, Nk = k_s2, Hq = q_s1, Hkv = k_s1;
  if (i >= Nq)
    return;
  int64_t hk = h / (Hq / Hkv);
  Lens l = LENS(b);
  float qr[D], acc[DV];
  for (int d = 0; d < D; ++d)
    qr[d] = toF(AT4(q, b, h, i, d));
  for (int d = 0; d < DV; ++d)
    acc[d] = 0.0f;
  float m = -INFINITY, sum = 0.0f;
#if FAULT == 5
  for (int64_t j = 0; j < Nk; ++j) {
#else
  FOR_KEYS(b, h, i, Nk, {
#endif
    if (kept(l, b, h, i, j)) {
      float qk = 0.0f;
      for (int d = 0; d < D; ++d)
        qk += qr[d] * toF(AT4(k, b, hk, j, d));
      float s = score(qk, l, h, Hq, i, j, nullptr);
      float mNew = fmaxf(m, s);
      float corr = expf(m - mNew);
      float p = expf(s - mNew);
      sum = sum * corr + p;
      float pd = p * DROP(b * Hq + h, i, j);
      for (int d = 0; d < DV; ++d)
        acc[d] = acc[d] * corr + pd * toF(AT4(v, b, hk, j, d));
      m = mNew;
    }
#if FAULT == 5
  }
#else
  })
#endif
#if FAULT == 2
  if (i >= l.nq)
    return; // padded rows left unwritten
#endif
  for (int d = 0; d < DV; ++d)
    AT4(o, b, h, i, d) = fromF(sum > 0.0f ? acc[d] / sum : 0.0f);
  AT3(lse, b, h, i) = sum > 0.0f ? m + logf(sum) : -INFINITY;
#if FAULT == 3
  if (b == o_s0 - 1 && h == q_s1 - 1 && i == Nq - 1)
    AT3(lse, b, h, i + 1) = 0.0f; // one element past the end
#endif
}

extern "C" __global__ void mock_bwd_prep(DESC4(const T, o),
                                         DESC4(const T, dout),
                                         DESC3(float, delta)) {
  TOUCH_SHARED();
  int64_t b = blockIdx.z, h = blockIdx.y;
  int64_t i = (int64_t)blockIdx.x * BQ + threadIdx.x;
  if (i >= o_s2)
    return;
  float s = 0.0f;
  for (int d = 0; d < DV; ++d)
    s += toF(AT4(o, b, h, i, d)) * toF(AT4(dout, b, h, i, d));
  AT3(delta, b, h, i) = s;
}

extern "C" __global__ void
mock_bwd_dq(DESC4(const T, q), DESC4(const T, k), DESC4(const T, v),
            DESC4(const T, dout), DESC3(const float, lse),
            DESC3(const float, delta), DESC4(T, dq) OPT_PARAMS) {
  TOUCH_SHARED();
  int64_t b = blockIdx.z, h = blockIdx.y;
  int64_t i = (int64_t)blockIdx.x * BQ + threadIdx.x;
  int64_t Nq = q_s2, Nk = k_s2, Hq = q_s1, Hkv = k_s1;
  if (i >= Nq)
    return;
  int64_t hk = h / (Hq / Hkv);
  Lens l = LENS(b);
  float qr[D], dor[DV], acc[D];
  for (int d = 0; d < D; ++d) {
    qr[d] = toF(AT4(q, b, h, i, d));
    acc[d] = 0.0f;
  }
  for (int d = 0; d < DV; ++d)
    dor[d] = toF(AT4(dout, b, h, i, d));
  float L = AT3(lse, b, h, i), Di = AT3(delta, b, h, i);
  FOR_KEYS(b, h, i, Nk, {
    if (kept(l, b, h, i, j)) {
      float qk = 0.0f, dp = 0.0f, grad;
      for (int d = 0; d < D; ++d)
        qk += qr[d] * toF(AT4(k, b, hk, j, d));
      for (int d = 0; d < DV; ++d)
        dp += dor[d] * toF(AT4(v, b, hk, j, d));
      float p = expf(score(qk, l, h, Hq, i, j, &grad) - L);
      float ds = p * (dp * DROP(b * Hq + h, i, j) - Di) * grad;
      for (int d = 0; d < D; ++d)
        acc[d] += ds * toF(AT4(k, b, hk, j, d));
    }
  })
  for (int d = 0; d < D; ++d)
    AT4(dq, b, h, i, d) = fromF(acc[d]);
}

extern "C" __global__ void
mock_bwd_dkdv(DESC4(const T, q), DESC4(const T, k), DESC4(const T, v),
              DESC4(const T, dout), DESC3(const float, lse),
              DESC3(const float, delta), DESC4(T, dk),
              DESC4(T, dv) OPT_PARAMS) {
  TOUCH_SHARED();
  int64_t b = blockIdx.z, hk = blockIdx.y;
  int64_t j = (int64_t)blockIdx.x * BK + threadIdx.x;
  int64_t Nq = q_s2, Nk = k_s2, Hq = q_s1, Hkv = k_s1;
  if (j >= Nk)
    return;
  int64_t group = Hq / Hkv;
  Lens l = LENS(b);
  float kr[D], vr[DV], dka[D], dva[DV];
  for (int d = 0; d < D; ++d) {
    kr[d] = toF(AT4(k, b, hk, j, d));
    dka[d] = 0.0f;
  }
  for (int d = 0; d < DV; ++d) {
    vr[d] = toF(AT4(v, b, hk, j, d));
    dva[d] = 0.0f;
  }
  for (int64_t h = hk * group; h < (FAULT == 4 ? hk * group + 1 : (hk + 1) * group);
       ++h) {
    FOR_QUERIES(b, h, j, Nq, {
      if (kept(l, b, h, i, j)) {
        float qk = 0.0f, dp = 0.0f, grad;
        for (int d = 0; d < D; ++d)
          qk += toF(AT4(q, b, h, i, d)) * kr[d];
        for (int d = 0; d < DV; ++d)
          dp += toF(AT4(dout, b, h, i, d)) * vr[d];
        float p = expf(score(qk, l, h, Hq, i, j, &grad) - AT3(lse, b, h, i));
        float z = DROP(b * Hq + h, i, j);
        float ds = p * (dp * z - AT3(delta, b, h, i)) * grad;
        for (int d = 0; d < DV; ++d)
          dva[d] += p * z * toF(AT4(dout, b, h, i, d));
        for (int d = 0; d < D; ++d)
          dka[d] += ds * toF(AT4(q, b, h, i, d));
      }
    })
  }
  for (int d = 0; d < D; ++d)
    AT4(dk, b, hk, j, d) = fromF(dka[d]);
  for (int d = 0; d < DV; ++d)
    AT4(dv, b, hk, j, d) = fromF(dva[d]);
}
