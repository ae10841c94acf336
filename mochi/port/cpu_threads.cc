#include "mochi/port/cpu_threads.h"

#include <thread>

#include "ATen/Parallel.h"

namespace mochi {

CpuThreads ConfigureCpuThreads(int requested) {
  at::set_num_threads(requested > 0 ? requested
                                    : static_cast<int>(std::thread::hardware_concurrency()));
  CpuThreads threads;
  threads.intra_op = at::get_num_threads();
  return threads;
}

}  // namespace mochi
