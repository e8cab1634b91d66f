#include "core/log/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
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
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>

#include "core/log/access_log.h"
#include "core/log/queue_order.h"
#include "core/log/reopenable_file_sink.h"

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

bool waitUntil(const std::function<bool()>& condition,
               std::chrono::steady_clock::duration within = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + within;
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

// ---- batching ----------------------------------------------------------------------

// Long enough to need several batches, some lines longer than the buffer's
// reserve, so that a batch grows past it.
std::string batchLine(int i) {
  const std::size_t length = i % 97 == 0 ? 9000 + i % 7 : 20 + i % 61;
  std::string line = std::to_string(i) + ' ';
  line.append(length, static_cast<char>('a' + i % 26));
  return line;
}

TEST_F(LogTest, BatchesKeepEveryLineWholeAndInOrder) {
  constexpr int kLines = 20000;
  const auto log = options();
  start(log, kLines + 1);  // room for all: nothing dropped
  std::vector<std::string> expected;
  for (int i = 0; i < kLines; ++i) {
    expected.push_back(batchLine(i));
    spdlog::info("{}", expected.back());
  }
  EXPECT_EQ(droppedLines(), 0u);
  stop();
  EXPECT_EQ(readMessages(log.file), expected);
}

TEST_F(LogTest, ALineReachesTheFileWithinASecondWhenTrafficStops) {
  const auto log = options();
  start(log);
  spdlog::info("alone");
  EXPECT_TRUE(waitUntil([&] { return readMessages(log.file) == std::vector<std::string>{"alone"}; },
                        1s));
  // The last line of a burst too, however the burst was cut into batches.
  for (int i = 0; i < 5000; ++i) {
    spdlog::debug("burst {}", i);
  }
  EXPECT_TRUE(waitUntil([&] { return readMessages(log.file).size() == 5001; }, 1s));
  EXPECT_EQ(readMessages(log.file).back(), "burst 4999");
}

TEST_F(LogTest, ReconfigureKeepingTheFileLeavesNoLineWaitingInTheBatch) {
  const auto log = options();
  start(log);
  {
    // The lines and the reconfiguration queue up behind the gate: the log
    // thread then meets the reconfiguration's marker last, with lines in
    // its batch and no line after it to end the batch.
    LogThreadGate gate;
    ASSERT_TRUE(gate.waitClosed());
    spdlog::info("one");
    spdlog::info("two");
    auto info = options();
    info.file_level = LogLevel::kInfo;
    std::future<void> reconfigured = std::async(std::launch::async, [&] { reconfigure(info); });
    ASSERT_TRUE(queueHolds(3));
    gate.open();
    ASSERT_EQ(reconfigured.wait_for(kDeadline), std::future_status::ready);
  }
  EXPECT_TRUE(waitUntil([&] { return readMessages(log.file).size() == 2; }, 1s));
}

TEST_F(LogTest, AFailedWriteIsReportedAndLaterLinesStillArrive) {
  // /dev/full fails every write with ENOSPC; spdlog's error handler reports it.
  auto sink = std::make_shared<ReopenableFileSink>(openLogFile("/dev/full"));
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  const spdlog::details::log_msg msg(spdlog::source_loc{}, "t", spdlog::level::info, "x");
  sink->log(msg);
  EXPECT_THROW(sink->flush(), spdlog::spdlog_ex);
  // The failed batch was given up, not kept to fail again.
  sink->replaceFile(openLogFile(path("after.log")));
  sink->log(msg);
  sink->flush();
  EXPECT_EQ(readLines(path("after.log")), (std::vector<std::string>{"x"}));
}

// ---- the journal ---------------------------------------------------------------------

// Sets an environment variable while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::string journalStreamOf(const std::string& file) {
  struct stat status {};
  EXPECT_EQ(::stat(file.c_str(), &status), 0);
  return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
}

