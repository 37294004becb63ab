#include "services/compute/drivers/process_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/status.h"

namespace thingtank::compute {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kReapInterval = absl::Milliseconds(50);
constexpr auto kTicksMaxAge = std::chrono::milliseconds(100);
constexpr size_t kMaxImagesFileBytes = 1 << 20;
constexpr char kReason[] = "InvalidImagesFile";
// In the instance directory: the process group of the last spawn, so that a
// server restarted after a crash can kill what the crashed one left running.
constexpr char kPgidFile[] = "pgid";

// ---- The images file ----

absl::Status Invalid(const std::string& json_path, const std::string& file,
                     absl::string_view problem) {
  if (json_path.empty()) {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument, kReason,
                           absl::StrCat("images file ", file, ": ", problem));
  }
  return InvalidField(json_path, absl::StrCat(problem, " (images file ", file, ")"), kReason);
}

absl::Status CheckKeys(const json& object, const std::string& json_path, const std::string& file,
                       std::initializer_list<const char*> known) {
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      return Invalid(json_path + "." + key, file, "unknown key");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NulFreeString(const json& value, const std::string& json_path,
                                          const std::string& file) {
  if (!value.is_string()) {
    return Invalid(json_path, file, absl::StrCat("must be a string, not ", value.type_name()));
  }
  std::string s = value.get<std::string>();
  if (s.find('\0') != std::string::npos) return Invalid(json_path, file, "must not hold NUL");
  return s;
}

absl::StatusOr<ImageCommand> ParseImage(const json& image, const std::string& json_path,
                                        const std::string& file) {
  if (!image.is_object()) {
    return Invalid(json_path, file, absl::StrCat("must be an object, not ", image.type_name()));
  }
  ImageCommand out;
  auto command = image.find("command");
  if (command == image.end()) return Invalid(json_path + ".command", file, "is required");
  const std::string command_path = json_path + ".command";
  if (!command->is_array() || command->empty()) {
    return Invalid(command_path, file, "must be a non-empty array of strings");
  }
  for (size_t i = 0; i < command->size(); ++i) {
    const std::string arg_path = absl::StrCat(command_path, "[", i, "]");
    TT_ASSIGN_OR_RETURN(std::string arg, NulFreeString((*command)[i], arg_path, file));
    if (i == 0 && !absl::StartsWith(arg, "/")) {
      return Invalid(arg_path, file, absl::StrCat("must be an absolute path, not \"", arg, "\""));
    }
    out.argv.push_back(std::move(arg));
  }
  if (auto env = image.find("env"); env != image.end()) {
    const std::string env_path = json_path + ".env";
    if (!env->is_object()) {
      return Invalid(env_path, file, absl::StrCat("must be an object, not ", env->type_name()));
    }
    for (const auto& [name, value] : env->items()) {
      const std::string var_path = env_path + "." + name;
      if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos) {
        return Invalid(var_path, file, "is not a variable name");
      }
      if (absl::StartsWith(name, "THINGTANK_")) {
        return Invalid(var_path, file, "THINGTANK_* variables are set by the driver");
      }
      TT_ASSIGN_OR_RETURN(out.env[name], NulFreeString(value, var_path, file));
    }
  }
  TT_RETURN_IF_ERROR(CheckKeys(image, json_path, file, {"command", "env"}));
  return out;
}

// ---- Spawning ----

absl::Status ErrnoStatus(int err, absl::string_view what) {
  absl::StatusCode code = absl::StatusCode::kFailedPrecondition;
  switch (err) {
    case EAGAIN: case ENOMEM: case EMFILE: case ENFILE: case EINTR:
      code = absl::StatusCode::kUnavailable;
      break;
    case ENOSPC: case EDQUOT:
      code = absl::StatusCode::kResourceExhausted;
      break;
    default:
      break;
  }
  return absl::Status(code, absl::StrCat(what, ": ", std::strerror(err)));
}

// Instance ids become directory names: "i-" and hex digits, nothing that
// could climb out of the root.
bool FitsDirectoryName(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

bool IsUtf8WithoutNul(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates, beyond U+10FFFF.
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

absl::Status WriteFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, absl::StrCat("write ", path));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return ErrnoStatus(errno, absl::StrCat("close ", path));
  return absl::OkStatus();
}

// Owns posix_spawn's attribute and file-action objects.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

enum class LeaderState { kRunning, kExited, kGone };

// Whether the leader has exited, without reaping it (its pid, which is the
// group's id, stays reserved until Reap).
LeaderState Probe(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    // ECHILD: someone else reaped it; the id is no longer ours to signal.
    return errno == EINTR ? LeaderState::kRunning : LeaderState::kGone;
  }
  return info.si_pid == pid ? LeaderState::kExited : LeaderState::kRunning;
}

