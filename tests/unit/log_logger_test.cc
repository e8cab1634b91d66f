#include "core/log/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <numeric>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/async.h>

#include "core/log/queue_order.h"

namespace epolld::log {
namespace {

using config::LogLevel;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;

// Python's asctime and the default name, as a regular expression.
const std::string kLinePrefix = R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - network-server - )";

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// The messages of a log file's lines: what follows time, name and level.
std::vector<std::string> readMessages(const std::string& path) {
  std::vector<std::string> messages;
  for (const std::string& line : readLines(path)) {
    std::size_t message = 0;
    for (int field = 0; field < 3; ++field) {
      message = line.find(" - ", message) + 3;
    }
    messages.push_back(line.substr(message));
  }
  return messages;
}

std::vector<std::string> numbered(const std::string& prefix, int first, int end) {
  std::vector<std::string> lines;
  for (int i = first; i < end; ++i) {
    lines.push_back(prefix + std::to_string(i));
  }
  return lines;
}

bool waitUntil(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Each test gets a fresh directory and leaves the logger stopped.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "epolld-log-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // File at debug, nothing on stderr.
  config::LogOptions options(const std::string& file = "test.log") const {
    config::LogOptions options;
    options.file = path(file);
    options.file_level = LogLevel::kDebug;
    options.console_level = LogLevel::kOff;
    return options;
  }

 private:
  std::filesystem::path dir_;
};

// Holds the log thread in a task until open(), so that lines pile up in the queue.
class LogThreadGate {
 public:
  LogThreadGate()
      : released_(release_.get_future().share()),
        thread_([this, pool = spdlog::thread_pool()] {
          runInQueueOrder(pool, [this] {
            entered_.set_value();
            released_.wait();
          });
        }) {}
  ~LogThreadGate() {
    open();
    thread_.join();
  }

  bool waitClosed() {
    return entered_.get_future().wait_for(kDeadline) == std::future_status::ready;
  }
  void open() {
    if (!opened_) {
      opened_ = true;
      release_.set_value();
    }
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool opened_ = false;
  std::thread thread_;
};

bool queueHolds(std::size_t lines) {
  return waitUntil([lines] { return spdlog::thread_pool()->queue_size() == lines; });
}

TEST_F(LogTest, FileGetsFileLevelAndAboveInPythonFormat) {
  auto warning = options();
  warning.file_level = LogLevel::kWarning;
  start(warning);
  spdlog::debug("d");
  spdlog::info("i");
  spdlog::warn("w {}", 1);
  spdlog::error("e");
  spdlog::critical("c");
  stop();

  const std::vector<std::string> lines = readLines(warning.file);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(kLinePrefix + "WARNING - w 1$"))) << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(kLinePrefix + "ERROR - e$"))) << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(kLinePrefix + "CRITICAL - c$"))) << lines[2];
}

TEST_F(LogTest, LinesCarryTheNameFromOptions) {
  auto named = options();
  named.name = "echo-server";
  start(named);
  spdlog::info("hello");
  stop();
  const std::vector<std::string> lines = readLines(named.file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" - echo-server - INFO - hello"), std::string::npos) << lines[0];
}

TEST_F(LogTest, FileLevelOffCreatesNoFile) {
  auto off = options();
  off.file_level = LogLevel::kOff;
  start(off);
  spdlog::critical("c");
  reopenFile();
  stop();
  EXPECT_FALSE(std::filesystem::exists(off.file));
}

TEST_F(LogTest, StartThrowsNamingTheFileAndTheReason) {
  const auto missing = options("no-such-dir/test.log");
  try {
    start(missing);
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open log file '" + missing.file + "': No such file or directory");
  }
  EXPECT_FALSE(std::filesystem::exists(path("no-such-dir")));
  // Nothing was left half started.
  start(options());
}

TEST_F(LogTest, RestartAppendsToTheSameFile) {
  start(options());
  spdlog::info("first");
  stop();
  start(options());
  spdlog::info("second");
  stop();
  EXPECT_EQ(readMessages(options().file), (std::vector<std::string>{"first", "second"}));
}

