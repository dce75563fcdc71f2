// Kernel notes: a kernel may say which implementation ran it (a oneDNN primitive's name, a
// cuDNN algorithm or engine), for the profiler's extraInfo (Note [kernel profiling] in
// runtime/profiler.h). Notes are kept only while a profile is taken: a kernel checks
// kernel_notes_wanted() before building one, so they cost a flag check otherwise. A note
// belongs to the thread that runs the kernel (eager ops on the JS thread, plans on workers).
#pragma once
#include <atomic>
#include <string>

namespace cn {

inline std::atomic<bool> g_kernel_notes_wanted{false};
inline thread_local std::string t_kernel_note;

inline bool kernel_notes_wanted() { return g_kernel_notes_wanted.load(std::memory_order_relaxed); }

// Adds to the note of the kernel running on this thread ("; " between parts).
inline void kernel_note(const std::string& part) {
  if (!t_kernel_note.empty()) t_kernel_note += "; ";
  t_kernel_note += part;
}

// This thread's note so far, which is then cleared.
inline std::string take_kernel_note() {
  std::string s;
  s.swap(t_kernel_note);
  return s;
}

}  // namespace cn
