// Plan exports: createPlan(spec) builds a Plan from a traced schedule; runPlan(plan, feeds)
// runs it on the calling thread, runPlanAsync on a worker thread (the event loop stays
// free); disposePlan(plan) drops its buffers.
#include <memory>

#include "bindings.h"
#include "guard.h"
#include "js_convert.h"
#include "../runtime/plan.h"

namespace cn {
namespace {

struct PlanHolder {
  std::shared_ptr<Plan> plan;
};

std::shared_ptr<Plan> unwrap_plan(Napi::Env env, Napi::Value v) {
  if (!v.IsExternal()) {
    Napi::TypeError::New(env, "plan: expected a plan handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  PlanHolder* h = v.As<Napi::External<PlanHolder>>().Data();
  if (!h->plan) throw_status(env, invalid_argument("plan: plan is disposed"));
  return h->plan;
}

std::vector<int> int_list(Napi::Value v) {
  std::vector<int> r;
  if (!v.IsArray()) return r;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  return r;
}

Napi::Value create_plan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object spec = info[0].As<Napi::Object>();
  auto plan = std::make_shared<Plan>();
  Status why;
  plan->backend = backend_by_name(spec.Get("backend").As<Napi::String>().Utf8Value(), &why);
  if (!plan->backend) return throw_status(env, why);
  plan->num_slots = spec.Get("numSlots").As<Napi::Number>().Int32Value();
  Napi::Array consts = spec.Get("constants").As<Napi::Array>();
  for (uint32_t i = 0; i < consts.Length(); ++i) {
    Napi::Array pair = consts.Get(i).As<Napi::Array>();
    BufferPtr b = unwrap_handle(env, pair.Get(1u), "plan constant");
    if (!b) return env.Undefined();
    plan->constants.push_back({pair.Get(0u).As<Napi::Number>().Int32Value(), b});
  }
  plan->feeds = int_list(spec.Get("feeds"));
  plan->fetches = int_list(spec.Get("fetches"));
  Napi::Array steps = spec.Get("steps").As<Napi::Array>();
  plan->steps.resize(steps.Length());
  for (uint32_t i = 0; i < steps.Length(); ++i) {
    Napi::Array st = steps.Get(i).As<Napi::Array>();
    PlanStep& s = plan->steps[i];
    s.kernel = st.Get(0u).As<Napi::Number>().Int32Value();
    s.in = int_list(st.Get(1u));
    s.out = int_list(st.Get(2u));
    Status ps = parse_attrs(st.Get(3u), &s.attrs);
    if (!ps.is_ok()) return throw_status(env, ps);
  }
  Status vs = plan->validate();
  if (!vs.is_ok()) return throw_status(env, vs);
  auto* h = new PlanHolder{plan};
  return Napi::External<PlanHolder>::New(env, h, [](Napi::Env, PlanHolder* p) { delete p; });
}

bool collect_feeds(Napi::Env env, Napi::Value v, std::vector<BufferPtr>* feeds) {
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    BufferPtr b = unwrap_handle(env, a.Get(i), "plan feed");
    if (!b) return false;
    feeds->push_back(std::move(b));
  }
  return true;
}

Napi::Value fetched_to_js(Napi::Env env, std::vector<BufferPtr>& out) {
  Napi::Array a = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i) a.Set((uint32_t)i, make_handle(env, std::move(out[i])));
  return a;
}

Napi::Value run_plan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto plan = unwrap_plan(env, info[0]);
  if (!plan) return env.Undefined();
  std::vector<BufferPtr> feeds, out;
  if (!collect_feeds(env, info[1], &feeds)) return env.Undefined();
  Status s = plan->run(feeds, &out);
  if (!s.is_ok()) return throw_status(env, s);
  return fetched_to_js(env, out);
}

class PlanWorker : public GuardedWorker {
 public:
  PlanWorker(Napi::Env env, std::shared_ptr<Plan> plan, std::vector<BufferPtr> feeds)
      : GuardedWorker(env, "runPlanAsync"), plan_(std::move(plan)), feeds_(std::move(feeds)) {}

 protected:
  Status run() override {
    Status s = plan_->run(feeds_, &out_);
    if (s.is_ok()) s = plan_->backend->synchronize();
    feeds_.clear();
    return s;
  }
  Napi::Value resolve(Napi::Env env) override { return fetched_to_js(env, out_); }

 private:
  std::shared_ptr<Plan> plan_;
  std::vector<BufferPtr> feeds_, out_;
};

Napi::Value run_plan_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto plan = unwrap_plan(env, info[0]);
  if (!plan) return env.Undefined();
  std::vector<BufferPtr> feeds;
  if (!collect_feeds(env, info[1], &feeds)) return env.Undefined();
  auto* w = new PlanWorker(env, plan, std::move(feeds));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value dispose_plan(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) {
    PlanHolder* h = info[0].As<Napi::External<PlanHolder>>().Data();
    if (h->plan) {
      h->plan->release_intermediates();
      h->plan->constants.clear();
      h->plan.reset();
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void init_plan_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "createPlan", create_plan);
  export_function(env, exports, "runPlan", run_plan);
  export_function(env, exports, "runPlanAsync", run_plan_async);
  export_function(env, exports, "disposePlan", dispose_plan);
}

}  // namespace cn
