#include "serve.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

namespace thingtank::bench {

std::unique_ptr<ServeChild> ServeChild::Start(const std::string& program, const std::string& binary,
                                              const std::string& name, const std::vector<std::string>& flags,
                                              const std::string& port_key) {
  std::string prefix = program;
  std::replace(prefix.begin(), prefix.end(), '_', '-');
  std::string dir_template = "/tmp/" + prefix + ".XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::perror((program + ": mkdtemp").c_str());
    return nullptr;
  }
  auto server = std::unique_ptr<ServeChild>(new ServeChild(program, name, dir_template));
  std::vector<std::string> args = {binary, "serve", "--data-dir", server->dir_ + "/data"};
  args.insert(args.end(), flags.begin(), flags.end());
  const std::string log = server->dir_ + "/server.log";
  const std::string exec_error = program + ": exec thingtank";
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror((program + ": fork").c_str());
    return nullptr;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench
    std::FILE* out = std::freopen(log.c_str(), "w", stdout);
    if (out != nullptr) dup2(fileno(stdout), STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror(exec_error.c_str());
    _exit(127);
  }
  server->pid_ = pid;
  if (!server->WaitForPort(port_key)) return nullptr;
  return server;
}

ServeChild::~ServeChild() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    bool stopped = false;
    for (int i = 0; i < 100 && !stopped; ++i) {
      stopped = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!stopped) {
      std::cerr << program_ << ": server " << (name_.empty() ? "" : name_ + " (") << pid_
                << (name_.empty() ? "" : ")") << " did not stop after SIGTERM; SIGKILL\n";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  if (std::getenv("KEEP_TMP") == nullptr) {
    std::filesystem::remove_all(dir_, ec);
  } else {
    std::cerr << program_ << ": kept " << dir_ << "\n";
  }
}

// Polls <data-dir>/ports.json (written atomically) for `key`'s port.
bool ServeChild::WaitForPort(const std::string& key) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string needle = "\"" + key + "\":";
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(dir_ + "/data/ports.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find(needle);
    if (at != std::string::npos) {
      port_ = std::atoi(text.c_str() + at + needle.size());
      if (port_ > 0) return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::cerr << program_ << ": thingtank serve" << (name_.empty() ? "" : " (" + name_ + ")")
                << " exited; its log:\n"
                << Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (name_.empty()) {
    std::cerr << program_ << ": no " << key << " port in ports.json after 30 s; log:\n" << Log();
  } else {
    std::cerr << program_ << ": no '" << key << "' port in " << name_ << "'s ports.json after 30 s; log:\n" << Log();
  }
  return false;
}

std::string ServeChild::Log() const {
  std::ifstream in(dir_ + "/server.log");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string DefaultThingtank(const char* argv0) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = argv0;
  return (self.parent_path().parent_path() / "thingtank" / "thingtank").string();
}

}  // namespace thingtank::bench
