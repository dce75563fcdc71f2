// Convolutions on cuDNN's graph (backend) API: see conv_graph.h and Note [graph API engines].
// Built on the raw backend descriptors (cudnnBackend*), which the loader resolves like every
// other cuDNN call, so no cudnn-frontend header is needed.
#include "conv_graph.h"

#include <algorithm>
#include <vector>

#include "cuda_backend.h"

namespace cn {
namespace cuda {
namespace {

// Tensor ids in the operation graph and the variant pack.
constexpr int64_t kUidX = 1, kUidW = 2, kUidY = 3;

// Owner of one backend descriptor.
class Desc {
 public:
  Desc() = default;
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  Desc(Desc&& o) noexcept : d_(o.d_) { o.d_ = nullptr; }
  Desc& operator=(Desc&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = o.d_;
      o.d_ = nullptr;
    }
    return *this;
  }
  ~Desc() { reset(); }
  void reset() {
    if (d_) cudnn().cudnnBackendDestroyDescriptor(d_);
    d_ = nullptr;
  }
  Status create(cudnnBackendDescriptorType_t type, const char* what) {
    CN_CUDNN_CHECK(cudnn().cudnnBackendCreateDescriptor(type, &d_), what);
    return Status::ok();
  }
  cudnnBackendDescriptor_t get() const { return d_; }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

#define CN_SET(desc, attr, type, count, ptr, ctx) \
  CN_CUDNN_CHECK(cudnn().cudnnBackendSetAttribute((desc).get(), attr, type, count, ptr), ctx)

std::string geometry_str(ConvDirection dir, const ConvGeometry& g) {
  const char* names[] = {"forward", "backward-data", "backward-filter"};
  const char* type = g.data_type == CUDNN_DATA_HALF       ? " float16"
                     : g.data_type == CUDNN_DATA_BFLOAT16 ? " bfloat16"
                                                          : "";
  return std::string("graph API ") + names[(int)dir] + type + " x=[" + std::to_string(g.n) + "," +
         std::to_string(g.h) + "," + std::to_string(g.w) + "," + std::to_string(g.c) + "] w=KRSC[" +
         std::to_string(g.k) + "," + std::to_string(g.r) + "," + std::to_string(g.s) + "," +
         std::to_string(g.c) + "] y=[" + std::to_string(g.n) + "," + std::to_string(g.out_h) + "," + std::to_string(g.out_w) + "," + std::to_string(g.k) +
         "] pads=[" + std::to_string(g.pad_h) + "," + std::to_string(g.bottom()) + "," +
         std::to_string(g.pad_w) + "," + std::to_string(g.right()) + "] strides=[" +
         std::to_string(g.stride_h) + "," + std::to_string(g.stride_w) + "] dilations=[" +
         std::to_string(g.dil_h) + "," + std::to_string(g.dil_w) + "]";
}

// A 4-D tensor of type dt with logical dims [a, b, c, d] = [n, channels, rows, cols] stored
// channels-last (NHWC, or KRSC for the filter).
Status make_tensor(Desc* t, int64_t uid, int64_t n, int64_t ch, int64_t rows, int64_t cols,
                   cudnnDataType_t dt, int64_t alignment, const std::string& ctx) {
  CN_RETURN_IF_ERROR(t->create(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "tensor"));
  int64_t dims[4] = {n, ch, rows, cols};
  int64_t strides[4] = {rows * cols * ch, 1, cols * ch, ch};
  CN_SET(*t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, ctx);
  CN_SET(*t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims, ctx);
  CN_SET(*t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides, ctx);
  CN_SET(*t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, ctx);
  CN_SET(*t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(t->get()), ctx);
  return Status::ok();
}

Status make_conv_desc(Desc* c, const ConvGeometry& g, const std::string& ctx) {
  CN_RETURN_IF_ERROR(c->create(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, "convolution"));
  cudnnDataType_t comp = CUDNN_DATA_FLOAT;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int64_t dims = 2;
  int64_t dil[2] = {g.dil_h, g.dil_w}, str[2] = {g.stride_h, g.stride_w}, pad[2] = {g.pad_h, g.pad_w},
          post[2] = {g.bottom(), g.right()};
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &dims, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad, ctx);
  CN_SET(*c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, post, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(c->get()), ctx);
  return Status::ok();
}

// Each direction's node type and the attributes its operands, descriptor and scalars go in
// (x, w and y stand for dx, dw and dy where the direction writes or reads a gradient).
struct NodeAttrs {
  cudnnBackendDescriptorType_t type;
  cudnnBackendAttributeName_t x, w, y, conv, alpha, beta;
  const char* what;
};
const NodeAttrs kNodes[3] = {
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X,
     CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y,
     CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, "forward node"},
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, "backward-data node"},
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA, "backward-filter node"},
};

