#include "services/compute/drivers/process_driver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"

namespace thingtank::compute {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// Polls `condition` every `every` until it holds or `limit` passes.
bool WaitFor(const std::function<bool()>& condition, absl::Duration limit = absl::Seconds(10),
             absl::Duration every = absl::Milliseconds(10)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(every);
  }
  return true;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// A process that exists and is not a zombie (an orphan's zombie waits for
// whoever adopted it, which is not the driver).
bool Alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::string stat = ReadAll(absl::StrCat("/proc/", pid, "/stat"));
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

// The pid a script wrote to `path` ("echo $$ > pid"), once it is complete.
pid_t PidFromFile(const std::string& path) {
  pid_t pid = 0;
  WaitFor([&] {
    std::string text = ReadAll(path);
    int value = 0;
    if (text.empty() || text.back() != '\n') return false;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) return false;
    pid = value;
    return true;
  });
  return pid;
}

v1::Instance MakeInstance(const std::string& id, const std::string& image, int vcpus = 1) {
  v1::Instance instance;
  instance.set_instance_id(id);
  instance.set_image_id(image);
  instance.set_instance_type("t2.micro");
  instance.set_availability_zone("us-east-1a");
  instance.set_private_ip_address("10.0.1.23");
  instance.set_vcpus(vcpus);
  return instance;
}

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

class ProcessDriverTest : public ::testing::Test {
 protected:
  // Writes an images file of `commands` (image id -> argv) and opens a driver on it.
  std::unique_ptr<ProcessDriver> MakeDriver(
      const std::map<std::string, std::vector<std::string>>& commands,
      absl::Duration grace = absl::Seconds(10), const json& env = json::object()) {
    json doc;
    doc["images"] = json::object();
    for (const auto& [image, argv] : commands) {
      doc["images"][image]["command"] = argv;
      doc["images"][image]["env"] = env;
    }
    const std::string path = dir_.path() + "/images.json";
    std::ofstream(path) << doc.dump(2);
    auto images = ParseImagesFile(path);
    EXPECT_THAT(images.status(), IsOk());
    return std::make_unique<ProcessDriver>(*images, root(), grace);
  }
  std::string root() const { return dir_.path() + "/instances"; }
  std::string InstanceFile(const std::string& id, const std::string& name) const {
    return absl::StrCat(root(), "/", id, "/", name);
  }
  // Waits until the console of `id` holds `text`.
  bool ConsoleHas(const std::string& id, const std::string& text) {
    return WaitFor([&] { return ReadAll(InstanceFile(id, "console.log")).find(text) !=
                                std::string::npos; });
  }

  TempDir dir_;
};

