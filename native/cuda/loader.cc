// dlopen-based loading of cuDNN 9 and cuBLAS (see loader.h): the search order, the version
// checks and the function tables.
#include "loader.h"

#include <dlfcn.h>
#include <glob.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <utility>

namespace cn {
namespace cuda {

namespace {

CudnnApi g_cudnn;
CublasApi g_cublas;

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void glob_into(const std::string& pattern, std::vector<std::string>* out) {
  glob_t g;
  if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out->push_back(g.gl_pathv[i]);
  }
  globfree(&g);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Directory of this addon (the .node file), found through one of its own symbols.
std::string addon_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&addon_dir), &info) == 0 || !info.dli_fname) return "";
  std::string p = info.dli_fname;
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string(".") : p.substr(0, slash);
}

// Note [finding the Python wheels]: NVIDIA's wheels install under
// <site-packages>/nvidia/{cudnn,cu13,cublas}/lib. We look for site-packages directories
// without running Python: the active virtualenv / conda env, the user and system
// installs, pyenv versions, PYTHONPATH entries, and the project's own .cache/nvidia (which
// scripts/fetch-cuda-deps.sh --libs lays out the same way), found by walking up from the
// addon's directory.
std::vector<std::string> site_dirs() {
  std::vector<std::string> dirs;
  std::string home = env("HOME"), venv = env("VIRTUAL_ENV"), conda = env("CONDA_PREFIX");
  std::string pyenv = env("PYENV_ROOT");
  if (pyenv.empty() && !home.empty()) pyenv = home + "/.pyenv";
  if (!venv.empty()) glob_into(venv + "/lib/python3*/site-packages", &dirs);
  if (!conda.empty()) glob_into(conda + "/lib/python3*/site-packages", &dirs);
  std::string pp = env("PYTHONPATH");
  for (size_t b = 0; b <= pp.size() && !pp.empty();) {
    size_t e = pp.find(':', b);
    if (e == std::string::npos) e = pp.size();
    if (e > b && is_dir(pp.substr(b, e - b))) dirs.push_back(pp.substr(b, e - b));
    b = e + 1;
  }
  if (!home.empty()) glob_into(home + "/.local/lib/python3*/site-packages", &dirs);
  if (!pyenv.empty()) glob_into(pyenv + "/versions/*/lib/python3*/site-packages", &dirs);
  for (const char* pat :
       {"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
        "/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
        "/usr/lib/python3*/dist-packages", "/usr/lib64/python3*/site-packages",
        "/opt/conda/lib/python3*/site-packages"})
    glob_into(pat, &dirs);
  std::string d = addon_dir();
  for (int up = 0; up < 5 && !d.empty(); ++up) {
    if (is_dir(d + "/.cache/nvidia/nvidia")) {
      dirs.push_back(d + "/.cache/nvidia");
      break;
    }
    size_t slash = d.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    d = d.substr(0, slash);
  }
  std::vector<std::string> unique;  // a directory matched by two patterns is searched once
  for (auto& p : dirs) {
    bool seen = false;
    for (auto& u : unique) seen = seen || u == p;
    if (!seen) unique.push_back(p);
  }
  return unique;
}

struct Candidate {
  std::string path;                  // full path, or a bare soname for the loader path
  std::vector<std::string> preload;  // sibling libraries (glob patterns) to dlopen first
};

// Candidates: the explicit path (env var naming a file or a directory), then each site
// directory's wheel locations, then extra_dirs, then the bare sonames.
// wheel_subdirs pairs a directory under site-packages with the file expected there.
std::vector<Candidate> candidates(
    const char* env_var, const std::vector<std::string>& names,
    const std::vector<std::pair<std::string, std::string>>& wheel_subdirs,
    const std::vector<std::string>& extra_dirs) {
  std::vector<Candidate> out;
  std::string explicit_path = env(env_var);
  if (!explicit_path.empty()) {
    if (is_dir(explicit_path)) {
      for (auto& n : names) out.push_back({explicit_path + "/" + n, {}});
    } else {
      out.push_back({explicit_path, {}});
    }
  }
  for (auto& site : site_dirs())
    for (auto& sub : wheel_subdirs) out.push_back({site + "/" + sub.first + "/" + sub.second, {}});
  for (auto& d : extra_dirs)
    for (auto& n : names) out.push_back({d + "/" + n, {}});
  for (auto& n : names) out.push_back({n, {}});
  return out;
}

std::string dir_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

std::string join(const std::vector<std::string>& v, size_t from) {
  std::string r;
  for (size_t i = from; i < v.size(); ++i) r += (i > from ? ", " : "") + v[i];
  return r;
}

template <typename Fn>
void resolve(void* lib, const char* name, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!*fn && missing->empty()) *missing = name;
}