// Kills what is left of an exited (or to be killed) leader's group, then
// reaps the leader.
void KillAndReap(pid_t pid) {
  ::killpg(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// utime + stime + cutime + cstime of /proc/<pid>/stat, and its process group.
bool ReadStat(const char* pid, pid_t* pgrp, uint64_t* ticks) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  absl::string_view text(buf, static_cast<size_t>(n));
  size_t paren = text.rfind(')');
  if (paren == absl::string_view::npos) return false;
  // After "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime ...
  std::vector<absl::string_view> fields =
      absl::StrSplit(text.substr(paren + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 15) return false;
  int64_t group = 0;
  if (!absl::SimpleAtoi(fields[2], &group)) return false;
  uint64_t sum = 0;
  for (int i = 11; i <= 14; ++i) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(fields[i], &v)) return false;
    if (v > 0) sum += static_cast<uint64_t>(v);
  }
  *pgrp = static_cast<pid_t>(group);
  *ticks = sum;
  return true;
}

// Reads a file of at most 64 KiB (a pid file, /proc/<pid>/environ).
bool ReadSmallFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  while (out->size() < (64u << 10)) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

SteadyClock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

}  // namespace

absl::StatusOr<std::map<std::string, ImageCommand>> ParseImagesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound
                                      : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("images file ", path, ": ", std::strerror(err)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxImagesFileBytes) {
    return Invalid("", path, absl::StrCat("larger than ", kMaxImagesFileBytes, " bytes"));
  }
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::parse_error& e) {
    return Invalid("", path, absl::StrCat("not JSON: ", e.what()));
  }
  if (!doc.is_object()) {
    return Invalid("", path, absl::StrCat("must be an object, not ", doc.type_name()));
  }
  auto images = doc.find("images");
  if (images == doc.end()) return Invalid("images", path, "is required");
  if (!images->is_object()) {
    return Invalid("images", path, absl::StrCat("must be an object, not ", images->type_name()));
  }
  std::map<std::string, ImageCommand> out;
  for (const auto& [image_id, image] : images->items()) {
    if (image_id.empty()) return Invalid("images.", path, "an image id must not be empty");
    TT_ASSIGN_OR_RETURN(out[image_id], ParseImage(image, "images." + image_id, path));
  }
  TT_RETURN_IF_ERROR(CheckKeys(doc, "", path, {"images"}));
  return out;
}

ProcessDriver::ProcessDriver(std::map<std::string, ImageCommand> images, std::string root,
                             absl::Duration grace)
    : images_(std::move(images)),
      root_([&] {
        // Absolute: children run elsewhere and get the user-data path.
        std::error_code ec;
        std::filesystem::path absolute = std::filesystem::absolute(root, ec);
        return ec ? root : absolute.lexically_normal().string();
      }()),
      grace_(grace) {
  reaper_ = std::thread([this] { ReapLoop(); });
}

ProcessDriver::~ProcessDriver() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  reaper_.join();
  absl::MutexLock lock(&mu_);
  for (auto& [id, slot] : slots_) {
    if (slot.group.pid != 0 && Probe(slot.group.pid) != LeaderState::kGone) {
      KillAndReap(slot.group.pid);
    }
  }
  for (Stopping& s : stopping_) {
    if (Probe(s.group.pid) != LeaderState::kGone) KillAndReap(s.group.pid);
  }
}

void ProcessDriver::SetUserData(const std::string& instance_id, std::string data) {
  absl::MutexLock lock(&mu_);
  slots_[instance_id].user_data = std::move(data);
}

absl::Status ProcessDriver::Start(const v1::Instance& instance) {
  absl::MutexLock lock(&mu_);
  Slot& slot = slots_[instance.instance_id()];
  if (slot.group.pid != 0 || slot.restart_pending) return absl::OkStatus();
  slot.instance = instance;
  absl::Status status = SpawnLocked(&slot);
  slot.failed = !status.ok();
  return status;
}

void ProcessDriver::Stop(const std::string& instance_id, bool force) {
  absl::MutexLock lock(&mu_);
  if (force) {
    // Cut short the grace of an earlier, gentle stop.
    for (Stopping& s : stopping_) {
      if (s.instance_id == instance_id) s.group.kill_at = SteadyClock::now();
    }
  }
  auto it = slots_.find(instance_id);
  if (it == slots_.end()) return;
  if (it->second.group.pid != 0) BeginStopLocked(instance_id, it->second.group, force);
  slots_.erase(it);
}

