#include "vpcctl/fabric/context.h"

#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"

namespace vpcctl::fabric {

void Output::Warn(const std::string& message) const {
  err << (color ? "\033[1;33mvpcctl: warning:\033[0m " : "vpcctl: warning: ") << message << "\n";
}

void Output::Info(const std::string& message) const { err << message << "\n"; }

void Output::Progress(size_t done, size_t total, const std::string& line) const {
  if (live) err << "\r\033[K";  // the counter, erased
  if (!line.empty()) err << "vpcctl: " << line << "\n";
  if (live && done < total) {
    err << "vpcctl: [" << done << "/" << total << "] " << (total - done) << " node(s) to go";
  }
  err.flush();
}

Result<std::unique_ptr<Session>> Session::Read(Context& ctx) { return Open(ctx, false, false); }

Result<std::unique_ptr<Session>> Session::Write(Context& ctx) { return Open(ctx, true, true); }

Result<std::unique_ptr<Session>> Session::Locked(Context& ctx) { return Open(ctx, true, false); }

Status Session::Begin() {
  tx_ = std::make_unique<store::Transaction>(*store_);
  return tx_->Begin();
}

Result<std::unique_ptr<Session>> Session::Open(Context& ctx, bool lock, bool begin) {
  std::unique_ptr<Session> s(new Session());
  std::string hint = "vpcctl is not initialised in " + ctx.paths.dir +
                     ": run `vpcctl init --name NAME --address ADDRESS` first (or point "
                     "--state-dir / VPCCTL_STATE_DIR at an initialised state directory)";
  if (!exec::FileExists(ctx.paths.db())) return UsageError(hint);
  std::vector<std::string> warnings;
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, &warnings));
  if (lock) {
    VPC_ASSIGN_OR_RETURN(store::StateLock held,
                         store::StateLock::Acquire(ctx.paths.lock(), ctx.command_line));
    s->lock_.emplace(std::move(held));
  }
  VPC_TRY(store::TightenStateFiles(ctx.paths, &warnings));
  VPC_ASSIGN_OR_RETURN(s->store_, store::Store::Open(ctx.paths.db(), false, &warnings));
  for (const auto& w : warnings) ctx.io.Warn(w);
  if (begin) VPC_TRY(s->Begin());
  VPC_ASSIGN_OR_RETURN(auto local, s->store_->GetSetting("local_node"));
  if (!local) return UsageError(hint);
  s->local_node = *local;
  VPC_ASSIGN_OR_RETURN(s->fabric, s->store_->LoadFabric());
  return s;
}

Result<model::Map> MapOf(Session& s) {
  VPC_ASSIGN_OR_RETURN(auto id, s.store().GetSetting("fabric_id"));
  VPC_ASSIGN_OR_RETURN(auto epoch, s.store().GetSetting("epoch"));
  return model::Map{id ? *id : std::string(), s.local_node, s.fabric,
                    epoch ? ParseUint(*epoch).value_or(0) : 0};
}

Status Session::Commit(bool bump_generation) {
  if (!tx_) return Failure("internal: commit without a transaction");
  if (bump_generation) {
    VPC_ASSIGN_OR_RETURN(fabric.generation, store_->BumpGeneration());
  }
  return tx_->Commit();
}

Status Problems::ToStatus() const {
  if (errors_.empty()) return {};
  std::vector<std::string> lines;
  Exit code = Exit::kUsage;
  for (const auto& e : errors_) {
    lines.push_back(e.message);
    if (e.code != Exit::kUsage) code = e.code;
  }
  return Error{Join(lines, "\n"), code};
}

}  // namespace vpcctl::fabric