TEST_F(ProcessDriverTest, RunsTheImageCommandWithItsEnvironment) {
  ::setenv("TT_PROCESS_TEST_SECRET", "server-only", 1);
  int leak = ::open("/dev/null", O_RDONLY);  // not O_CLOEXEC: the driver must close it
  ASSERT_GE(leak, 0);
  auto driver = MakeDriver(
      {{"ami-env", Sh("echo \"id=$THINGTANK_INSTANCE_ID image=$THINGTANK_IMAGE_ID "
                      "type=$THINGTANK_INSTANCE_TYPE az=$THINGTANK_AVAILABILITY_ZONE "
                      "ip=$THINGTANK_PRIVATE_IP k=$K secret=${TT_PROCESS_TEST_SECRET-unset} "
                      "b64=${THINGTANK_USER_DATA_BASE64-unset} path=${PATH:+set} cwd=$(pwd)\"; "
                      "[ -e /proc/$$/fd/$LEAK ] && echo leaked; "
                      "echo \"data=$THINGTANK_USER_DATA\"; cat \"$THINGTANK_USER_DATA_FILE\"; "
                      "echo; echo to-stderr >&2; echo done; exec sleep 30")}},
      absl::Seconds(10), json{{"K", "V"}, {"LEAK", std::to_string(leak)}});
  driver->SetUserData("i-0123", "hello world");
  ASSERT_THAT(driver->Start(MakeInstance("i-0123", "ami-env")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0123", "done\n"));
  ::close(leak);
  ::unsetenv("TT_PROCESS_TEST_SECRET");

  std::string console = ReadAll(InstanceFile("i-0123", "console.log"));
  EXPECT_THAT(console, HasSubstr(absl::StrCat(
                           "id=i-0123 image=ami-env type=t2.micro az=us-east-1a ip=10.0.1.23 k=V "
                           "secret=unset b64=unset path=set cwd=",
                           root(), "/i-0123\n")));
  EXPECT_THAT(console, Not(HasSubstr("leaked")));
  EXPECT_THAT(console, HasSubstr("data=hello world\nhello world\n"));
  EXPECT_THAT(console, HasSubstr("to-stderr\n"));
  EXPECT_EQ(ReadAll(InstanceFile("i-0123", "user-data")), "hello world");
  EXPECT_TRUE(driver->Healthy("i-0123"));
  EXPECT_NE(driver->ProcessGroup("i-0123"), 0);
}

TEST_F(ProcessDriverTest, UserDataWithShellMetacharactersArrivesLiterally) {
  const std::string pwned = dir_.path() + "/pwned";
  const std::string data =
      absl::StrCat("$(touch ", pwned, "); `touch ", pwned, "`; rm -rf ", dir_.path(), "/nothing");
  auto driver = MakeDriver({{"ami-echo", Sh("printf 'env:%s\\n' \"$THINGTANK_USER_DATA\"; "
                                            "printf 'file:'; cat \"$THINGTANK_USER_DATA_FILE\"; "
                                            "echo; echo done; exec sleep 30")}});
  driver->SetUserData("i-0001", data);
  ASSERT_THAT(driver->Start(MakeInstance("i-0001", "ami-echo")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0001", "done\n"));
  std::string console = ReadAll(InstanceFile("i-0001", "console.log"));
  EXPECT_THAT(console, HasSubstr("env:" + data + "\n"));
  EXPECT_THAT(console, HasSubstr("file:" + data + "\n"));
  EXPECT_FALSE(Exists(pwned));
}

TEST_F(ProcessDriverTest, BinaryUserDataIsPassedAsBase64) {
  const std::string data("\xff\x00zz", 4);
  auto driver = MakeDriver({{"ami-b64", Sh("echo \"$THINGTANK_USER_DATA_BASE64 "
                                           "$THINGTANK_USER_DATA\"; exec sleep 30")}});
  driver->SetUserData("i-0002", data);
  ASSERT_THAT(driver->Start(MakeInstance("i-0002", "ami-b64")), IsOk());
  EXPECT_TRUE(ConsoleHas("i-0002", "1 " + absl::Base64Escape(data) + "\n"));
  EXPECT_EQ(ReadAll(InstanceFile("i-0002", "user-data")), data);
}

TEST_F(ProcessDriverTest, StartOfAnUnknownImageIsNotFoundAndUnhealthy) {
  auto driver = MakeDriver({{"ami-known", {"/bin/true"}}});
  absl::Status status = driver->Start(MakeInstance("i-0003", "ami-missing"));
  EXPECT_THAT(status, IsStatus(absl::StatusCode::kNotFound, "InvalidAMIID.NotFound", ""));
  EXPECT_THAT(std::string(status.message()), HasSubstr("ami-missing"));
  EXPECT_FALSE(driver->Healthy("i-0003"));
  EXPECT_TRUE(driver->HasImage("ami-known"));
  EXPECT_FALSE(driver->HasImage("ami-missing"));
}

TEST_F(ProcessDriverTest, StopSendsTermFirst) {
  auto driver = MakeDriver(
      {{"ami-trap", Sh("trap 'echo term > term-marker; exit 0' TERM; echo ready; "
                       "while :; do sleep 1 & wait $!; done")}},
      absl::Seconds(30));
  ASSERT_THAT(driver->Start(MakeInstance("i-0004", "ami-trap")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0004", "ready\n"));
  pid_t pid = driver->ProcessGroup("i-0004");
  ASSERT_GT(pid, 0);
  driver->Stop("i-0004", /*force=*/false);
  EXPECT_EQ(driver->ProcessGroup("i-0004"), 0);
  // Well within the 30 s grace: the trap ran, the shell exited, the driver reaped it.
  EXPECT_TRUE(WaitFor([&] { return !Alive(pid); }));
  EXPECT_EQ(ReadAll(InstanceFile("i-0004", "term-marker")), "term\n");
  EXPECT_TRUE(driver->Healthy("i-0004"));
}

TEST_F(ProcessDriverTest, StopKillsAfterTheGracePeriodWithoutBlocking) {
  auto driver = MakeDriver(
      {{"ami-stubborn", Sh("trap '' TERM; echo ready; while :; do sleep 1 & wait $!; done")}},
      absl::Milliseconds(200));
  ASSERT_THAT(driver->Start(MakeInstance("i-0005", "ami-stubborn")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0005", "ready\n"));
  pid_t pid = driver->ProcessGroup("i-0005");
  const absl::Time stopped = absl::Now();
  driver->Stop("i-0005", /*force=*/false);
  EXPECT_TRUE(Alive(pid));  // Stop returned before the grace period ended
  EXPECT_TRUE(WaitFor([&] { return !Alive(pid); }, absl::Seconds(5)));
  EXPECT_GE(absl::Now() - stopped, absl::Milliseconds(200));
}

TEST_F(ProcessDriverTest, ForcedStopKillsAtOnce) {
  auto driver = MakeDriver(
      {{"ami-stubborn", Sh("trap '' TERM; echo ready; while :; do sleep 1 & wait $!; done")}},
      absl::Seconds(30));
  ASSERT_THAT(driver->Start(MakeInstance("i-0006", "ami-stubborn")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0006", "ready\n"));
  pid_t pid = driver->ProcessGroup("i-0006");
  driver->Stop("i-0006", /*force=*/true);
  EXPECT_TRUE(WaitFor([&] { return !Alive(pid); }, absl::Seconds(2)));
}

TEST_F(ProcessDriverTest, ForcedStopCutsShortAnEarlierGentleStop) {
  auto driver = MakeDriver(
      {{"ami-stubborn", Sh("trap '' TERM; echo ready; while :; do sleep 1 & wait $!; done")}},
      absl::Seconds(30));
  ASSERT_THAT(driver->Start(MakeInstance("i-0007", "ami-stubborn")), IsOk());
  ASSERT_TRUE(ConsoleHas("i-0007", "ready\n"));
  pid_t pid = driver->ProcessGroup("i-0007");
  driver->Stop("i-0007", /*force=*/false);
  driver->Stop("i-0007", /*force=*/true);
  EXPECT_TRUE(WaitFor([&] { return !Alive(pid); }, absl::Seconds(2)));
}

TEST_F(ProcessDriverTest, ProcessThatExitsByItselfIsUnhealthyUntilRestarted) {
  auto driver = MakeDriver({{"ami-short", Sh("echo run; [ -e again ] && exec sleep 30; "
                                             "touch again; exit 3")}});
  ASSERT_THAT(driver->Start(MakeInstance("i-0008", "ami-short")), IsOk());
  EXPECT_TRUE(WaitFor([&] { return !driver->Healthy("i-0008"); }));
  EXPECT_EQ(driver->ProcessGroup("i-0008"), 0);
  ASSERT_THAT(driver->Restart(MakeInstance("i-0008", "ami-short")), IsOk());
  EXPECT_TRUE(driver->Healthy("i-0008"));
  EXPECT_NE(driver->ProcessGroup("i-0008"), 0);
  EXPECT_TRUE(ConsoleHas("i-0008", "run\nrun\n"));
}

TEST_F(ProcessDriverTest, RestartStopsTheOldProcessThenStartsAgain) {
  auto driver = MakeDriver(
      {{"ami-reboot", Sh("trap 'echo \"term $$\"; exit 0' TERM; echo \"start $$ $THINGTANK_USER_DATA\"; "
                         "while :; do sleep 1 & wait $!; done")}});
  driver->SetUserData("i-0009", "boot");
  ASSERT_THAT(driver->Start(MakeInstance("i-0009", "ami-reboot")), IsOk());
  pid_t first = driver->ProcessGroup("i-0009");
  ASSERT_TRUE(ConsoleHas("i-0009", absl::StrCat("start ", first, " boot\n")));
  ASSERT_THAT(driver->Restart(MakeInstance("i-0009", "ami-reboot")), IsOk());
  pid_t second = 0;
  ASSERT_TRUE(WaitFor([&] {
    second = driver->ProcessGroup("i-0009");
    return second != 0;
  }));
  EXPECT_NE(second, first);
  EXPECT_FALSE(Alive(first));
  // The old one had exited (its trap ran) before the new one started.
  EXPECT_TRUE(ConsoleHas("i-0009", absl::StrCat("term ", first, "\nstart ", second, " boot\n")));
  EXPECT_TRUE(driver->Healthy("i-0009"));
}

TEST_F(ProcessDriverTest, CpuOfABusyLoopIsHighAndOfASleepLow) {
  auto driver = MakeDriver({{"ami-busy", Sh("while :; do :; done")},
                            {"ami-idle", {"/bin/sleep", "30"}}});
  v1::Instance busy = MakeInstance("i-000a", "ami-busy");
  v1::Instance idle = MakeInstance("i-000b", "ami-idle");
  ASSERT_THAT(driver->Start(busy), IsOk());
  ASSERT_THAT(driver->Start(idle), IsOk());
  const absl::Time now = absl::UnixEpoch();  // unused by the driver: it measures real time
  double busy_cpu = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        busy_cpu = driver->CpuUtilization(busy, now);
        return busy_cpu > 50;
      },
      absl::Seconds(10), absl::Milliseconds(250)))
      << busy_cpu;
  EXPECT_LE(busy_cpu, 100);
  driver->CpuUtilization(idle, now);
  absl::SleepFor(absl::Milliseconds(500));  // an idle reading needs time to be idle in
  EXPECT_LT(driver->CpuUtilization(idle, now), 10);
  EXPECT_EQ(driver->CpuUtilization(MakeInstance("i-none", "ami-idle"), now), 0);
}

TEST_F(ProcessDriverTest, CpuIsAPercentageOfTheInstancesVcpus) {
  auto driver = MakeDriver({{"ami-busy", Sh("while :; do :; done")}});
  v1::Instance busy = MakeInstance("i-000c", "ami-busy", /*vcpus=*/4);
  ASSERT_THAT(driver->Start(busy), IsOk());
  double cpu = 0;
  int samples = 0;
  WaitFor(
      [&] {
        cpu = driver->CpuUtilization(busy, absl::UnixEpoch());
        return ++samples >= 4;
      },
      absl::Seconds(10), absl::Milliseconds(250));
  EXPECT_GT(cpu, 5);  // one core of four: about 25 % (less on a loaded host)
  EXPECT_LT(cpu, 30);
}

TEST_F(ProcessDriverTest, DestructorLeavesNoChildBehind) {
  auto driver = MakeDriver(
      {{"ami-tree", Sh("sleep 30 & echo $! > child-pid; echo $$ > pid; wait")},
       {"ami-stubborn", Sh("trap '' TERM; echo $$ > pid; while :; do sleep 1 & wait $!; done")}},
      absl::Seconds(30));
  ASSERT_THAT(driver->Start(MakeInstance("i-000d", "ami-tree")), IsOk());
  ASSERT_THAT(driver->Start(MakeInstance("i-000e", "ami-stubborn")), IsOk());
  pid_t leader = PidFromFile(InstanceFile("i-000d", "pid"));
  pid_t child = PidFromFile(InstanceFile("i-000d", "child-pid"));
  pid_t stubborn = PidFromFile(InstanceFile("i-000e", "pid"));
  ASSERT_GT(leader, 0);
  ASSERT_GT(child, 0);
  ASSERT_GT(stubborn, 0);
  driver->Stop("i-000e", /*force=*/false);  // in its grace period at destruction
  ASSERT_TRUE(Alive(stubborn));
  driver.reset();
  // The leaders were reaped by the driver: gone entirely.
  EXPECT_EQ(::kill(leader, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(::kill(stubborn, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  // The grandchild is someone else's to reap; it is dead at least.
  EXPECT_TRUE(WaitFor([&] { return !Alive(child); }, absl::Seconds(2)));
}

TEST_F(ProcessDriverTest, StartKillsWhatAnEarlierServerLeftRunning) {
  // `earlier` stands for a server that crashed: its children still run.
  auto earlier = MakeDriver({{"ami-sleep", {"/bin/sleep", "30"}}});
  ASSERT_THAT(earlier->Start(MakeInstance("i-000f", "ami-sleep")), IsOk());
  ASSERT_THAT(earlier->Start(MakeInstance("i-0010", "ami-sleep")), IsOk());
  pid_t leftover = earlier->ProcessGroup("i-000f");
  pid_t other = earlier->ProcessGroup("i-0010");
  // A pgid file naming a process of another instance (a reused pid) is ignored.
  std::filesystem::create_directories(root() + "/i-0011");
  std::ofstream(InstanceFile("i-0011", "pgid")) << other << "\n";

  auto driver = MakeDriver({{"ami-sleep", {"/bin/sleep", "30"}}});
  ASSERT_THAT(driver->Start(MakeInstance("i-000f", "ami-sleep")), IsOk());
  ASSERT_THAT(driver->Start(MakeInstance("i-0011", "ami-sleep")), IsOk());
  EXPECT_TRUE(WaitFor([&] { return !Alive(leftover); }, absl::Seconds(2)));
  EXPECT_TRUE(Alive(other));
  EXPECT_TRUE(Alive(driver->ProcessGroup("i-000f")));
  EXPECT_TRUE(Alive(driver->ProcessGroup("i-0011")));
}

// ---- The images file ----

class ProcessImagesFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.path() + "/images.json";
    std::ofstream(path) << text;
    return path;
  }
  // Expects INVALID_ARGUMENT naming `field` and the file.
  void ExpectInvalid(const std::string& text, const std::string& field) {
    const std::string path = Write(text);
    auto images = ParseImagesFile(path);
    EXPECT_THAT(images, IsStatus(absl::StatusCode::kInvalidArgument, "InvalidImagesFile", field))
        << text;
    EXPECT_THAT(std::string(images.status().message()), HasSubstr(path));
  }
  TempDir dir_;
};

TEST_F(ProcessImagesFileTest, ParsesCommandsAndEnv) {
  auto images = ParseImagesFile(Write(R"({"images": {
      "ami-worker": {"command": ["/usr/bin/python3", "/opt/worker.py", "--queue", "jobs"],
                     "env": {"K": "V", "PATH": "/opt/bin"}},
      "ami-plain": {"command": ["/bin/true"]}}})"));
  ASSERT_THAT(images.status(), IsOk());
  ASSERT_EQ(images->size(), 2u);
  const ImageCommand& worker = images->at("ami-worker");
  EXPECT_EQ(worker.argv,
            (std::vector<std::string>{"/usr/bin/python3", "/opt/worker.py", "--queue", "jobs"}));
  EXPECT_EQ(worker.env, (std::map<std::string, std::string>{{"K", "V"}, {"PATH", "/opt/bin"}}));
  EXPECT_EQ(images->at("ami-plain").argv, std::vector<std::string>{"/bin/true"});
  EXPECT_TRUE(images->at("ami-plain").env.empty());
}

TEST_F(ProcessImagesFileTest, ErrorsNameTheJsonPath) {
  ExpectInvalid(R"({"images": {"ami-x": {"env": {}}}})", "images.ami-x.command");
  ExpectInvalid(R"({"images": {"ami-x": {"command": []}}})", "images.ami-x.command");
  ExpectInvalid(R"({"images": {"ami-x": {"command": "/bin/true"}}})", "images.ami-x.command");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["python3", "w.py"]}}})",
                "images.ami-x.command[0]");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/echo", 3]}}})",
                "images.ami-x.command[1]");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/echo"], "env": {"K": 1}}}})",
                "images.ami-x.env.K");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/echo"], "env": []}}})",
                "images.ami-x.env");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/echo"], "env": {"A=B": "1"}}}})",
                "images.ami-x.env.A=B");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/echo"],
                "env": {"THINGTANK_INSTANCE_ID": "forged"}}}})",
                "images.ami-x.env.THINGTANK_INSTANCE_ID");
  ExpectInvalid(R"({"images": {"ami-x": {"command": ["/bin/e\u0000cho"]}}})",
                "images.ami-x.command[0]");
  ExpectInvalid(R"({"images": {"ami-x": {"comand": ["/bin/echo"], "command": ["/bin/echo"]}}})",
                "images.ami-x.comand");
  ExpectInvalid(R"({"images": {"ami-x": 3}})", "images.ami-x");
  ExpectInvalid(R"({"images": []})", "images");
  ExpectInvalid(R"({})", "images");
}

TEST_F(ProcessImagesFileTest, ABrokenOrMissingFileIsAnError) {
  ExpectInvalid(R"({"images": )", "");
  ExpectInvalid(R"([1, 2])", "");
  EXPECT_THAT(ParseImagesFile(dir_.path() + "/absent.json"),
              IsStatus(absl::StatusCode::kNotFound, "NotFound", ""));
}

}  // namespace
}  // namespace thingtank::compute
