/*===- flashc_runtime.h - C interface of the flashc runtime ------*- C -*-===*\
|*                                                                            *|
|* A small C ABI over runtime/Runtime.h, for ctypes and other FFIs           *|
|* (libflashc_runtime.so). Every function returns 0 / non-null on success;    *|
|* on failure, flashc_last_error() says why (per thread, until the next      *|
|* failing call). No exception crosses this interface.                       *|
|*                                                                            *|
|* From Python with PyTorch tensors:                                          *|
|*                                                                            *|
|*   lib = ctypes.CDLL("libflashc_runtime.so")                                *|
|*   class Tensor(ctypes.Structure):                                          *|
|*       _fields_ = [("data", ctypes.c_uint64), ("dtype", ctypes.c_int32),    *|
|*                   ("rank", ctypes.c_int32),                                *|
|*                   ("sizes", ctypes.c_int64 * 4),                           *|
|*                   ("strides", ctypes.c_int64 * 4)]                         *|
|*   def ref(t): return Tensor(t.data_ptr(),                                  *|
|*       {torch.float16: 0, torch.bfloat16: 1, torch.float32: 2}[t.dtype],    *|
|*       t.dim(), (ctypes.c_int64 * 4)(*t.shape),                             *|
|*       (ctypes.c_int64 * 4)(*t.stride()))                                   *|
|*   lib.flashc_load.restype = ctypes.c_void_p                                *|
|*   h = lib.flashc_load(b"out/causal")                                       *|
|*   args = FlashcForwardArgs(q=ref(q), k=ref(k), v=ref(v), o=ref(o),         *|
|*                            lse=ref(lse))                                   *|
|*   lib.flashc_forward(ctypes.c_void_p(h), ctypes.byref(args),               *|
|*       ctypes.c_void_p(torch.cuda.current_stream().cuda_stream))            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef FLASHC_RUNTIME_FLASHC_RUNTIME_H
#define FLASHC_RUNTIME_FLASHC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types. */
enum {
  FLASHC_F16 = 0,
  FLASHC_BF16 = 1,
  FLASHC_F32 = 2,
};

/* A strided device tensor: sizes and strides in elements; rank 4 (or 3 for
 * lse and delta). data == 0 means "not given". */
typedef struct flashc_tensor {
  uint64_t data;
  int32_t dtype;
  int32_t rank;
  int64_t sizes[4];
  int64_t strides[4];
} flashc_tensor;

/* A dense block layout [LB, LH, MQ, MK] of uint8 on the host (non-zero keeps
 * a block); data == NULL means "no layout". */
typedef struct flashc_layout {
  const uint8_t *data;
  int64_t sizes[4];
} flashc_layout;

/* Host arrays (seqlens, layout) are read during the call only. */
typedef struct flashc_forward_args {
  flashc_tensor q, k, v, o, lse;
  const int32_t *seqlens_q; /* B values, or NULL */
  int64_t num_seqlens_q;
  const int32_t *seqlens_k;
  int64_t num_seqlens_k;
  flashc_layout layout;
  int32_t has_seed;   /* else the manifest's dropout_seed */
  int32_t has_offset; /* else 0 */
  uint64_t seed;
  uint64_t offset;
} flashc_forward_args;

typedef struct flashc_backward_args {
  flashc_tensor q, k, v, o, lse, dout, dq, dk, dv;
  flashc_tensor delta; /* optional scratch [B, Hq, Nq] f32 (data 0: none) */
  const int32_t *seqlens_q;
  int64_t num_seqlens_q;
  const int32_t *seqlens_k;
  int64_t num_seqlens_k;
  flashc_layout layout;
  int32_t has_seed;
  int32_t has_offset;
  uint64_t seed;
  uint64_t offset;
} flashc_backward_args;

/* Per-kernel facts read from the driver after loading. */
typedef struct flashc_kernel_stats {
  int32_t registers;
  int32_t local_bytes; /* spills */
  int32_t static_shared_bytes;
  int32_t max_threads;
  int32_t from_cubin; /* 1: the cubin was loaded, 0: the PTX */
} flashc_kernel_stats;

typedef struct flashc_kernels flashc_kernels;

/* Loads a kernel directory on the current context's device (or device 0).
 * NULL on failure. */
flashc_kernels *flashc_load(const char *directory);
void flashc_unload(flashc_kernels *kernels);

/* Launch on `stream` (a CUstream; NULL: the legacy default stream). */
int flashc_forward(flashc_kernels *kernels, const flashc_forward_args *args,
                   void *stream);
int flashc_backward(flashc_kernels *kernels, const flashc_backward_args *args,
                    void *stream);

/* Stats of the kernel of `kind` ("fwd", "bwd_prep", "bwd_dkdv", "bwd_dq");
 * non-zero when the directory has no such kernel. */
int flashc_kernel_stats_of(const flashc_kernels *kernels, const char *kind,
                           flashc_kernel_stats *out);

/* The manifest's element type, head dims and whether it has fwd/bwd. */
int flashc_describe(const flashc_kernels *kernels, int32_t *dtype,
                    int64_t *head_dim, int64_t *head_dim_v, int32_t *has_fwd,
                    int32_t *has_bwd);

/* The message of this thread's last failure ("" if none). */
const char *flashc_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FLASHC_RUNTIME_FLASHC_RUNTIME_H */
