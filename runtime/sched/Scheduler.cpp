//===- Scheduler.cpp - iteration-level scheduling over a KV pool ----------===//
#include "runtime/sched/Scheduler.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace llmc::sched {

Policy parsePolicy(std::string_view name) {
  if (name == "fcfs")
    return Policy::Fcfs;
  if (name == "mlfq")
    return Policy::Mlfq;
  rt::fail("unknown scheduling policy '{}' (fcfs or mlfq)", name);
}

Scheduler::Scheduler(const SchedulerConfig &config, kv::KvCacheManager &kv)
    : config_(config), kv_(kv) {
  if (config.maxBatchTokens < 1 || config.maxSeqs < 1)
    rt::fail("the scheduler needs a token budget and a sequence limit of at "
             "least 1 (got {} and {})",
             config.maxBatchTokens, config.maxSeqs);
  if (!(config.watermark >= 0.0 && config.watermark < 1.0))
    rt::fail("the KV watermark must be in [0, 1), got {}", config.watermark);
  if (config.mlfqLevels < 1 || config.mlfqQuantum < 1 ||
      config.mlfqPromptTokens < 1 || config.mlfqStarvationSteps < 1)
    rt::fail("MLFQ levels, quantum, prompt tokens and starvation steps must "
             "be positive");
}

bool Scheduler::Key::operator<(const Key &o) const {
  if (level != o.level)
    return level < o.level;
  if (arrival != o.arrival)
    return arrival < o.arrival;
  return id < o.id;
}

Scheduler::Key Scheduler::keyOf(const Sequence &s) const {
  return {config_.policy == Policy::Mlfq ? s.level : 0, s.arrival, s.id};
}

int32_t Scheduler::watermarkBlocks() const {
  // An empty engine admits without a watermark, so that a sequence the pool
  // holds alone always runs.
  if (running_.empty())
    return 0;
  return static_cast<int32_t>(config_.watermark * kv_.numBlocks());
}

void Scheduler::insertSorted(std::vector<Sequence *> &queue, Sequence *s) {
  Key k = keyOf(*s);
  auto at = std::upper_bound(
      queue.begin(), queue.end(), k,
      [&](const Key &key, const Sequence *o) { return key < keyOf(*o); });
  queue.insert(at, s);
}

void Scheduler::enqueueWaiting(Sequence *s) { insertSorted(waiting_, s); }

Sequence &Scheduler::add(std::unique_ptr<Sequence> seq) {
  if (!seq || seq->tokens.empty())
    throw std::invalid_argument("Scheduler::add: a sequence needs tokens");
  if (seqs_.count(seq->id))
    throw std::invalid_argument("Scheduler::add: sequence " +
                                std::to_string(seq->id) + " exists");
  Sequence *s = seq.get();
  s->status = SeqStatus::Waiting;
  s->numComputed = 0;
  s->lastRunStep = step_;
  // Skip-join: the first level whose share of prompt tokens covers it.
  s->level = 0;
  int64_t covered = config_.mlfqPromptTokens;
  while (s->level + 1 < config_.mlfqLevels && s->promptLen > covered) {
    ++s->level;
    covered *= 2;
  }
  s->serviceInLevel = 0;
  seqs_.emplace(s->id, std::move(seq));
  enqueueWaiting(s);
  return *s;
}

Sequence &Scheduler::addForked(std::unique_ptr<Sequence> child, SeqId parent) {
  Sequence *p = get(parent);
  if (!p || p->status != SeqStatus::Running)
    throw std::invalid_argument("Scheduler::addForked: parent " +
                                std::to_string(parent) + " is not running");
  if (!child || seqs_.count(child->id) || !kv_.contains(child->id))
    throw std::invalid_argument("Scheduler::addForked: the child must be new "
                                "and hold the parent's blocks");
  Sequence *s = child.get();
  s->status = SeqStatus::Running;
  s->arrival = p->arrival;
  s->level = p->level;
  s->serviceInLevel = p->serviceInLevel;
  s->lastRunStep = p->lastRunStep;
  seqs_.emplace(s->id, std::move(child));
  insertSorted(running_, s);
  return *s;
}

Sequence *Scheduler::get(SeqId id) {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? nullptr : it->second.get();
}

size_t Scheduler::numPreempted() const {
  return static_cast<size_t>(
      std::count_if(waiting_.begin(), waiting_.end(), [](const Sequence *s) {
        return s->status == SeqStatus::Preempted;
      }));
}

void Scheduler::preempt(Sequence &s, SchedulerOutput &out) {
  kv_.free(s.id);
  s.numComputed = 0;
  s.status = SeqStatus::Preempted;
  ++s.numPreemptions;
  ++stats_.preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), &s));
  enqueueWaiting(&s);
  preemptedNow_.insert(s.id);
  out.preempted.push_back(s.id);
}