// The convolution node of direction dir over tensors x, w, y: y = conv(x, w) (alpha 1,
// beta 0: the output is overwritten).
Status make_operation(Desc* op, ConvDirection dir, const Desc& x, const Desc& w, const Desc& y,
                      const Desc& conv, const std::string& ctx) {
  const NodeAttrs& a = kNodes[(int)dir];
  const float alpha = 1.f, beta = 0.f;
  cudnnBackendDescriptor_t xd = x.get(), wd = w.get(), yd = y.get(), cd = conv.get();
  const cudnnBackendAttributeType_t D = CUDNN_TYPE_BACKEND_DESCRIPTOR;
  CN_RETURN_IF_ERROR(op->create(a.type, a.what));
  CN_SET(*op, a.x, D, 1, &xd, ctx);
  CN_SET(*op, a.w, D, 1, &wd, ctx);
  CN_SET(*op, a.y, D, 1, &yd, ctx);
  CN_SET(*op, a.conv, D, 1, &cd, ctx);
  CN_SET(*op, a.alpha, CUDNN_TYPE_FLOAT, 1, &alpha, ctx);
  CN_SET(*op, a.beta, CUDNN_TYPE_FLOAT, 1, &beta, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(op->get()), ctx);
  return Status::ok();
}

// The engine configs heuristics mode `mode` proposes for the graph, best first.
Status heuristic_configs(const Desc& graph, cudnnBackendHeurMode_t mode, std::vector<Desc>* out,
                         const std::string& ctx) {
  Desc heur;
  CN_RETURN_IF_ERROR(heur.create(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "heuristics"));
  cudnnBackendDescriptor_t gd = graph.get();
  CN_SET(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &gd, ctx);
  CN_SET(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(heur.get()), ctx);
  int64_t count = 0;
  CN_CUDNN_CHECK(cudnn().cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
                 ctx);
  if (count <= 0) return Status::ok();
  std::vector<Desc> cfgs(count);
  std::vector<cudnnBackendDescriptor_t> raw(count);
  for (int64_t i = 0; i < count; ++i) {
    CN_RETURN_IF_ERROR(cfgs[i].create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "engine config"));
    raw[i] = cfgs[i].get();
  }
  int64_t got = 0;
  CN_CUDNN_CHECK(cudnn().cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got, raw.data()),
                 ctx);
  for (int64_t i = 0; i < std::min(got, count); ++i) out->push_back(std::move(cfgs[i]));
  return Status::ok();
}

