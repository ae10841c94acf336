#include "mochi/port/cpu_threads.h"

#include <dlfcn.h>

#include <thread>

#include "ATen/Parallel.h"

namespace mochi {

CpuThreads ConfigureCpuThreads(int requested) {
  at::set_num_threads(requested > 0 ? requested
                                    : static_cast<int>(std::thread::hardware_concurrency()));
  CpuThreads threads;
  threads.intra_op = at::get_num_threads();
  // Looked up at run time: libblas.so.3 is a Debian alternative (OpenBLAS or reference BLAS).
  using SetThreads = void (*)(int);
  using GetThreads = int (*)();
  const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (set != nullptr && get != nullptr) {
    set(1);
    threads.blas = get();
  }
  return threads;
}

}  // namespace mochi
