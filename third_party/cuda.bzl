"""Compiler flags for the TUs that include CUDA headers (with @cuda//:cuda_header_files in srcs)."""

# CUDA 13 moved nv/, cuda/std, thrust and cub into include/cccl.
CUDA_COPTS = ["-isystem", "external/cuda/include", "-isystem", "external/cuda/include/cccl"]
