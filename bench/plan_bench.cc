// Allocation and planning of a 250-node VPC, in process (no I/O): the controller's pure core.
// Each node has an IPv4 and an IPv6 underlay; a third of them run FreeBSD.
#include <benchmark/benchmark.h>

#include "vpcctl/alloc/alloc.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"

namespace {

using namespace vpcctl;

model::Fabric Nodes(int count) {
  model::Fabric f;
  for (int i = 0; i < count; ++i) {
    model::Node n;
    n.name = "n" + std::to_string(i);
    n.platform = i % 3 == 0 ? model::Platform::kFreeBSD : model::Platform::kLinux;
    n.underlay4 = net::IpAddress::V4(0xc6120000u + static_cast<uint32_t>(i) + 1);  // 198.18.0.x
    n.underlay6 = net::IpAddress::Parse("2001:db8::1")->Plus(static_cast<uint64_t>(i));
    n.ssh_host = n.underlay4->ToString();
    f.nodes.push_back(n);
  }
  return f;
}

alloc::VpcSpec Spec(const model::Fabric& f) {
  alloc::VpcSpec spec;
  spec.name = "big";
  spec.peer_network = *net::Cidr::Parse("10.9.0.0/24");
  for (const auto& n : f.nodes) spec.members.push_back(n.name);
  return spec;
}

void BM_Allocate(benchmark::State& state) {
  model::Fabric base = Nodes(static_cast<int>(state.range(0)));
  alloc::VpcSpec spec = Spec(base);
  for (auto _ : state) {
    model::Fabric f = base;
    auto st = alloc::CreateVpc(f, spec, 1);
    if (!st.ok()) state.SkipWithError(st.error().message.c_str());
    benchmark::DoNotOptimize(f.vpcs.back().tunnels.data());
  }
  state.counters["tunnels"] = static_cast<double>(state.range(0) * (state.range(0) - 1) / 2);
}
BENCHMARK(BM_Allocate)->Arg(16)->Arg(250)->Unit(benchmark::kMillisecond);

// Plans one node from nothing and renders its commands.
void BM_PlanOneNode(benchmark::State& state) {
  model::Fabric f = Nodes(static_cast<int>(state.range(0)));
  (void)alloc::CreateVpc(f, Spec(f), 1);
  for (auto _ : state) {
    auto desired = plan::DesiredFor(f, "n1");
    auto steps = plan::Diff(*desired, plan::Observed{});
    auto cmds = platform::RenderAll(platform::DriverFor(desired->platform), *steps);
    benchmark::DoNotOptimize(cmds.data());
  }
}
BENCHMARK(BM_PlanOneNode)->Arg(250)->Unit(benchmark::kMillisecond);

// Allocates the VPC and plans and renders every one of its 250 nodes: the whole job in process.
void BM_AllocateAndPlanAllNodes(benchmark::State& state) {
  model::Fabric base = Nodes(static_cast<int>(state.range(0)));
  alloc::VpcSpec spec = Spec(base);
  size_t commands = 0;
  for (auto _ : state) {
    model::Fabric f = base;
    (void)alloc::CreateVpc(f, spec, 1);
    commands = 0;
    for (const auto& n : f.nodes) {
      auto desired = plan::DesiredFor(f, n.name);
      auto steps = plan::Diff(*desired, plan::Observed{});
      commands += platform::RenderAll(platform::DriverFor(desired->platform), *steps).size();
    }
    benchmark::DoNotOptimize(commands);
  }
  state.counters["commands"] = static_cast<double>(commands);
}
BENCHMARK(BM_AllocateAndPlanAllNodes)->Arg(250)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