// Whether config's engine may run here (Note [graph API engines]); *index is cuDNN's global
// engine index, *nvrtc whether it compiles its kernel at run time.
Status engine_allowed(const Desc& cfg, bool tf32, bool* ok, bool* nvrtc, int64_t* index,
                      const std::string& ctx) {
  Desc engine;
  CN_RETURN_IF_ERROR(engine.create(CUDNN_BACKEND_ENGINE_DESCRIPTOR, "engine"));
  int64_t n = 0;
  cudnnBackendDescriptor_t ed = engine.get();
  CN_CUDNN_CHECK(cudnn().cudnnBackendGetAttribute(cfg.get(), CUDNN_ATTR_ENGINECFG_ENGINE,
                                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &ed),
                 ctx);
  *index = -1;
  cudnn().cudnnBackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, index);
  cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
  int64_t count = 0;
  CN_CUDNN_CHECK(cudnn().cudnnBackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_NUMERICAL_NOTE,
                                                  CUDNN_TYPE_NUMERICAL_NOTE,
                                                  CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &count, notes),
                 ctx);
  *ok = true;
  for (int64_t i = 0; i < std::min<int64_t>(count, CUDNN_NUMERICAL_NOTE_TYPE_COUNT); ++i) {
    if (notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS ||
        notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
        (!tf32 && notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE))
      *ok = false;
  }
  cudnnBackendBehaviorNote_t behavior[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
  *nvrtc = false;
  if (cudnn().cudnnBackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE,
                                       CUDNN_TYPE_BEHAVIOR_NOTE, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT,
                                       &count, behavior) == CUDNN_STATUS_SUCCESS)
    for (int64_t i = 0; i < std::min<int64_t>(count, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT); ++i)
      *nvrtc = *nvrtc || behavior[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION;
  return Status::ok();
}

}  // namespace

class GraphConv {
 public:
  ConvDirection dir = ConvDirection::kForward;
  Desc x, w, y, conv, op, graph, cfg, plan;
  int64_t workspace = 0;
  int64_t engine = -1;
};

void GraphConvDeleter::operator()(GraphConv* g) const { delete g; }

int64_t graph_alignment(const ConvBuffers& bufs) {
  uintptr_t bits = 0;
  for (const void* p : {(const void*)bufs.x, (const void*)bufs.w, (const void*)bufs.y, (const void*)bufs.out})
    bits |= reinterpret_cast<uintptr_t>(p);
  return (bits & 15) == 0 ? 16 : (bits & 7) == 0 ? 8 : (bits & 3) == 0 ? 4 : 2;  // 2: 16-bit data only
}

size_t graph_conv_workspace(const GraphConv& plan) { return (size_t)plan.workspace; }

std::string graph_conv_engine(const GraphConv& plan) { return "engine " + std::to_string(plan.engine); }

namespace {

// Executes plan once on b's stream.
Status execute(CudaBackend* b, const GraphConv& plan, const ConvBuffers& bufs, void* workspace) {
  const ConvDirection dir = plan.dir;
  // The written operand takes the place of its direction's tensor.
  const void* xp = dir == ConvDirection::kBackwardData ? bufs.out : bufs.x;
  const void* wp = dir == ConvDirection::kBackwardFilter ? bufs.out : bufs.w;
  const void* yp = dir == ConvDirection::kForward ? bufs.out : bufs.y;
  void* ptrs[3] = {const_cast<void*>(xp), const_cast<void*>(wp), const_cast<void*>(yp)};
  int64_t uids[3] = {kUidX, kUidW, kUidY};
  Desc pack;
  CN_RETURN_IF_ERROR(pack.create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, "variant pack"));
  const std::string ctx = "graph API variant pack";
  CN_SET(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids, ctx);
  CN_SET(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptrs, ctx);
  CN_SET(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(pack.get()), ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendExecute(b->cudnn_handle(), plan.plan.get(), pack.get()),
                 graph_conv_engine(plan));
  return Status::ok();
}

