// Built into the executables of a ThreadSanitizer build only (see the
// top-level CMakeLists.txt); ThreadSanitizer asks for these at start-up.
//
// libspdlog.so is Debian's, not instrumented, so ThreadSanitizer cannot see
// the atomic reference counting done inside it. When the log thread drops the
// last reference to an async_logger there (log::runInQueueOrder's one-line
// marker logger dies with its queued line), the deallocation looks unordered
// with the reference the main thread dropped just before, though the atomic
// count orders them. The pattern names only the destruction of an
// async_logger's shared_ptr control block, so no other report is hidden.
extern "C" const char* __tsan_default_suppressions() {
  return "race:_Sp_counted_ptr_inplace<spdlog::async_logger\n";
}
