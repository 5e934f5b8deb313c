#include "vpcctl/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace vpcctl {

void ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  width = std::max<size_t>(1, std::min(width, n));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < width; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace vpcctl