absl::Status ProcessDriver::Restart(const v1::Instance& instance) {
  absl::MutexLock lock(&mu_);
  Slot& slot = slots_[instance.instance_id()];
  slot.instance = instance;
  if (slot.restart_pending) return absl::OkStatus();
  if (slot.group.pid == 0) {
    absl::Status status = SpawnLocked(&slot);
    slot.failed = !status.ok();
    return status;
  }
  if (!HasImage(instance.image_id())) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidAMIID.NotFound",
                           absl::StrCat("image ", instance.image_id(), " is not in the images file"));
  }
  BeginStopLocked(instance.instance_id(), slot.group, /*force=*/false);
  slot.group = Group{};
  slot.failed = false;
  slot.restart_pending = true;
  return absl::OkStatus();
}

double ProcessDriver::CpuUtilization(const v1::Instance& instance, absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(instance.instance_id());
  if (it == slots_.end() || it->second.group.pid == 0) return 0;
  Slot& slot = it->second;
  const std::map<pid_t, uint64_t>& ticks = GroupTicksLocked(SteadyClock::now());
  // A sample is as of its /proc scan; a second call on the same scan repeats.
  if (ticks_at_ <= slot.last_sample) return slot.last_percent;
  auto found = ticks.find(slot.group.pid);
  uint64_t now_ticks = found == ticks.end() ? 0 : found->second;
  uint64_t delta = now_ticks > slot.last_ticks ? now_ticks - slot.last_ticks : 0;
  double seconds = std::chrono::duration<double>(ticks_at_ - slot.last_sample).count();
  static const double kTicksPerSecond = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double percent = 100.0 * (static_cast<double>(delta) / kTicksPerSecond) / seconds /
                   std::max(1, instance.vcpus());
  slot.last_ticks = now_ticks;
  slot.last_sample = ticks_at_;
  slot.last_percent = std::clamp(percent, 0.0, 100.0);
  return slot.last_percent;
}

bool ProcessDriver::Healthy(const std::string& instance_id) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(instance_id);
  return it == slots_.end() || !it->second.failed;
}

pid_t ProcessDriver::ProcessGroup(const std::string& instance_id) const {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(instance_id);
  return it == slots_.end() ? 0 : it->second.group.pid;
}

absl::Status ProcessDriver::SpawnLocked(Slot* slot) {
  const v1::Instance& instance = slot->instance;
  auto image = images_.find(instance.image_id());
  if (image == images_.end()) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidAMIID.NotFound",
                           absl::StrCat("image ", instance.image_id(), " is not in the images file"));
  }
  if (!FitsDirectoryName(instance.instance_id())) {
    return InvalidField("instance_id", "cannot name a directory");
  }
  const std::string dir = absl::StrCat(root_, "/", instance.instance_id());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), absl::StrCat("create ", dir));
  KillLeftoverLocked(dir, instance.instance_id());
  const std::string user_data_file = dir + "/user-data";
  TT_RETURN_IF_ERROR(WriteFile(user_data_file, slot->user_data));

  // The environment: PATH and HOME of the server, the image's, ours last.
  std::map<std::string, std::string> env;
  for (const char* name : {"PATH", "HOME"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  for (const auto& [name, value] : image->second.env) env[name] = value;
  env["THINGTANK_INSTANCE_ID"] = instance.instance_id();
  env["THINGTANK_IMAGE_ID"] = instance.image_id();
  env["THINGTANK_INSTANCE_TYPE"] = instance.instance_type();
  env["THINGTANK_AVAILABILITY_ZONE"] = instance.availability_zone();
  env["THINGTANK_PRIVATE_IP"] = instance.private_ip_address();
  if (IsUtf8WithoutNul(slot->user_data)) {
    env["THINGTANK_USER_DATA"] = slot->user_data;
  } else {
    env["THINGTANK_USER_DATA"] = absl::Base64Escape(slot->user_data);
    env["THINGTANK_USER_DATA_BASE64"] = "1";
  }
  env["THINGTANK_USER_DATA_FILE"] = user_data_file;
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = image->second.argv;
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string console = dir + "/console.log";
  int log = ::open(console.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) return ErrnoStatus(errno, absl::StrCat("open ", console));
  if (log <= STDERR_FILENO) {
    // The server runs without a standard descriptor; keep ours out of the way.
    int moved = ::fcntl(log, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int err = errno;
    ::close(log);
    if (moved < 0) return ErrnoStatus(err, absl::StrCat("dup ", console));
    log = moved;
  }

  SpawnSetup setup;
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);  // its own group, id = its pid
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, log, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, log, STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&setup.actions, dir.c_str());
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);

  pid_t pid = 0;
  int err = ::posix_spawn(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
  ::close(log);
  if (err != 0) return ErrnoStatus(err, absl::StrCat("spawn ", argv[0]));
  slot->group = Group{pid, SteadyClock::now()};
  slot->last_ticks = 0;
  slot->last_sample = slot->group.spawned;
  slot->last_percent = 0;
  if (absl::Status noted = WriteFile(dir + "/" + kPgidFile, absl::StrCat(pid, "\n")); !noted.ok()) {
    // It runs; only a later server's clean-up after a crash will miss it.
    TT_LOG_WARN("compute: cannot note the process group of {}: {}", instance.instance_id(),
                noted.ToString());
  }
  return absl::OkStatus();
}