// Tries each candidate in order; `accept` checks the version of an opened library and fills
// the table, returning "" or why it was rejected. Every path tried goes into *searched.
template <typename Accept>
LoadResult load_first(const char* what, const std::vector<Candidate>& cands,
                      std::vector<std::string>* searched, Accept accept) {
  LoadResult r;
  size_t first = searched->size();
  std::vector<std::string> failures;  // files that exist but did not load or were rejected
  std::string version_error;
  for (auto& c : cands) {
    bool bare = c.path.find('/') == std::string::npos;
    searched->push_back(bare ? c.path + " (system loader path)" : c.path);
    if (!bare && !is_file(c.path)) continue;
    for (auto& pat : c.preload) {
      std::vector<std::string> libs;
      glob_into(dir_of(c.path) + "/" + pat, &libs);
      for (auto& l : libs) dlopen(l.c_str(), RTLD_LAZY | RTLD_LOCAL);
    }
    dlerror();
    void* lib = dlopen(c.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      std::string msg = e ? e : "dlopen failed";  // glibc's message starts with the path
      if (!bare) failures.push_back(msg.rfind(c.path, 0) == 0 ? msg : c.path + ": " + msg);
      continue;
    }
    std::string why = accept(lib, &r);
    if (why.empty()) {
      r.ok = true;
      r.path = c.path;
      char origin[4096] = {0};  // for a bare soname, report where the loader found it
      if (bare && dlinfo(lib, RTLD_DI_ORIGIN, origin) == 0 && origin[0])
        r.path = std::string(origin) + "/" + c.path;
      return r;
    }
    if (why.find("required") != std::string::npos && version_error.empty()) version_error = why;
    failures.push_back(c.path + ": " + why);
    dlclose(lib);
  }
  std::string where = " (searched: " + join(*searched, first) + ")";
  if (!version_error.empty())  // reads best alone: "cuDNN major version 8 found, 9 required"
    r.error = version_error + where;
  else if (!failures.empty())
    r.error = std::string(what) + " found but not loadable: " + join(failures, 0) + where;
  else
    r.error = std::string(what) + " not found" + where;
  return r;
}

// Note [incomplete cuDNN]: the shim's own functions (cudnnGetVersion too) forward to
// libcudnn_graph.so.9, and when the shim cannot open it, it prints "Invalid handle. Cannot
// load symbol cudnnGetVersion" and aborts the process (seen with 9.24's wheel shim copied
// alone). The other sub-libraries are opened the same way on first use: ops and cnn by the
// legacy convolution calls, heuristic and the engine libraries by graph-API plans, so a
// missing one aborted the process at the first convolution instead. So before the first
// call each required sub-library (kCudnnSubLibraries, dependencies first) is opened beside
// the shim (by full path; the shim's later open by soname then finds it loaded), else by
// soname from the loader path, and the library is refused when one of them fails.
// libcudnn_engines_tensor_ir.so.9 is one more engine library the graph library opens (9.24
// refuses to finalize any descriptor without it once the precompiled engines are present);
// it is required from the first version this was checked on (kTensorIrSince) on.
const char* const kCudnnSubLibraries[] = {
    "libcudnn_graph.so.9",     "libcudnn_ops.so.9",
    "libcudnn_cnn.so.9",       "libcudnn_heuristic.so.9",
    "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
    "libcudnn_engines_tensor_ir.so.9",
};
constexpr int kTensorIrSince = 92400;

// Opens the sub-libraries [first, last) of kCudnnSubLibraries; "" or why one failed.
std::string sub_library_missing(void* shim, size_t first, size_t last) {
  char origin[4096] = {0};
  std::string dir = dlinfo(shim, RTLD_DI_ORIGIN, origin) == 0 ? std::string(origin) : std::string();
  for (size_t i = first; i < last; ++i) {
    const char* name = kCudnnSubLibraries[i];
    dlerror();
    if (!dir.empty() && is_file(dir + "/" + name)) {
      if (dlopen((dir + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL)) continue;
      const char* e = dlerror();
      return "its sub-library " + dir + "/" + name + " does not load (" + (e ? e : "dlopen failed") +
             "), and calling into cuDNN would abort the process";
    }
    if (dlopen(name, RTLD_NOW | RTLD_LOCAL)) continue;
    return std::string("incomplete cuDNN: its sub-library ") + name + " is neither beside it" +
           (dir.empty() ? std::string() : " (in " + dir + ")") +
           " nor on the loader path, and calling into cuDNN without it would abort the process";
  }
  return "";
}

}  // namespace

