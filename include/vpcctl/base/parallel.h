// A bounded parallel loop: the fan-outs' threads.
#pragma once

#include <cstddef>
#include <functional>

namespace vpcctl {

// Calls fn(0..n-1) on at most `width` threads at once; returns when every call has returned.
void ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn);

}  // namespace vpcctl