TEST_F(LogTest, StderrLinesCarryTheirPriorityWhenStderrIsTheJournal) {
  auto console = options();
  console.file_level = LogLevel::kOff;
  console.console_level = LogLevel::kDebug;
  CapturedStderr captured(path("stderr"));
  const ScopedEnv journal("JOURNAL_STREAM", journalStreamOf(path("stderr")));
  start(console);
  spdlog::debug("d");
  spdlog::info("i");
  spdlog::warn("w");
  spdlog::error("e");
  spdlog::critical("c");
  stop();
  spdlog::error("after stop");  // the fallback logger knows the journal too
  const std::vector<std::string> lines = captured.restore();
  ASSERT_EQ(lines.size(), 6u);
  const char* expected[] = {"<7>", "DEBUG - d", "<6>", "INFO - i", "<4>", "WARNING - w",
                            "<3>", "ERROR - e", "<2>", "CRITICAL - c", "<3>", "ERROR - after stop"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_TRUE(std::regex_match(lines[i], std::regex(std::string(expected[2 * i]) +
                                                      kLinePrefix.substr(1) + expected[2 * i + 1] +
                                                      "$")))
        << lines[i];
  }
}

TEST_F(LogTest, StderrLinesHaveNoPrefixWhenTheJournalIsAnotherFile) {
  auto console = options();
  console.file_level = LogLevel::kOff;
  console.console_level = LogLevel::kInfo;
  std::ofstream(path("journal")).put('x');
  CapturedStderr captured(path("stderr"));
  const ScopedEnv journal("JOURNAL_STREAM", journalStreamOf(path("journal")));
  start(console);
  spdlog::error("e");
  stop();
  const std::vector<std::string> lines = captured.restore();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(kLinePrefix + "ERROR - e$"))) << lines[0];
}

// ---- access logs ---------------------------------------------------------------------