TEST_F(LogTest, LoggerLevelIsTheLowerSinkLevel) {
  const struct {
    LogLevel file;
    LogLevel console;
    spdlog::level::level_enum lowest_logged;
  } cases[] = {
      {LogLevel::kInfo, LogLevel::kError, spdlog::level::info},
      {LogLevel::kOff, LogLevel::kWarning, spdlog::level::warn},
      {LogLevel::kCritical, LogLevel::kDebug, spdlog::level::debug},
      {LogLevel::kOff, LogLevel::kOff, spdlog::level::off},
  };
  for (const auto& c : cases) {
    auto levels = options();
    levels.file_level = c.file;
    levels.console_level = c.console;
    start(levels);
    for (int level = spdlog::level::trace; level <= spdlog::level::critical; ++level) {
      EXPECT_EQ(spdlog::should_log(static_cast<spdlog::level::level_enum>(level)),
                level >= c.lowest_logged)
          << "level " << level << " with lowest " << c.lowest_logged;
    }
    stop();
  }
}

// Points fd 2 at a file while it lives.
class CapturedStderr {
 public:
  explicit CapturedStderr(const std::string& path)
      : path_(path), saved_(::dup(STDERR_FILENO)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~CapturedStderr() { restore(); }

  std::vector<std::string> restore() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
    return readLines(path_);
  }

 private:
  std::string path_;
  int saved_;
};

TEST_F(LogTest, StderrGetsConsoleLevelAndAbove) {
  auto console = options();
  console.file_level = LogLevel::kOff;
  console.console_level = LogLevel::kWarning;
  CapturedStderr captured(path("stderr"));
  start(console);
  spdlog::debug("d");
  spdlog::info("i");
  spdlog::warn("w");
  spdlog::error("e");
  stop();
  const std::vector<std::string> lines = captured.restore();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(kLinePrefix + "WARNING - w$"))) << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(kLinePrefix + "ERROR - e$"))) << lines[1];
}

TEST_F(LogTest, ReopenAfterRenameSplitsLinesAtTheCallAndLosesNone) {
  const auto log = options();
  start(log);
  for (int i = 0; i < 1000; ++i) {
    spdlog::debug("line {}", i);
  }
  std::filesystem::rename(log.file, log.file + ".1");
  reopenFile();
  for (int i = 1000; i < 2000; ++i) {
    spdlog::debug("line {}", i);
  }
  EXPECT_EQ(droppedLines(), 0u);
  stop();
  EXPECT_EQ(readMessages(log.file + ".1"), numbered("line ", 0, 1000));
  EXPECT_EQ(readMessages(log.file), numbered("line ", 1000, 2000));
}

TEST_F(LogTest, ReopenWhileThreadsLogSplitsEachThreadOnce) {
  constexpr int kThreads = 2;
  constexpr int kLinesPerThread = 5000;
  const auto log = options();
  start(log, kThreads * kLinesPerThread + 1);  // room for all: nothing dropped
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &logged] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        spdlog::info("{} {}", t, i);
        ++logged;
      }
    });
  }
  ASSERT_TRUE(waitUntil([&] { return logged >= 1000; }));
  std::filesystem::rename(log.file, log.file + ".1");
  const int logged_before = logged;
  reopenFile();
  const int logged_after = logged;
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(droppedLines(), 0u);
  stop();

  // Per thread: a prefix of its lines in the old file, the rest in the new.
  std::vector<std::vector<int>> old_lines(kThreads), new_lines(kThreads);
  for (auto [file, lines] :
       {std::pair{log.file + ".1", &old_lines}, std::pair{log.file, &new_lines}}) {
    for (const std::string& message : readMessages(file)) {
      const std::size_t space = message.find(' ');
      (*lines)[std::stoi(message.substr(0, space))].push_back(std::stoi(message.substr(space + 1)));
    }
  }
  int in_old_file = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::vector<int> all = old_lines[t];
    all.insert(all.end(), new_lines[t].begin(), new_lines[t].end());
    std::vector<int> expected(kLinesPerThread);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(all, expected) << "thread " << t;
    in_old_file += static_cast<int>(old_lines[t].size());
  }
  // A thread counts a line just after logging it: each may have one more.
  EXPECT_GE(in_old_file, logged_before);
  EXPECT_LE(in_old_file, logged_after + kThreads);
}

TEST_F(LogTest, ReopenFailureThrowsAndKeepsTheOldFile) {
  const auto log = options();
  start(log);
  spdlog::info("before");
  std::filesystem::rename(log.file, log.file + ".1");
  std::filesystem::create_directory(log.file);  // open(2) fails even for root
  try {
    reopenFile();
    FAIL() << "reopenFile() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open log file '" + log.file + "': Is a directory");
  }
  spdlog::info("after");
  stop();
  EXPECT_EQ(readMessages(log.file + ".1"), (std::vector<std::string>{"before", "after"}));
}