// Milliseconds per run of plan, or a negative value if it failed: one untimed run, one timed
// run to size a batch, then the best of two batches of n back-to-back runs (n makes a batch
// about 1 ms, at most 16). A single run between two events also times the host's launch of
// it (the stream sits idle until cudnnBackendExecute has queued its kernels), which for
// kernels of tens of microseconds can outweigh the differences between engines; in a batch
// the launches overlap the previous runs, as they do in a training step.
double time_plan(CudaBackend* b, const GraphConv& plan, const ConvBuffers& bufs, void* ws) {
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  if (cudaEventCreate(&e0) != cudaSuccess) return -1;
  if (cudaEventCreate(&e1) != cudaSuccess) {
    cudaEventDestroy(e0);
    return -1;
  }
  // Milliseconds per run of n runs between the two events, or -1.
  auto batch = [&](int n) -> double {
    if (cudaEventRecord(e0, b->stream()) != cudaSuccess) return -1;
    for (int i = 0; i < n; ++i)
      if (!execute(b, plan, bufs, ws).is_ok()) return -1;
    float f = 0;
    if (cudaEventRecord(e1, b->stream()) != cudaSuccess || cudaEventSynchronize(e1) != cudaSuccess ||
        cudaEventElapsedTime(&f, e0, e1) != cudaSuccess)
      return -1;
    return (double)f / n;
  };
  double ms = -1;
  if (execute(b, plan, bufs, ws).is_ok()) {
    const double one = batch(1);
    if (one >= 0) {
      const int n = one > 0 ? (int)std::min(16.0, std::max(1.0, 1.0 / one)) : 16;
      const double a = batch(n), c = a >= 0 ? batch(n) : -1;
      ms = a < 0 || c < 0 ? -1 : std::min(a, c);
    }
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaGetLastError();  // clears a failed candidate's non-sticky error; sticky ones: check_context
  return ms;
}

// The graph's tensors, convolution descriptor and node: everything before the operation
// graph, which needs a cuDNN handle.
Status describe(GraphConv* out, ConvDirection dir, const ConvGeometry& g, int64_t alignment,
                const std::string& ctx) {
  out->dir = dir;
  CN_RETURN_IF_ERROR(make_tensor(&out->x, kUidX, g.n, g.c, g.h, g.w, g.data_type, alignment, ctx));
  CN_RETURN_IF_ERROR(make_tensor(&out->w, kUidW, g.k, g.c, g.r, g.s, g.data_type, alignment, ctx));
  CN_RETURN_IF_ERROR(make_tensor(&out->y, kUidY, g.n, g.k, g.out_h, g.out_w, g.data_type, alignment, ctx));
  CN_RETURN_IF_ERROR(make_conv_desc(&out->conv, g, ctx));
  return make_operation(&out->op, dir, out->x, out->w, out->y, out->conv, ctx);
}

}  // namespace

Status graph_conv_check_description(ConvDirection dir, const ConvGeometry& g, int64_t alignment) {
  GraphConv plan;
  return describe(&plan, dir, g, alignment, geometry_str(dir, g));
}