TEST_F(LogTest, AccessLogWritesEachLineAsGivenFromManyThreads) {
  static const std::string kRequest = R"( "GET / HTTP/1.1" 200)";
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 2000;
  start(options(), kThreads * kLinesPerThread + 1);
  const auto access = openAccessLog(path("access.log"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &access] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        access->write(std::to_string(t) + " " + std::to_string(i) + kRequest);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(droppedLines(), 0u);
  stop();
  std::vector<std::vector<int>> per_thread(kThreads);
  for (const std::string& line : readLines(path("access.log"))) {
    std::istringstream fields(line);
    int t = 0;
    int i = 0;
    std::string rest;
    fields >> t >> i;
    std::getline(fields, rest);
    ASSERT_EQ(rest, kRequest) << line;
    per_thread.at(t).push_back(i);
  }
  std::vector<int> expected(kLinesPerThread);
  std::iota(expected.begin(), expected.end(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(per_thread[t], expected) << "thread " << t;
  }
  // The main log got none of them.
  EXPECT_TRUE(readLines(options().file).empty());
}

TEST_F(LogTest, AccessLogLinesReachTheFileWithinASecond) {
  start(options());
  const auto access = openAccessLog(path("access.log"));
  access->write("one");
  access->write("two, already ended\n");  // no second newline
  const std::vector<std::string> expected = {"one", "two, already ended"};
  EXPECT_TRUE(waitUntil([&] { return readLines(path("access.log")) == expected; }, 1s));
}

TEST_F(LogTest, AccessLogsAreSharedByPathWhileHeld) {
  start(options());
  auto first = openAccessLog(path("a.log"));
  const auto same = openAccessLog(path("a.log"));
  const auto other = openAccessLog(path("b.log"));
  EXPECT_EQ(first, same);
  EXPECT_NE(first, other);
  first->write("1");
  same->write("2");
  const std::weak_ptr<AccessLogFile> weak = first;
  first.reset();
  EXPECT_FALSE(weak.expired());  // `same` still holds it
  reopenFile();  // a reopen keeps the registry as it was
  const auto again = openAccessLog(path("a.log"));
  EXPECT_EQ(again, same);
  stop();
  EXPECT_EQ(readLines(path("a.log")), (std::vector<std::string>{"1", "2"}));
}

TEST_F(LogTest, AnAccessLogNoLongerHeldKeepsItsLinesAndOpensAnew) {
  start(options());
  std::weak_ptr<AccessLogFile> weak;
  {
    const auto access = openAccessLog(path("a.log"));
    weak = access;
    access->write("before");
  }
  EXPECT_TRUE(weak.expired());
  openAccessLog(path("a.log"))->write("after");
  stop();
  EXPECT_EQ(readLines(path("a.log")), (std::vector<std::string>{"before", "after"}));
}

TEST_F(LogTest, AccessLogOpenFailureNamesTheFileAndTheReason) {
  const std::string missing = path("no-such-dir/access.log");
  try {
    openAccessLog(missing);
    FAIL() << "openAccessLog() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open access log '" + missing + "': No such file or directory");
  }
}

TEST_F(LogTest, ReopenMovesAccessLogsWithTheLogFileAndLosesNoLine) {
  const auto log = options();
  start(log);
  const auto access = openAccessLog(path("access.log"));
  for (int i = 0; i < 1000; ++i) {
    access->write("line " + std::to_string(i));
    spdlog::info("line {}", i);
  }
  std::filesystem::rename(path("access.log"), path("access.log.1"));
  std::filesystem::rename(log.file, log.file + ".1");
  reopenFile();
  for (int i = 1000; i < 2000; ++i) {
    access->write("line " + std::to_string(i));
    spdlog::info("line {}", i);
  }
  EXPECT_EQ(droppedLines(), 0u);
  stop();
  EXPECT_EQ(readLines(path("access.log.1")), numbered("line ", 0, 1000));
  EXPECT_EQ(readLines(path("access.log")), numbered("line ", 1000, 2000));
  EXPECT_EQ(readMessages(log.file + ".1"), numbered("line ", 0, 1000));
  EXPECT_EQ(readMessages(log.file), numbered("line ", 1000, 2000));
}

TEST_F(LogTest, AnAccessLogThatCannotBeReopenedKeepsItsFileAndTheOthersMove) {
  const auto log = options();
  start(log);
  const auto access = openAccessLog(path("access.log"));
  access->write("before");
  std::filesystem::rename(path("access.log"), path("access.log.1"));
  std::filesystem::create_directory(path("access.log"));  // open(2) fails even for root
  std::filesystem::rename(log.file, log.file + ".1");
  try {
    reopenFile();
    FAIL() << "reopenFile() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open access log '" + path("access.log") + "': Is a directory");
  }
  access->write("after");
  spdlog::info("main after");
  stop();
  EXPECT_EQ(readLines(path("access.log.1")), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(readMessages(log.file), (std::vector<std::string>{"main after"}));
}

TEST_F(LogTest, AccessLogDropsCountInDroppedLines) {
  constexpr std::size_t kQueue = 4;
  start(options(), kQueue);
  const auto access = openAccessLog(path("access.log"));
  {
    LogThreadGate gate;
    ASSERT_TRUE(gate.waitClosed());
    ASSERT_TRUE(queueHolds(0));
    for (int i = 0; i < 10; ++i) {
      access->write("line " + std::to_string(i));  // never blocks, though the queue is full
    }
    EXPECT_EQ(droppedLines(), 10 - kQueue);
  }
  stop();
  EXPECT_EQ(readLines(path("access.log")), numbered("line ", 10 - kQueue, 10));
}

TEST_F(LogTest, AccessLogWritesAtOnceOutsideStartAndStop) {
  const auto access = openAccessLog(path("access.log"));
  access->write("before start");
  EXPECT_EQ(readLines(path("access.log")), (std::vector<std::string>{"before start"}));
  start(options());
  access->write("while started");
  stop();
  access->write("after stop");
  EXPECT_EQ(readLines(path("access.log")),
            (std::vector<std::string>{"before start", "while started", "after stop"}));
  // A second start queues its lines again, on the new log thread.
  start(options());
  access->write("started again");
  stop();
  EXPECT_EQ(readLines(path("access.log")).back(), "started again");
}

}  // namespace
}  // namespace epolld::log