Sequence *Scheduler::victimFor(const Sequence &s) const {
  Key k = keyOf(s);
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    Sequence *v = *it;
    if (v != &s && !inStep_.count(v->id) && k < keyOf(*v))
      return v;
  }
  return nullptr;
}

bool Scheduler::allocate(Sequence &s, int64_t count, const kv::PrefixHit *hit,
                         int32_t keepFree, bool mayPreempt,
                         SchedulerOutput &out) {
  while (true) {
    if (auto copies = kv_.allocate(s.id, count, hit, keepFree)) {
      out.copies.insert(out.copies.end(), copies->begin(), copies->end());
      return true;
    }
    Sequence *victim = mayPreempt ? victimFor(s) : nullptr;
    if (!victim)
      return false;
    preempt(*victim, out);
  }
}

void Scheduler::schedule(Sequence &s, int64_t &budget, SchedulerOutput &out) {
  int64_t count = std::min(s.numTokens() - s.numComputed, budget);
  if (count <= 0)
    return;
  if (!allocate(s, count, nullptr, 0, /*mayPreempt=*/true, out)) {
    // Only sequences of higher priority hold the blocks: this one yields its
    // own, to be recomputed when they are done.
    preempt(s, out);
    return;
  }
  out.seqs.push_back(
      {&s, s.numComputed, count, s.numComputed + count == s.numTokens()});
  inStep_.insert(s.id);
  budget -= count;
  out.numTokens += count;
}

bool Scheduler::admit(Sequence &s, int64_t &budget, bool mayPreempt,
                      SchedulerOutput &out) {
  kv::PrefixHit hit;
  if (!s.promptLogits)
    hit = kv_.findCachedPrefix(s.tokens);
  int64_t count = std::min(s.numTokens() - hit.tokens, budget);
  if (!allocate(s, count, &hit, watermarkBlocks(), mayPreempt, out))
    return false;
  if (kv_.prefixCaching()) {
    stats_.prefixQueriedTokens += s.numTokens();
    stats_.prefixHitTokens += hit.tokens;
  }
  s.numComputed = hit.tokens;
  s.status = SeqStatus::Running;
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &s));
  insertSorted(running_, &s);
  out.seqs.push_back(
      {&s, s.numComputed, count, s.numComputed + count == s.numTokens()});
  inStep_.insert(s.id);
  budget -= count;
  out.numTokens += count;
  return true;
}

void Scheduler::scheduleFcfs(SchedulerOutput &out) {
  int64_t budget = config_.maxBatchTokens;
  std::vector<Sequence *> snapshot = running_;
  auto decoding = [](const Sequence *s) {
    return s->status == SeqStatus::Running &&
           s->numTokens() - s->numComputed == 1;
  };
  // Running sequences in priority order, so that KV goes to the oldest
  // first and only younger ones are ever preempted for it; a prefill chunk
  // leaves one token of the budget to every decode behind it, so a long
  // prompt never stalls running decodes.
  for (size_t i = 0; i < snapshot.size() && budget > 0; ++i) {
    Sequence *s = snapshot[i];
    if (s->status != SeqStatus::Running)
      continue;
    if (decoding(s)) {
      schedule(*s, budget, out);
      continue;
    }
    int64_t reserve =
        std::count_if(snapshot.begin() + i + 1, snapshot.end(), decoding);
    int64_t share = std::min(budget, std::max<int64_t>(budget - reserve, 0));
    if (share == 0)
      continue;
    int64_t rest = budget - share;
    schedule(*s, share, out);
    budget = share + rest;
  }
  // New sequences only when nothing had to be preempted.
  while (out.preempted.empty() && !waiting_.empty() && budget > 0 &&
         static_cast<int64_t>(running_.size()) < config_.maxSeqs)
    if (!admit(*waiting_.front(), budget, /*mayPreempt=*/false, out))
      break;
}

void Scheduler::scheduleMlfq(SchedulerOutput &out) {
  int64_t budget = config_.maxBatchTokens;
  std::vector<Sequence *> order = running_;
  order.insert(order.end(), waiting_.begin(), waiting_.end());
  std::sort(order.begin(), order.end(),
            [&](Sequence *a, Sequence *b) { return keyOf(*a) < keyOf(*b); });
  for (Sequence *s : order) {
    if (budget == 0)
      break;
    if (s->status == SeqStatus::Running) {
      if (!inStep_.count(s->id))
        schedule(*s, budget, out);
      continue;
    }
    if (preemptedNow_.count(s->id))
      continue;
    if (static_cast<int64_t>(running_.size()) >= config_.maxSeqs) {
      Sequence *victim = victimFor(*s);
      if (!victim)
        break;
      preempt(*victim, out);
    }
    if (!admit(*s, budget, /*mayPreempt=*/true, out))
      break;
  }
}