LoadResult load_cudnn(std::vector<std::string>* searched) {
  static std::mutex mu;
  static bool done = false;
  static LoadResult result;
  static std::vector<std::string> tried;
  std::lock_guard<std::mutex> lock(mu);
  if (!done) {
    auto cands = candidates("CUDNN_NODE_CUDNN_PATH", {"libcudnn.so.9"},
                            {{"nvidia/cudnn/lib", "libcudnn.so.9"}},
                            {"/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu"});
    // Note [cuDNN sub-libraries]: libcudnn.so.9 is a small shim that dlopens its
    // sub-libraries (libcudnn_graph.so.9, libcudnn_cnn.so.9, ...) by soname. The wheels'
    // shim carries RPATH $ORIGIN and the sub-libraries RUNPATH $ORIGIN (checked on 9.24),
    // and system installs sit on the loader path, so neither needs help, and RTLD_LOCAL is
    // enough (we only dlsym from our own handle). A path named explicitly (an unpacked
    // tarball without RPATHs) gets its sub-libraries preloaded by full path, dependencies
    // first: once loaded, glibc matches them by soname when the shim asks.
    if (!env("CUDNN_NODE_CUDNN_PATH").empty())
      for (auto& c : cands)
        if (c.path.find('/') != std::string::npos && c.path.rfind(env("CUDNN_NODE_CUDNN_PATH"), 0) == 0)
          c.preload = {"libcudnn_graph.so.9", "libcudnn_engines_*.so.9", "libcudnn_heuristic.so.9",
                       "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9"};
    result = load_first(
        "cuDNN", cands, &tried, [](void* lib, LoadResult* r) -> std::string {
          CudnnApi api;
          std::string missing;
          resolve(lib, "cudnnGetVersion", &api.cudnnGetVersion, &missing);
          if (!missing.empty()) return "no cudnnGetVersion in this library";
          // The graph library first: the shim's cudnnGetVersion forwards to it.
          std::string incomplete = sub_library_missing(lib, 0, 1);
          if (!incomplete.empty()) return incomplete;
          size_t v = api.cudnnGetVersion();

          // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + ...
          int major = v >= 10000 ? (int)(v / 10000) : (int)(v / 1000);
          r->version = (int)v;
          if (major != 9)
            return "cuDNN major version " + std::to_string(major) + " found, 9 required";
          // Then the rest, before any call that the shim would forward to them.
          const size_t n_sub = sizeof(kCudnnSubLibraries) / sizeof(kCudnnSubLibraries[0]);
          incomplete = sub_library_missing(lib, 1, (int)v >= kTensorIrSince ? n_sub : n_sub - 1);
          if (!incomplete.empty()) return incomplete;
#define CN_RESOLVE(name) resolve(lib, #name, &api.name, &missing);
          CN_CUDNN_FUNCTIONS(CN_RESOLVE)
          if (!missing.empty()) return "cuDNN " + std::to_string(v) + " lacks " + missing;
          g_cudnn = api;
          return "";
        });
    done = true;
  }
  searched->insert(searched->end(), tried.begin(), tried.end());
  return result;
}

LoadResult load_cublas(std::vector<std::string>* searched) {
  static std::mutex mu;
  static bool done = false;
  static LoadResult result;
  static std::vector<std::string> tried;
  std::lock_guard<std::mutex> lock(mu);
  if (!done) {
    // Note [cuBLAS 12 or 13]: the cu13 wheel puts libcublas.so.13 in nvidia/cu13/lib, the cu12
    // wheel libcublas.so.12 in nvidia/cublas/lib; the calls we make have one signature in both.
    auto cands = candidates("CUDNN_NODE_CUBLAS_PATH", {"libcublas.so.13", "libcublas.so.12"},
                            {{"nvidia/cu13/lib", "libcublas.so.13"},
                             {"nvidia/cublas/lib", "libcublas.so.12"}},
                            {"/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu"});
    // libcublas needs libcublasLt of its own version; the wheels find it by RUNPATH
    // $ORIGIN, other layouts may not, so a library found by path gets its sibling preloaded.
    for (auto& c : cands)
      if (c.path.find('/') != std::string::npos)
        c.preload = {"libcublasLt.so." + c.path.substr(c.path.rfind('.') + 1)};
    result = load_first(
        "cuBLAS", cands, &tried,
        [](void* lib, LoadResult* r) -> std::string {
          CublasApi api;
          std::string missing;
          resolve(lib, "cublasGetProperty", &api.cublasGetProperty, &missing);
          if (!missing.empty()) return "no cublasGetProperty in this library";
          int major = 0, minor = 0, patch = 0;
          api.cublasGetProperty(MAJOR_VERSION, &major);
          api.cublasGetProperty(MINOR_VERSION, &minor);
          api.cublasGetProperty(PATCH_LEVEL, &patch);
          r->version = major * 10000 + minor * 100 + patch;
          if (major < 12)
            return "cuBLAS major version " + std::to_string(major) + " found, 12 or 13 required";
          CN_CUBLAS_FUNCTIONS(CN_RESOLVE)
          resolve(lib, "cublasGemmStridedBatchedEx", &api.cublasGemmStridedBatchedEx, &missing);
#undef CN_RESOLVE
          if (!missing.empty()) return "cuBLAS " + std::to_string(r->version) + " lacks " + missing;
          g_cublas = api;
          return "";
        });
    done = true;
  }
  searched->insert(searched->end(), tried.begin(), tried.end());
  return result;
}

const CudnnApi& cudnn() { return g_cudnn; }
const CublasApi& cublas() { return g_cublas; }

}  // namespace cuda
}  // namespace cn
