#!/usr/bin/env python3
"""Calls libflashc_runtime.so from Python (ctypes) on PyTorch tensors, the
way benchmarks do, and checks the forward pass of a plain (no mask) kernel
directory against torch's scaled_dot_product_attention, plus one call that
must be refused with a precise message.

    python3 test/GPU/ctypes_smoke.py LIBFLASHC_RUNTIME_SO KERNEL_DIR

Exit status 0 on success. Needs a GPU and torch.
"""

import ctypes
import sys

import torch


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("sizes", ctypes.c_int64 * 4),
                ("strides", ctypes.c_int64 * 4)]


class Layout(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)),
                ("sizes", ctypes.c_int64 * 4)]


class ForwardArgs(ctypes.Structure):
    _fields_ = [("q", Tensor), ("k", Tensor), ("v", Tensor), ("o", Tensor),
                ("lse", Tensor),
                ("seqlens_q", ctypes.POINTER(ctypes.c_int32)),
                ("num_seqlens_q", ctypes.c_int64),
                ("seqlens_k", ctypes.POINTER(ctypes.c_int32)),
                ("num_seqlens_k", ctypes.c_int64), ("layout", Layout),
                ("has_seed", ctypes.c_int32), ("has_offset", ctypes.c_int32),
                ("seed", ctypes.c_uint64), ("offset", ctypes.c_uint64)]


DTYPES = {torch.float16: 0, torch.bfloat16: 1, torch.float32: 2}


def ref(t):
    return Tensor(t.data_ptr(), DTYPES[t.dtype], t.dim(),
                  (ctypes.c_int64 * 4)(*t.shape),
                  (ctypes.c_int64 * 4)(*t.stride()))


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.flashc_load.restype = ctypes.c_void_p
    lib.flashc_last_error.restype = ctypes.c_char_p
    lib.flashc_forward.argtypes = [ctypes.c_void_p,
                                   ctypes.POINTER(ForwardArgs),
                                   ctypes.c_void_p]
    torch.cuda.init()
    handle = lib.flashc_load(sys.argv[2].encode())
    if not handle:
        print("FAIL load:", lib.flashc_last_error().decode())
        return 1
    dtype = ctypes.c_int32()
    d = ctypes.c_int64()
    lib.flashc_describe(ctypes.c_void_p(handle), ctypes.byref(dtype),
                        ctypes.byref(d), None, None, None)
    tdt = {v: k for k, v in DTYPES.items()}[dtype.value]
    B, H, N = 2, 4, 333
    q, k, v = (torch.randn(B, N, H, d.value, device="cuda", dtype=tdt)
               .transpose(1, 2) for _ in range(3))  # BSHD memory
    o = torch.full((B, H, N, d.value), float("nan"), device="cuda", dtype=tdt)
    lse = torch.empty(B, H, N, device="cuda", dtype=torch.float32)
    args = ForwardArgs(q=ref(q), k=ref(k), v=ref(v), o=ref(o), lse=ref(lse))
    stream = torch.cuda.current_stream().cuda_stream
    if lib.flashc_forward(ctypes.c_void_p(handle), ctypes.byref(args),
                          ctypes.c_void_p(stream)) != 0:
        print("FAIL forward:", lib.flashc_last_error().decode())
        return 1
    torch.cuda.synchronize()
    want = torch.nn.functional.scaled_dot_product_attention(
        q.float(), k.float(), v.float())
    err = ((o.float() - want).abs().max() / want.abs().max()).item()
    print(f"forward vs torch SDPA: relative error {err:.2e}")
    ok = err < 1e-2
    # A wrong head dim must be refused before launch, with a message.
    bad = ForwardArgs(q=ref(q[..., :16]), k=ref(k), v=ref(v), o=ref(o),
                      lse=ref(lse))
    rc = lib.flashc_forward(ctypes.c_void_p(handle), ctypes.byref(bad),
                            ctypes.c_void_p(stream))
    message = lib.flashc_last_error().decode()
    print("refused:", message)
    ok = ok and rc != 0 and "head dimension" in message
    lib.flashc_unload(ctypes.c_void_p(handle))
    print("ctypes smoke test:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