TEST_F(LogTest, ReopenCompletesWhenAFloodPushesItsMarkerOutOfTheQueue) {
  constexpr std::size_t kQueue = 4;
  const auto log = options();
  start(log, kQueue);
  spdlog::info("before");
  std::filesystem::rename(log.file, log.file + ".1");
  {
    std::future<void> reopened;  // before the gate, so a failed ASSERT opens the gate first
    LogThreadGate gate;
    ASSERT_TRUE(gate.waitClosed());
    reopened = std::async(std::launch::async, reopenFile);
    ASSERT_TRUE(queueHolds(1));  // the marker
    // kQueue lines fill the queue and push the marker out; the next line's
    // push destroys it, which tells reopenFile() to switch files itself.
    for (std::size_t i = 0; i <= kQueue; ++i) {
      spdlog::info("flood {}", i);
    }
    // Done while the log thread is still held.
    ASSERT_EQ(reopened.wait_for(kDeadline), std::future_status::ready);
    reopened.get();
  }
  stop();
  EXPECT_EQ(readMessages(log.file + ".1"), (std::vector<std::string>{"before"}));
  EXPECT_EQ(readMessages(log.file), numbered("flood ", 1, kQueue + 1));
}

TEST_F(LogTest, DroppedLinesCountsLinesOverwrittenInAFullQueue) {
  constexpr std::size_t kQueue = 4;
  const auto log = options();
  start(log, kQueue);
  {
    LogThreadGate gate;
    ASSERT_TRUE(gate.waitClosed());
    ASSERT_TRUE(queueHolds(0));
    for (int i = 0; i < 10; ++i) {
      spdlog::info("line {}", i);
    }
    EXPECT_EQ(droppedLines(), 10 - kQueue);
  }
  stop();
  EXPECT_EQ(readMessages(log.file), numbered("line ", 10 - kQueue, 10));
}

TEST_F(LogTest, ReconfigureChangesLevelsAtOnce) {
  start(options());
  spdlog::debug("debug before");
  auto error = options();
  error.file_level = LogLevel::kError;
  reconfigure(error);
  EXPECT_FALSE(spdlog::should_log(spdlog::level::warn));
  spdlog::warn("warning after");
  spdlog::error("error after");
  stop();
  EXPECT_EQ(readMessages(error.file), (std::vector<std::string>{"debug before", "error after"}));
}

TEST_F(LogTest, ReconfigureMovesToTheNewFileBetweenLines) {
  start(options("a.log"));
  for (int i = 0; i < 500; ++i) {
    spdlog::info("line {}", i);
  }
  reconfigure(options("b.log"));
  for (int i = 500; i < 1000; ++i) {
    spdlog::info("line {}", i);
  }
  stop();
  EXPECT_EQ(readMessages(path("a.log")), numbered("line ", 0, 500));
  EXPECT_EQ(readMessages(path("b.log")), numbered("line ", 500, 1000));
}

TEST_F(LogTest, ReconfigureTurnsTheFileOffAndOn) {
  auto off = options();
  off.file_level = LogLevel::kOff;
  start(off);
  spdlog::critical("not written");
  reconfigure(options());
  spdlog::info("on");
  reconfigure(off);
  spdlog::critical("off again");
  EXPECT_FALSE(spdlog::should_log(spdlog::level::critical));
  stop();
  EXPECT_EQ(readMessages(off.file), (std::vector<std::string>{"on"}));
}

TEST_F(LogTest, ReconfigureToAnUnopenableFileThrowsAndChangesNothing) {
  start(options());
  auto bad = options("no-such-dir/x.log");
  bad.file_level = LogLevel::kError;
  EXPECT_THROW(reconfigure(bad), std::runtime_error);
  EXPECT_TRUE(spdlog::should_log(spdlog::level::debug));
  spdlog::debug("still here");
  stop();
  EXPECT_EQ(readMessages(options().file), (std::vector<std::string>{"still here"}));
}

TEST_F(LogTest, LinesAfterStopGoToStderrInsteadOfCrashing) {
  auto console = options();
  console.console_level = LogLevel::kWarning;
  CapturedStderr captured(path("stderr"));
  start(console);
  stop();
  spdlog::info("dropped");
  spdlog::error("late");
  const std::vector<std::string> lines = captured.restore();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with(" - network-server - ERROR - late")) << lines[0];
}

}  // namespace
}  // namespace epolld::log