Status graph_conv_build(CudaBackend* b, ConvDirection dir, const ConvGeometry& g, bool tf32,
                        bool autotune, int64_t alignment, const ConvBuffers& bufs,
                        GraphConvPtr* out) {
  const std::string ctx = geometry_str(dir, g);
  GraphConvPtr base(new GraphConv());
  CN_RETURN_IF_ERROR(describe(base.get(), dir, g, alignment, ctx));
  CN_RETURN_IF_ERROR(base->graph.create(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph"));
  cudnnHandle_t h = b->cudnn_handle();
  cudnnBackendDescriptor_t opd = base->op.get();
  CN_SET(base->graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, ctx);
  CN_SET(base->graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &opd, ctx);
  CN_CUDNN_CHECK(cudnn().cudnnBackendFinalize(base->graph.get()), ctx);

  // Either list may fail on its own (a mode that does not cover the graph); only both count.
  std::vector<Desc> cfgs;
  Status heur_a = heuristic_configs(base->graph, CUDNN_HEUR_MODE_A, &cfgs, ctx);
  Status heur_fallback = heuristic_configs(base->graph, CUDNN_HEUR_MODE_FALLBACK, &cfgs, ctx);
  if (cfgs.empty())
    return backend_error("cudnn: no graph API engine proposed for " + ctx + ": heuristics mode A: " +
                         (heur_a.is_ok() ? "none" : heur_a.message()) + "; fallback: " +
                         (heur_fallback.is_ok() ? "none" : heur_fallback.message()));

  // Finalized candidates in heuristics order; without autotune the first usable one wins.
  struct Candidate {
    Desc cfg, plan;
    int64_t workspace = 0, engine = -1;
  };
  std::vector<Candidate> usable;
  size_t tried = 0, short_of_memory = 0;
  // Pass 0 takes precompiled engines; runtime-compiled ones (NVRTC at finalize, up to
  // seconds each) only when none of those is usable.
  for (int pass = 0; pass < 2 && usable.empty(); ++pass) {
    for (Desc& cfg : cfgs) {
      if (!cfg.get()) continue;
      bool ok = false, nvrtc = false;
      int64_t engine = -1;
      if (!engine_allowed(cfg, tf32, &ok, &nvrtc, &engine, ctx).is_ok() || !ok || nvrtc != (pass == 1)) continue;
      ++tried;
      Candidate c;
      if (!c.plan.create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "plan").is_ok()) continue;
      cudnnBackendDescriptor_t cd = cfg.get();
      if (cudnn().cudnnBackendSetAttribute(c.plan.get(), CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h) != CUDNN_STATUS_SUCCESS ||
          cudnn().cudnnBackendSetAttribute(c.plan.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cd) != CUDNN_STATUS_SUCCESS ||
          cudnn().cudnnBackendFinalize(c.plan.get()) != CUDNN_STATUS_SUCCESS)
        continue;  // this engine does not support the graph after all
      int64_t n = 0;
      if (cudnn().cudnnBackendGetAttribute(c.plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &c.workspace) != CUDNN_STATUS_SUCCESS)
        continue;
      if (c.workspace < 0 || (size_t)c.workspace > kConvWorkspaceCap) continue;  // Note [convolution workspace cap]
      Scratch probe;
      if (!b->scratch(&probe, (size_t)c.workspace).is_ok()) {  // too big for the memory left now
        ++short_of_memory;
        continue;
      }
      c.engine = engine;
      c.cfg = std::move(cfg);
      usable.push_back(std::move(c));
      if (!autotune || (int)usable.size() >= kGraphAutotuneCandidates) break;
    }
  }
  // Note [transient graph failures]: where memory was short for a moment, the caller may try
  // again later; only a graph no engine supports is declined for good.
  if (usable.empty() && short_of_memory > 0)
    return out_of_memory("cudnn: no graph API engine's workspace fits in the memory left for " + ctx + " (" +
                         std::to_string(short_of_memory) + " candidates too large now)");
  if (usable.empty())
    return backend_error("cudnn: no graph API engine supports " + ctx + (tf32 ? "" : " in strict fp32") +
                         " (" + std::to_string(cfgs.size()) + " proposed, " + std::to_string(tried) +
                         " allowed by their numerical notes)");
  size_t best = 0;
  if (autotune && usable.size() > 1) {
    double best_ms = -1;
    for (size_t i = 0; i < usable.size(); ++i) {
      Scratch ws;
      if (!b->scratch(&ws, (size_t)usable[i].workspace).is_ok()) continue;
      GraphConv trial;
      trial.dir = dir;
      trial.plan = std::move(usable[i].plan);
      trial.engine = usable[i].engine;
      double ms = time_plan(b, trial, bufs, ws.get());
      usable[i].plan = std::move(trial.plan);
      if (ms >= 0 && (best_ms < 0 || ms < best_ms)) {
        best_ms = ms;
        best = i;
      }
      // Note [autotune faults]: a candidate that faults (an illegal address) leaves a sticky
      // error that cudaGetLastError does not clear; every later call would fail with an
      // error that names some other kernel. Stop here, with the engine named.
      CN_RETURN_IF_ERROR(b->check_context("timing graph API engine " + std::to_string(usable[i].engine) + " for " + ctx));
    }
  }
  base->cfg = std::move(usable[best].cfg);
  base->plan = std::move(usable[best].plan);
  base->workspace = usable[best].workspace;
  base->engine = usable[best].engine;
  *out = std::move(base);
  return Status::ok();
}

Status graph_conv_run(CudaBackend* b, const GraphConv& plan, const ConvBuffers& bufs,
                      void* workspace) {
  return execute(b, plan, bufs, workspace);
}

}  // namespace cuda
}  // namespace cn
