// CPU threading shared by every binary that trains or evaluates.
//
// LibTorch's intra-op pool defaults to 1 thread on these VMs, so it is set explicitly. The
// LibTorch wheel's BLAS is MKL, linked into libtorch_cpu and run on the same OpenMP team as the
// convolutions (at::set_num_threads sets both), so there is no second BLAS pool to keep in check.
#ifndef MOCHI_PORT_CPU_THREADS_H_
#define MOCHI_PORT_CPU_THREADS_H_

namespace mochi {

struct CpuThreads {
  int intra_op = 0;  // at::get_num_threads() after the call
};

// `requested` <= 0 means one intra-op thread per hardware thread.
CpuThreads ConfigureCpuThreads(int requested);

}  // namespace mochi

#endif  // MOCHI_PORT_CPU_THREADS_H_