void ProcessDriver::KillLeftoverLocked(const std::string& dir, const std::string& instance_id) {
  std::string text;
  if (!ReadSmallFile(dir + "/" + kPgidFile, &text)) return;
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value) || value <= 1) return;
  const pid_t pid = static_cast<pid_t>(value);
  // Ours (a group still in its grace period) is the reaper's business.
  for (const auto& [id, slot] : slots_) {
    if (slot.group.pid == pid) return;
  }
  for (const Stopping& s : stopping_) {
    if (s.group.pid == pid) return;
  }
  // A pid may have been reused: only a group leader that carries this
  // instance's id in the environment it was started with is the leftover.
  if (::getpgid(pid) != pid) return;
  std::string environ;
  if (!ReadSmallFile(absl::StrCat("/proc/", pid, "/environ"), &environ)) return;
  const std::string mark = absl::StrCat(std::string(1, '\0'), "THINGTANK_INSTANCE_ID=", instance_id,
                                        std::string(1, '\0'));
  if ((std::string(1, '\0') + environ).find(mark) == std::string::npos) return;
  TT_LOG_WARN("compute: killing process group {} of {}, left by an earlier server", pid,
              instance_id);
  ::killpg(pid, SIGKILL);
}

void ProcessDriver::BeginStopLocked(const std::string& instance_id, Group group, bool force) {
  ::killpg(group.pid, force ? SIGKILL : SIGTERM);
  group.killed = force;
  group.kill_at = force ? SteadyClock::now() : SteadyClock::now() + ToSteady(grace_);
  stopping_.push_back({instance_id, group});
}

bool ProcessDriver::RestartBlockedLocked(const std::string& instance_id) const {
  return std::any_of(stopping_.begin(), stopping_.end(),
                     [&](const Stopping& s) { return s.instance_id == instance_id; });
}

void ProcessDriver::ReapLoop() {
  mu_.Lock();
  while (!shutdown_) {
    mu_.AwaitWithTimeout(absl::Condition(&shutdown_), kReapInterval);
    if (shutdown_) break;
    ReapOnce();
  }
  mu_.Unlock();
}

void ProcessDriver::ReapOnce() {
  const SteadyTime now = SteadyClock::now();
  for (auto it = stopping_.begin(); it != stopping_.end();) {
    Group& group = it->group;
    LeaderState state = Probe(group.pid);
    if (state == LeaderState::kRunning && now >= group.kill_at && !group.killed) {
      ::killpg(group.pid, SIGKILL);
      group.killed = true;
    }
    if (state == LeaderState::kRunning) {
      ++it;
      continue;
    }
    if (state == LeaderState::kExited) KillAndReap(group.pid);
    it = stopping_.erase(it);
  }
  for (auto& [id, slot] : slots_) {
    if (slot.group.pid != 0) {
      LeaderState state = Probe(slot.group.pid);
      if (state == LeaderState::kRunning) continue;
      if (state == LeaderState::kExited) KillAndReap(slot.group.pid);
      TT_LOG_WARN("compute: process {} of {} exited unasked", slot.group.pid, id);
      slot.group = Group{};
      slot.failed = true;
    } else if (slot.restart_pending && !RestartBlockedLocked(id)) {
      slot.restart_pending = false;
      absl::Status status = SpawnLocked(&slot);
      slot.failed = !status.ok();
      if (!status.ok()) {
        TT_LOG_WARN("compute: restart of {} failed: {}", id, status.ToString());
      }
    }
  }
}

const std::map<pid_t, uint64_t>& ProcessDriver::GroupTicksLocked(SteadyTime now) {
  if (ticks_at_ != SteadyTime() && now - ticks_at_ < kTicksMaxAge) return ticks_;
  ticks_.clear();
  for (const auto& [id, slot] : slots_) {
    if (slot.group.pid != 0) ticks_[slot.group.pid] = 0;
  }
  ticks_at_ = now;
  if (ticks_.empty()) return ticks_;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return ticks_;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    pid_t pgrp = 0;
    uint64_t ticks = 0;
    if (!ReadStat(entry->d_name, &pgrp, &ticks)) continue;  // it exited meanwhile
    auto it = ticks_.find(pgrp);
    if (it != ticks_.end()) it->second += ticks;
  }
  ::closedir(proc);
  return ticks_;
}

}  // namespace thingtank::compute