void Scheduler::account(const SchedulerOutput &out) {
  if (config_.policy != Policy::Mlfq)
    return;
  for (const ScheduledSeq &ss : out.seqs) {
    Sequence &s = *ss.seq;
    s.lastRunStep = step_;
    // Service is counted in tokens generated: a step that only recomputes
    // or prefills uses none of the quantum, so a sequence that is preempted
    // and resumed always gets to generate before it can be demoted.
    if (!ss.sample)
      continue;
    int64_t quantum = config_.mlfqQuantum << std::min(s.level, 30);
    if (++s.serviceInLevel >= quantum && s.level + 1 < config_.mlfqLevels) {
      ++s.level;
      s.serviceInLevel = 0;
    }
  }
  for (auto &[id, seq] : seqs_)
    if (!inStep_.count(id) &&
        step_ - seq->lastRunStep > config_.mlfqStarvationSteps) {
      seq->level = 0;
      seq->serviceInLevel = 0;
      seq->lastRunStep = step_;
    }
  auto byKey = [&](Sequence *a, Sequence *b) { return keyOf(*a) < keyOf(*b); };
  std::stable_sort(running_.begin(), running_.end(), byKey);
  std::stable_sort(waiting_.begin(), waiting_.end(), byKey);
}

SchedulerOutput Scheduler::schedule() {
  ++step_;
  inStep_.clear();
  preemptedNow_.clear();
  SchedulerOutput out;
  if (config_.policy == Policy::Mlfq)
    scheduleMlfq(out);
  else
    scheduleFcfs(out);
  account(out);
  return out;
}

void Scheduler::update(const SchedulerOutput &out) {
  for (const ScheduledSeq &ss : out.seqs) {
    Sequence &s = *ss.seq;
    if (s.status != SeqStatus::Running || s.numComputed != ss.start)
      throw std::logic_error("Scheduler::update: sequence " +
                             std::to_string(s.id) +
                             " changed since it was scheduled");
    s.numComputed += ss.count;
    kv_.cacheComputed(s.id, s.tokens, s.numComputed);
  }
}

void Scheduler::finish(SeqId id, SeqStatus status) {
  if (status != SeqStatus::Finished && status != SeqStatus::Aborted)
    throw std::invalid_argument("Scheduler::finish: not a final status");
  auto it = seqs_.find(id);
  if (it == seqs_.end())
    return;
  Sequence *s = it->second.get();
  kv_.free(id);
  if (auto r = std::find(running_.begin(), running_.end(), s);
      r != running_.end())
    running_.erase(r);
  if (auto w = std::find(waiting_.begin(), waiting_.end(), s);
      w != waiting_.end())
    waiting_.erase(w);
  seqs_.erase(it);
}

void Scheduler::verify() const {
  auto bad = [](const std::string &what) {
    throw std::logic_error("scheduler: " + what);
  };
  if (running_.size() + waiting_.size() != seqs_.size())
    bad("queues hold " + std::to_string(running_.size() + waiting_.size()) +
        " sequences of " + std::to_string(seqs_.size()));
  if (static_cast<int64_t>(running_.size()) > config_.maxSeqs)
    bad("more running sequences than --max-seqs");
  for (const Sequence *s : running_) {
    if (s->status != SeqStatus::Running)
      bad("sequence " + std::to_string(s->id) + " is running but " +
          std::string(nameOf(s->status)));
    if (!kv_.contains(s->id) || kv_.numTokens(s->id) < s->numComputed)
      bad("running sequence " + std::to_string(s->id) +
          " holds no KV for what it computed");
  }
  for (const Sequence *s : waiting_) {
    if (s->status != SeqStatus::Waiting && s->status != SeqStatus::Preempted)
      bad("sequence " + std::to_string(s->id) + " waits but is " +
          std::string(nameOf(s->status)));
    if (kv_.contains(s->id) || s->numComputed != 0)
      bad("waiting sequence " + std::to_string(s->id) + " holds KV");
  }
  auto sorted = [&](const std::vector<Sequence *> &q) {
    for (size_t i = 1; i < q.size(); ++i)
      if (keyOf(*q[i]) < keyOf(*q[i - 1]))
        return false;
    return true;
  };
  if (!sorted(running_) || !sorted(waiting_))
    bad("a queue is out of priority order");
}

} // namespace llmc::sched
