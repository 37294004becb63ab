#include "services/common/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"
#include "services/common/log.h"

namespace thingtank {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  MetricsHub* metrics = nullptr;
  std::function<bool()> ready;
  std::atomic<bool> stopping{false};
  std::thread thread;

  void Serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code ec;
    http::read(socket, buffer, request, ec);
    if (ec) return;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    const std::string target(request.target());
    const std::string path = target.substr(0, target.find('?'));
    if (path == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4");
      response.body() = prometheus::TextSerializer().Serialize(metrics->Collect());
    } else if (path == "/healthz") {
      response.result(http::status::ok);
      response.body() = "ok\n";
    } else if (path == "/readyz") {
      const bool is_ready = !stopping && ready();
      response.result(is_ready ? http::status::ok : http::status::service_unavailable);
      response.body() = is_ready ? "ready\n" : "not ready\n";
    } else {
      response.result(http::status::not_found);
      response.body() = "not found: try /metrics, /healthz or /readyz\n";
    }
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void Loop() {
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping) return;
        continue;
      }
      Serve(std::move(socket));
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& address, int port, MetricsHub* metrics,
    std::function<bool()> ready) {
  auto impl = std::make_unique<Impl>();
  impl->metrics = metrics;
  impl->ready = std::move(ready);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("listen address ", address, ": ", ec.message()));
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", address, ":", port, ": ", ec.message()));
  }
  const int bound = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Loop(); });
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  server->port_ = bound;
  return server;
}

HttpServer::~HttpServer() {
  impl_->stopping = true;
  boost::system::error_code ec;
  // Unblocks accept(): shut the listening socket down, then close it.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  impl_->thread.join();
}

}  // namespace thingtank
