// CPU threading shared by every binary that trains or evaluates.
//
// LibTorch's intra-op pool defaults to 1 thread on these VMs, so it is set explicitly. OpenBLAS
// is kept in the calling thread: Debian's pthread OpenBLAS otherwise keeps its own pool whose
// workers spin in sched_yield after each BLAS call, taking a core from the OpenMP team that runs
// the convolutions (oneDNN). On 2 cores that made the default-profile MoCo-v2 step 1.5x slower
// and its time erratic (bench/mixing_benchmark, README "Benchmarks"). Matmuls here are small.
#ifndef MOCHI_PORT_CPU_THREADS_H_
#define MOCHI_PORT_CPU_THREADS_H_

namespace mochi {

struct CpuThreads {
  int intra_op = 0;  // at::get_num_threads() after the call
  int blas = -1;     // OpenBLAS threads after the call; -1 when the BLAS is not OpenBLAS
};

// `requested` <= 0 means one intra-op thread per hardware thread.
CpuThreads ConfigureCpuThreads(int requested);

}  // namespace mochi

#endif  // MOCHI_PORT_CPU_THREADS_H_
