//===- Batch.cpp - llm-run batch: many requests from a JSONL file ---------===//
//
// Each input line is an OpenAI batch line ({"custom_id", "url", "body"}) or
// a bare request body (chat when it has "messages"). Results are written in
// input order, one line each ({"id", "custom_id", "response": {
// "status_code", "body"}, "error"}); an output file that already holds some
// lines is continued after them, so an interrupted run resumes without
// redoing finished lines.
//
//===----------------------------------------------------------------------===//
#include "Modes.h"
#include "runtime/engine/EngineLoop.h"
#include "runtime/support/Error.h"

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace llmc::tools {

namespace fs = std::filesystem;
using server::json;
using namespace std::chrono_literals;

namespace {

/// Complete lines already in `path`; cuts a partial last line off.
size_t resumePoint(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return 0;
  std::string line;
  size_t lines = 0;
  std::streamoff goodEnd = 0;
  while (std::getline(in, line)) {
    if (in.eof())
      break; // no newline: written in part
    if (!json::accept(line))
      break;
    ++lines;
    goodEnd = in.tellg();
  }
  in.close();
  if (static_cast<std::streamoff>(fs::file_size(path)) != goodEnd)
    fs::resize_file(path, static_cast<uintmax_t>(goodEnd));
  return lines;
}

struct Item {
  size_t line = 0;
  std::string customId;
  std::optional<json> done; // the output line, once known
  server::ParsedRequest req;
  std::vector<std::shared_ptr<engine::RequestStream>> streams;
  std::unique_ptr<server::ResponseBuilder> builder;
};

json resultLine(const Item &item, int status, const json &body) {
  json out;
  out["id"] = fmt::format("batch-req-{}", item.line);
  out["custom_id"] =
      item.customId.empty() ? json(nullptr) : json(item.customId);
  out["response"] = {{"status_code", status}, {"body", body}};
  out["error"] = nullptr;
  return out;
}

std::string duration(double s) {
  if (!(s >= 0) || s > 1e7)
    return "?";
  int64_t t = static_cast<int64_t>(s);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

} // namespace

int runBatch(const std::string &artifactDir, const std::string &weightsDir,
             const EngineOptions &engineOptions, const BatchArgs &args) {
  std::ifstream in(args.input);
  if (!in)
    rt::fail("{}: cannot open", args.input);
  size_t total = 0;
  {
    std::string line;
    while (std::getline(in, line))
      total += line.find_first_not_of(" \t\r") != std::string::npos;
    in.clear();
    in.seekg(0);
  }
  size_t skip = args.restart ? 0 : resumePoint(args.output);
  std::ofstream out(args.output, args.restart || skip == 0 ? std::ios::trunc
                                                           : std::ios::app);
  if (!out)
    rt::fail("{}: cannot write", args.output);
  if (skip)
    std::cerr << fmt::format("llm-run: {} already holds {} results; "
                             "continuing after them\n",
                             args.output, skip);

  Session session(artifactDir, engineOptions);
  std::unique_ptr<Front> front =
      makeFront(session, artifactDir, args.servedModelName, args.chatTemplate);
  const server::ServedModel &model = front->model;
  session.loadWeights(weightsDir);
  engine::EngineLoop loop(*session.engine);

  bool tty = isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto lastLog = start;
  size_t written = skip, lineNo = 0, consumed = 0;
  int64_t tokens = 0;
  size_t window = static_cast<size_t>(
      std::max<int64_t>(64, 2 * session.engine->config().scheduler.maxSeqs));
  std::deque<std::unique_ptr<Item>> pending;
  std::string line;
  bool eof = false;

  auto report = [&](bool final) {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - start).count();
    size_t doneNow = written - skip;
    double rate = s > 0 ? tokens / s : 0;
    double eta = doneNow ? s / doneNow * (total - written) : -1;
    std::string msg =
        fmt::format("batch: {}/{} requests, {:.1f} tokens/s, "
                    "elapsed {}, ETA {}",
                    written, total, rate, duration(s), duration(eta));
    if (tty) {
      std::cerr << "\r" << msg << "\033[K" << (final ? "\n" : "") << std::flush;
    } else if (final ||
               std::chrono::duration<double>(now - lastLog).count() >= 10) {
      std::cerr << "llm-run: " << msg << "\n";
      lastLog = now;
    }
  };

  while (true) {
    // Fill the window.
    while (!eof && pending.size() < window) {
      if (!std::getline(in, line)) {
        eof = true;
        break;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      ++lineNo;
      if (consumed < skip) {
        ++consumed;
        continue;
      }
      auto item = std::make_unique<Item>();
      item->line = lineNo;
      try {
        json parsed;
        try {
          parsed = json::parse(line);
        } catch (const json::exception &e) {
          throw server::ApiError(400, std::string("line is not valid JSON: ") +
                                          e.what());
        }
        json body = parsed;
        bool isChat = parsed.contains("messages");
        if (parsed.contains("body")) {
          body = parsed["body"];
          if (parsed.contains("custom_id") && parsed["custom_id"].is_string())
            item->customId = parsed["custom_id"].get<std::string>();
          std::string url = parsed.value("url", "/v1/completions");
          if (url != "/v1/completions" && url != "/v1/chat/completions")
            throw server::ApiError(400, "unsupported url '" + url + "'", "url");
          isChat = url == "/v1/chat/completions";
        }
        if (body.is_object() && body.contains("stream"))
          body.erase("stream");
        item->req = isChat ? server::parseChat(body, model)
                           : server::parseCompletion(body, model);
        std::string id = fmt::format("batch-{}", lineNo);
        item->builder = std::make_unique<server::ResponseBuilder>(
            item->req, model, id, server::unixTime());
        for (size_t i = 0; i < item->req.specs.size(); ++i) {
          engine::RequestSpec spec = item->req.specs[i];
          spec.id = id + "-" + std::to_string(i);
          try {
            item->streams.push_back(loop.submit(std::move(spec)));
          } catch (const rt::Error &e) {
            for (auto &s : item->streams)
              s->cancel();
            throw server::ApiError(400, e.what());
          }
        }
      } catch (const server::ApiError &e) {
        item->done = resultLine(*item, e.status, e.body());
      } catch (const rt::Error &e) {
        item->done =
            resultLine(*item, 400, server::ApiError(400, e.what()).body());
      }
      pending.push_back(std::move(item));
    }
    if (pending.empty())
      break;
    // Take what is ready; wait on the oldest when nothing is.
    bool progressed = false;
    for (auto &item : pending) {
      if (item->done)
        continue;
      for (size_t i = 0; i < item->streams.size(); ++i) {
        engine::RequestEvent e;
        while (!item->streams[i]->done() && item->streams[i]->next(e, 0ms)) {
          item->builder->add(i, e);
          progressed = true;
        }
      }
      bool all = std::all_of(item->streams.begin(), item->streams.end(),
                             [](auto &s) { return s->done(); });
      if (all) {
        if (item->builder->error())
          item->done = resultLine(*item, 500,
                                  server::ApiError(500, *item->builder->error(),
                                                   std::nullopt, "server_error")
                                      .body());
        else {
          json body = item->builder->response();
          tokens += body["usage"]["completion_tokens"].get<int64_t>();
          item->done = resultLine(*item, 200, body);
        }
      }
    }
    while (!pending.empty() && pending.front()->done) {
      out << pending.front()->done->dump(-1, ' ', false,
                                         json::error_handler_t::replace)
          << "\n";
      out.flush();
      ++written;
      pending.pop_front();
      progressed = true;
    }
    report(false);
    if (!progressed && !pending.empty()) {
      Item &head = *pending.front();
      for (size_t i = 0; i < head.streams.size(); ++i)
        if (!head.streams[i]->done()) {
          engine::RequestEvent e;
          if (head.streams[i]->next(e, 200ms))
            head.builder->add(i, e);
          break;
        }
    }
  }
  report(true);
  loop.shutdown(0ms);
  return 0;
}

} // namespace llmc::tools
