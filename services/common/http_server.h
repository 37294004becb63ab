#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/common/metrics_hub.h"

namespace thingtank {

// The process's small HTTP face: GET /metrics (Prometheus text format of the
// one registry), /healthz (200 while the process runs) and /readyz (200 once
// `ready` returns true, 503 before and while shutting down). Boost.Beast, one
// thread, one connection at a time: it serves scrapes and probes, not users.
class HttpServer {
 public:
  // Binds address:port (port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& address, int port, MetricsHub* metrics,
      std::function<bool()> ready);
  ~HttpServer();
  int port() const { return port_; }

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace thingtank
