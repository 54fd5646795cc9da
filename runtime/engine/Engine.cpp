//===- Engine.cpp - requests in, one step at a time, events out -----------===//
#include "runtime/engine/Engine.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <cmath>

namespace llmc::engine {

struct Engine::RequestState {
  RequestSpec spec;
  Sink sink;
  int64_t unfinished = 0;
  int64_t completionTokens = 0;
  bool forked = false;
  std::vector<std::optional<rt::Logprobs>> promptLogprobs;
  bool promptLogprobsSent = false;
  Clock::time_point arrival;
  bool firstTokenSeen = false;
};

struct Engine::SeqState {
  SeqState(RequestState &req, int64_t index, const Limits &limits,
           const rt::Tokenizer *tokenizer)
      : req(req), index(index),
        sampler(req.spec.sampling, static_cast<uint64_t>(index)),
        out(req.spec, limits, tokenizer) {
    history.addPrompt(req.spec.prompt);
  }
  RequestState &req;
  int64_t index;
  sched::SeqId id = 0;
  rt::Sampler sampler;
  rt::TokenHistory history;
  OutputProcessor out;
  Clock::time_point lastToken;
};

namespace {

/// Deltas that end sequences [from, to) of a request with `reason`.
void endSequences(RequestEvent &event, int64_t from, int64_t to,
                  FinishReason reason) {
  for (int64_t i = from; i < to; ++i) {
    SeqDelta d;
    d.index = i;
    d.finish = reason;
    event.deltas.push_back(std::move(d));
  }
}

} // namespace

Engine::Engine(const schema::Manifest &manifest, rt::Device &device,
               const rt::Tokenizer *tokenizer, EngineConfig config)
    : manifest_(manifest), device_(device), tokenizer_(tokenizer), config_([&] {
        config.scheduler.maxBatchTokens =
            std::min(config.scheduler.maxBatchTokens, manifest.maxBatchTokens);
        return config;
      }()),
      kv_(static_cast<int32_t>(device.numKvBlocks()),
          static_cast<int32_t>(manifest.kvBlockSize()), config.prefixCaching),
      scheduler_(config_.scheduler, kv_), runner_(device, kv_) {
  limits_.eosTokenIds = manifest.eosTokenIds();
  limits_.maxSeqLen = manifest.maxSeqLen;
}

Engine::~Engine() = default;

void Engine::validate(const RequestSpec &spec) const {
  int64_t promptLen = static_cast<int64_t>(spec.prompt.size());
  if (promptLen == 0)
    rt::fail("the prompt is empty");
  for (int32_t id : spec.prompt)
    if (id < 0 || id >= manifest_.vocabSize)
      rt::fail("prompt token id {} is outside the vocabulary (0..{})", id,
               manifest_.vocabSize - 1);
  if (spec.stop.maxTokens < 0)
    rt::fail("max_tokens must be >= 0, got {}", spec.stop.maxTokens);
  if (spec.n < 1 || spec.n > RequestSpec::kMaxN)
    rt::fail("n must be in [1, {}], got {}", RequestSpec::kMaxN, spec.n);
  rt::validate(spec.sampling);
  if (spec.promptLogprobs < -1 ||
      spec.promptLogprobs > rt::SamplingParams::kMaxLogprobs)
    rt::fail("prompt logprobs must be in [0, {}], got {}",
             rt::SamplingParams::kMaxLogprobs, spec.promptLogprobs);
  for (const std::string &s : spec.stop.strings)
    if (s.empty())
      rt::fail("stop: an empty stop string");
  if (!spec.stop.strings.empty() && (!tokenizer_ || !spec.detokenize))
    rt::fail("stop strings need text, and the artifact has no tokenizer");
  for (int32_t id : spec.stop.stopTokenIds)
    if (id < 0 || id >= manifest_.vocabSize)
      rt::fail("stop_token_ids: {} is outside the vocabulary (0..{})", id,
               manifest_.vocabSize - 1);
  int64_t ctx = manifest_.maxSeqLen;
  if (promptLen > ctx ||
      (spec.stop.maxTokens > 0 && promptLen + spec.stop.maxTokens > ctx))
    rt::fail("the prompt has {} tokens and max_tokens is {}: more than the "
             "model's context of {} tokens (max_seq_len)",
             promptLen, spec.stop.maxTokens, ctx);
  // Each sequence must fit the pool alone, or it could never finish.
  int64_t bs = manifest_.kvBlockSize();
  int64_t need = promptLen + std::max<int64_t>(spec.stop.maxTokens - 1, 0);
  int64_t blocks = (need + bs - 1) / bs;
  if (blocks > kv_.numBlocks())
    rt::fail("the request needs KV for up to {} tokens ({} prompt + {} "
             "max_tokens) but the KV pool holds {} tokens ({} blocks of {})",
             need, promptLen, spec.stop.maxTokens,
             static_cast<int64_t>(kv_.numBlocks()) * bs, kv_.numBlocks(), bs);
}

Engine::SeqState &Engine::newSequence(RequestState &req, int64_t index,
                                      sched::SeqId id) {
  auto st = std::make_unique<SeqState>(req, index, limits_, tokenizer_);
  st->id = id;
  SeqState &ref = *st;
  seqs_.emplace(id, std::move(st));
  return ref;
}

void Engine::add(RequestSpec spec, Sink sink) {
  validate(spec);
  if (requests_.count(spec.id))
    rt::fail("a request with id '{}' is already running", spec.id);
  auto owned = std::make_unique<RequestState>();
  RequestState &req = *owned;
  req.spec = std::move(spec);
  req.sink = std::move(sink);
  req.arrival = Clock::now();
  req.unfinished = req.spec.n;
  int64_t promptLen = static_cast<int64_t>(req.spec.prompt.size());
  if (req.spec.promptLogprobs >= 0)
    req.promptLogprobs.assign(promptLen, std::nullopt);
  metrics_.promptTokens += promptLen;

  if (req.spec.stop.maxTokens == 0 && req.spec.promptLogprobs < 0) {
    // Nothing to compute.
    RequestEvent event;
    endSequences(event, 0, req.spec.n, FinishReason::Length);
    req.unfinished = 0;
    event.finished = true;
    event.promptTokens = promptLen;
    ++metrics_.requestsFinished;
    if (req.sink)
      req.sink(event);
    return;
  }

  auto seq = std::make_unique<sched::Sequence>();
  seq->id = nextSeqId_++;
  seq->tokens = req.spec.prompt;
  seq->promptLen = promptLen;
  seq->arrival = nextArrival_++;
  seq->promptLogits = req.spec.promptLogprobs >= 0;
  newSequence(req, 0, seq->id);
  scheduler_.add(std::move(seq));
  requests_.emplace(req.spec.id, std::move(owned));
}

void Engine::finishSequence(SeqState &st, sched::SeqStatus status) {
  scheduler_.finish(st.id, status);
  --st.req.unfinished;
  seqs_.erase(st.id); // destroys st
}

void Engine::deliver(RequestState &req, RequestEvent &event) {
  event.promptTokens = static_cast<int64_t>(req.spec.prompt.size());
  event.completionTokens = req.completionTokens;
  event.finished = req.unfinished == 0;
  if (req.sink) {
    try {
      req.sink(event);
    } catch (...) {
      // A sink that cannot take more (a client gone) ends its request.
      if (!event.finished) {
        std::string id = req.spec.id;
        req.sink = nullptr;
        abort(id);
        return;
      }
    }
  }
  if (event.finished) {
    metrics_.requestLatency.observe(
        std::chrono::duration<double>(Clock::now() - req.arrival).count());
    ++metrics_.requestsFinished;
    std::string id = req.spec.id; // erase destroys req
    requests_.erase(id);
  }
}

void Engine::abort(const std::string &id) {
  auto it = requests_.find(id);
  if (it == requests_.end())
    return;
  RequestState &req = *it->second;
  RequestEvent event;
  std::vector<SeqState *> live;
  for (auto &[sid, st] : seqs_)
    if (&st->req == &req)
      live.push_back(st.get());
  std::sort(live.begin(), live.end(),
            [](SeqState *a, SeqState *b) { return a->index < b->index; });
  // Sequences not forked yet have no state: they end here too.
  int64_t notForked = req.spec.n > 1 && !req.forked ? req.spec.n - 1 : 0;
  for (SeqState *st : live) {
    SeqDelta d;
    d.index = st->index;
    d.finish = FinishReason::Abort;
    event.deltas.push_back(std::move(d));
    finishSequence(*st, sched::SeqStatus::Aborted);
  }
  endSequences(event, 1, 1 + notForked, FinishReason::Abort);
  req.unfinished = 0;
  event.finished = true;
  event.promptTokens = static_cast<int64_t>(req.spec.prompt.size());
  event.completionTokens = req.completionTokens;
  ++metrics_.requestsAborted;
  Sink sink = std::move(req.sink);
  requests_.erase(it);
  if (sink) {
    try {
      sink(event);
    } catch (...) {
    }
  }
}

void Engine::failAll(const std::string &error) {
  std::vector<std::string> ids;
  for (const auto &[id, req] : requests_)
    ids.push_back(id);
  for (const std::string &id : ids) {
    RequestState &req = *requests_.at(id);
    Sink sink = std::move(req.sink);
    std::vector<sched::SeqId> live;
    for (auto &[sid, st] : seqs_)
      if (&st->req == &req)
        live.push_back(sid);
    for (sched::SeqId sid : live)
      finishSequence(*seqs_.at(sid), sched::SeqStatus::Aborted);
    RequestEvent event;
    event.finished = true;
    event.error = error;
    event.promptTokens = static_cast<int64_t>(req.spec.prompt.size());
    event.completionTokens = req.completionTokens;
    ++metrics_.requestsFailed;
    requests_.erase(id);
    if (sink) {
      try {
        sink(event);
      } catch (...) {
      }
    }
  }
}

void Engine::sampleAndAppend(sched::Sequence &seq, const float *row,
                             RequestEvent &event) {
  SeqState &st = *seqs_.at(seq.id);
  RequestState &req = st.req;
  auto now = Clock::now();
  SeqDelta *delta = nullptr;
  for (SeqDelta &d : event.deltas)
    if (d.index == st.index)
      delta = &d;
  if (!delta) {
    event.deltas.emplace_back();
    delta = &event.deltas.back();
    delta->index = st.index;
  }
  if (req.spec.stop.maxTokens == 0) {
    // Prompt logprobs only (echo): nothing to generate, for any of the n.
    delta->finish = FinishReason::Length;
    endSequences(event, 1, req.spec.n, FinishReason::Length);
    req.unfinished = 1;
    finishSequence(st, sched::SeqStatus::Finished);
    return;
  }
  rt::Sample s = st.sampler.sample(row, manifest_.vocabSize, st.history);
  if (req.spec.returnLogits)
    delta->logits.insert(delta->logits.end(), row, row + manifest_.vocabSize);
  seq.tokens.push_back(s.token);
  st.history.addOutput(s.token);
  ++req.completionTokens;
  ++metrics_.generationTokens;
  if (!req.firstTokenSeen) {
    req.firstTokenSeen = true;
    metrics_.timeToFirstToken.observe(
        std::chrono::duration<double>(now - req.arrival).count());
  } else if (seq.numOutput() > 1) {
    metrics_.interTokenLatency.observe(
        std::chrono::duration<double>(now - st.lastToken).count());
  }
  st.lastToken = now;
  st.out.add(s.token, std::move(s.logprobs), seq.numTokens(), *delta);
  if (st.out.finished())
    finishSequence(st, sched::SeqStatus::Finished);
}

void Engine::forkChildren(
    sched::Sequence &parent, const float *row,
    std::unordered_map<RequestState *, RequestEvent> &events) {
  SeqState &pst = *seqs_.at(parent.id);
  RequestState &req = pst.req;
  req.forked = true;
  for (int64_t i = 1; i < req.spec.n; ++i) {
    auto child = std::make_unique<sched::Sequence>();
    child->id = nextSeqId_++;
    child->tokens = parent.tokens;
    child->promptLen = parent.promptLen;
    child->numComputed = parent.numComputed;
    kv_.fork(parent.id, child->id);
    sched::Sequence *c = child.get();
    newSequence(req, i, c->id);
    scheduler_.addForked(std::move(child), parent.id);
    sampleAndAppend(*c, row, events[&req]);
  }
}

bool Engine::step() {
  sched::SchedulerOutput out = scheduler_.schedule();
  if (out.empty())
    return false;
  auto start = Clock::now();
  runner_.run(out, rows_, logits_);
  // Before sampling: a sequence that finishes below is freed.
  bool decodeOnly = std::all_of(
      out.seqs.begin(), out.seqs.end(), [](const sched::ScheduledSeq &s) {
        return s.count == 1 && s.sample && s.start >= s.seq->promptLen;
      });
  scheduler_.update(out);
  ++steps_;
  int64_t vocab = manifest_.vocabSize;
  // A token is never drawn from NaN or infinite logits (weights or
  // activations that overflowed): the step fails instead, naming them.
  for (size_t r = 0; r < rows_.size(); ++r) {
    const float *row = logits_.data() + r * vocab;
    const float *bad = std::find_if(row, row + vocab,
                                    [](float x) { return !std::isfinite(x); });
    if (bad != row + vocab) {
      const sched::Sequence &seq = *out.seqs[rows_[r].scheduled].seq;
      rt::fail("step {}: the logits of request '{}' at position {} hold {} "
               "(token {}); the model's weights or activations overflowed, "
               "no token is drawn from them",
               steps_, seqs_.at(seq.id)->req.spec.id, rows_[r].position, *bad,
               bad - row);
    }
  }

  std::unordered_map<RequestState *, RequestEvent> events;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const LogitsRow &row = rows_[r];
    sched::Sequence &seq = *out.seqs[row.scheduled].seq;
    const float *logits = logits_.data() + r * vocab;
    SeqState &st = *seqs_.at(seq.id);
    RequestState &req = st.req;
    if (seq.promptLogits && row.position + 1 < seq.promptLen &&
        row.position >= seq.promptLogitsDone) {
      req.promptLogprobs[row.position + 1] = rt::logprobsOf(
          logits, vocab, seq.tokens[row.position + 1], req.spec.promptLogprobs);
      seq.promptLogitsDone = row.position + 1;
    }
    if (!row.sample)
      continue;
    RequestEvent &event = events[&req];
    if (!req.promptLogprobs.empty() && !req.promptLogprobsSent) {
      event.promptLogprobs = req.promptLogprobs;
      req.promptLogprobsSent = true;
    }
    if (req.spec.n > 1 && !req.forked && req.spec.stop.maxTokens > 0)
      forkChildren(seq, logits, events);
    sampleAndAppend(seq, logits, event);
  }

  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ++metrics_.steps;
  if (decodeOnly) {
    ++metrics_.decodeSteps;
    metrics_.decodeSeconds += seconds;
  } else {
    ++metrics_.prefillSteps;
    metrics_.prefillSeconds += seconds;
  }
  for (auto &[req, event] : events)
    deliver(*req, event);
  return true;
}

MetricsSnapshot Engine::metrics() const {
  MetricsSnapshot m;
  static_cast<Metrics &>(m) = metrics_;
  m.running = static_cast<int64_t>(scheduler_.numRunning());
  m.waiting = static_cast<int64_t>(scheduler_.numWaiting());
  m.preempted = static_cast<int64_t>(scheduler_.numPreempted());
  m.preemptions = scheduler_.stats().preemptions;
  m.kvBlocksTotal = kv_.numBlocks();
  m.kvBlocksFree = kv_.numFreeBlocks();
  m.kvBlockSize = kv_.blockSize();
  m.prefixQueriedTokens = scheduler_.stats().prefixQueriedTokens;
  m.prefixHitTokens = scheduler_.stats().prefixHitTokens;
  return m;
}

} // namespace llmc::engine
