//===- HFImporter.cpp - build the tfm decoder step from a model config ----===//
#include "llmc/Import/HFImporter.h"

#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace llmc {
namespace {

/// Builds one step function and records, for every weight it names, where
/// the runtime finds it in the checkpoint and how to transform it.
class StepBuilder {
public:
  StepBuilder(MLIRContext &ctx, const ModelConfig &cfg,
              const ImportOptions &opts)
      : b(&ctx), loc(UnknownLoc::get(&ctx)), cfg(cfg), opts(opts),
        f32(b.getF32Type()), i32(b.getI32Type()) {}

  OwningOpRef<ModuleOp> build();

private:
  RankedTensorType rows(ArrayRef<int64_t> tail) {
    SmallVector<int64_t> shape{ShapedType::kDynamic};
    shape.append(tail.begin(), tail.end());
    return RankedTensorType::get(shape, f32);
  }

  /// A weight named `name` in the packed set, read from the first of
  /// `sources` the checkpoint has (default: `name`), transformed by
  /// `transform`.
  Value weight(StringRef name, ArrayRef<int64_t> shape,
               ArrayRef<std::string> sources = {},
               tfm::WeightTransform transform = tfm::WeightTransform::None) {
    SmallVector<StringAttr> srcs;
    if (!(sources.size() == 1 && sources[0] == name))
      for (const std::string &s : sources)
        srcs.push_back(b.getStringAttr(s));
    auto recipe = tfm::WeightRecipeAttr::get(
        b.getContext(), name, RankedTensorType::get(shape, f32), transform,
        srcs, /*parts=*/{}, /*shard=*/nullptr);
    return tfm::WeightOp::create(b, loc, recipe);
  }

  /// GPT-2 checkpoints exist with and without the `transformer.` prefix.
  Value
  gpt2Weight(StringRef suffix, ArrayRef<int64_t> shape,
             tfm::WeightTransform transform = tfm::WeightTransform::None) {
    std::string name = ("transformer." + suffix).str();
    return weight(name, shape, {name, suffix.str()}, transform);
  }

  Value linear(Value x, Value w, Value bias = {}) {
    auto wTy = cast<RankedTensorType>(w.getType());
    auto xTy = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(xTy.getShape());
    shape.back() = wTy.getDimSize(0);
    auto ty = RankedTensorType::get(shape, f32);
    return tfm::LinearOp::create(b, loc, ty, x, w, bias, /*residual=*/Value(),
                                 tfm::Epilogue::None);
  }

  Value reshape(Value x, ArrayRef<int64_t> tail) {
    return tfm::ReshapeOp::create(b, loc, rows(tail), x);
  }

  Value rope(Value x) {
    const RopeConfig &r = cfg.rope;
    tfm::RopeScaling scaling = scalingKind();
    auto f64 = [](double v) { return std::optional<APFloat>(APFloat(v)); };
    std::optional<APFloat> none;
    bool bands = scaling == tfm::RopeScaling::Llama3;
    bool orig = bands || scaling == tfm::RopeScaling::Dynamic;
    auto attr = tfm::RopeAttr::get(
        b.getContext(), APFloat(r.theta), r.rotaryDim, scaling,
        scaling == tfm::RopeScaling::Default ? none : f64(r.factor),
        bands ? f64(r.lowFreqFactor) : none,
        bands ? f64(r.highFreqFactor) : none,
        orig ? std::optional<int64_t>(r.originalMaxPositions) : std::nullopt);
    Value seq = attr.isDynamic() ? seqIds : Value();
    return tfm::RoPEOp::create(b, loc, x.getType(), x, positions, seq, attr);
  }

  tfm::RopeScaling scalingKind() {
    if (cfg.rope.type == "linear")
      return tfm::RopeScaling::Linear;
    if (cfg.rope.type == "llama3")
      return tfm::RopeScaling::Llama3;
    if (cfg.rope.type == "dynamic")
      return tfm::RopeScaling::Dynamic;
    return tfm::RopeScaling::Default;
  }

  /// Writes k/v into layer `l`'s caches and attends q to them.
  Value attention(int64_t l, Value q, Value k, Value v) {
    Value kc = tfm::KVCacheWriteOp::create(b, loc, keyCaches[l], k, slots);
    Value vc = tfm::KVCacheWriteOp::create(b, loc, valueCaches[l], v, slots);
    newCaches.push_back(kc);
    newCaches.push_back(vc);
    double scale = cfg.attentionScale;
    if (cfg.scaleByInverseLayerIdx)
      scale /= static_cast<double>(l + 1);
    auto op = tfm::AttentionOp::create(b, loc, q.getType(), q, kc, vc,
                                       blockTables, seqIds, positions,
                                       b.getF64FloatAttr(scale), nullptr);
    if (cfg.slidingWindow[l] > 0)
      op.setSlidingWindowAttr(b.getI64IntegerAttr(cfg.slidingWindow[l]));
    return reshape(op, {cfg.heads * cfg.headDim});
  }

  Value activation(Value x) {
    switch (cfg.activation) {
    case Activation::SiLU:
      return tfm::SiLUOp::create(b, loc, x);
    case Activation::GELU:
      return tfm::GELUOp::create(b, loc, x, tfm::GeluApproximation::None);
    case Activation::GELUTanh:
      return tfm::GELUOp::create(b, loc, x, tfm::GeluApproximation::Tanh);
    }
    return x;
  }

  /// Builds layer `l` with its ops located at `layer.<l>`, so that later
  /// passes and the compile report know which layer a kernel belongs to.
  Value inLayer(int64_t l, llvm::function_ref<Value()> build) {
    Location outer = loc;
    loc = NameLoc::get(b.getStringAttr(llvm::formatv("layer.{0}", l).str()),
                       outer);
    Value h = build();
    loc = outer;
    return h;
  }

  Value llamaLayer(int64_t l, Value h);
  Value gpt2Layer(int64_t l, Value h);
  tfm::ModelAttr modelFacts();

  OpBuilder b;
  Location loc;
  const ModelConfig &cfg;
  const ImportOptions &opts;
  Type f32, i32;
  Value tokenIds, positions, seqIds, slots, blockTables, logitsIndices;
  SmallVector<Value> keyCaches, valueCaches, newCaches;
};

Value StepBuilder::llamaLayer(int64_t l, Value h) {
  int64_t H = cfg.hidden, D = cfg.headDim, I = cfg.intermediate;
  int64_t qRows = cfg.heads * D, kvRows = cfg.kvHeads * D;
  std::string p = llvm::formatv("model.layers.{0}.", l).str();
  auto bias = [&](bool present, StringRef name, int64_t n) -> Value {
    return present ? weight(p + name.str(), {n}) : Value();
  };

  Value x = tfm::RMSNormOp::create(b, loc, h,
                                   weight(p + "input_layernorm.weight", {H}),
                                   b.getF64FloatAttr(cfg.normEps));
  // Weight then bias, in statement order (argument evaluation order is
  // unspecified and the IR must read the same everywhere).
  auto proj = [&](Value in, StringRef name, int64_t out, int64_t inDim,
                  bool hasBias) {
    Value w = weight(p + name.str() + ".weight", {out, inDim});
    Value bv = bias(hasBias, name.str() + ".bias", out);
    return linear(in, w, bv);
  };
  Value q = proj(x, "self_attn.q_proj", qRows, H, cfg.qkvBias);
  Value k = proj(x, "self_attn.k_proj", kvRows, H, cfg.qkvBias);
  Value v = proj(x, "self_attn.v_proj", kvRows, H, cfg.qkvBias);
  q = rope(reshape(q, {cfg.heads, D}));
  k = rope(reshape(k, {cfg.kvHeads, D}));
  v = reshape(v, {cfg.kvHeads, D});
  Value a = attention(l, q, k, v);
  Value o = proj(a, "self_attn.o_proj", H, qRows, cfg.outBias);
  h = tfm::AddOp::create(b, loc, h, o);

  Value y = tfm::RMSNormOp::create(
      b, loc, h, weight(p + "post_attention_layernorm.weight", {H}),
      b.getF64FloatAttr(cfg.normEps));
  Value g = proj(y, "mlp.gate_proj", I, H, cfg.mlpBias);
  Value u = proj(y, "mlp.up_proj", I, H, cfg.mlpBias);
  Value m = tfm::MulOp::create(b, loc, activation(g), u);
  Value d = proj(m, "mlp.down_proj", H, I, cfg.mlpBias);
  return tfm::AddOp::create(b, loc, h, d);
}

Value StepBuilder::gpt2Layer(int64_t l, Value h) {
  int64_t H = cfg.hidden, I = cfg.intermediate, D = cfg.headDim;
  std::string p = llvm::formatv("h.{0}.", l).str();
  // Weights are created in statement order so the IR reads the same on
  // every compiler (argument evaluation order is unspecified).
  auto norm = [&](Value x, StringRef which) -> Value {
    Value w = gpt2Weight(p + which.str() + ".weight", {H});
    Value bias = gpt2Weight(p + which.str() + ".bias", {H});
    return tfm::LayerNormOp::create(b, loc, x, w, bias,
                                    b.getF64FloatAttr(cfg.normEps));
  };
  // Conv1D stores [in, out]; the recipe transposes to linear's [out, in].
  auto conv = [&](Value x, StringRef name, int64_t out, int64_t in) {
    Value w = gpt2Weight(p + name.str() + ".weight", {out, in},
                         tfm::WeightTransform::Transpose);
    Value bias = gpt2Weight(p + name.str() + ".bias", {out});
    return linear(x, w, bias);
  };

  Value qkv = conv(norm(h, "ln_1"), "attn.c_attn", 3 * H, H);
  auto split =
      tfm::SplitOp::create(b, loc, TypeRange{rows({H}), rows({H}), rows({H})},
                           qkv, b.getI64IntegerAttr(1));
  Value q = reshape(split.getResult(0), {cfg.heads, D});
  Value k = reshape(split.getResult(1), {cfg.heads, D});
  Value v = reshape(split.getResult(2), {cfg.heads, D});
  Value a = attention(l, q, k, v);
  h = tfm::AddOp::create(b, loc, h, conv(a, "attn.c_proj", H, H));
  Value m = activation(conv(norm(h, "ln_2"), "mlp.c_fc", I, H));
  return tfm::AddOp::create(b, loc, h, conv(m, "mlp.c_proj", H, I));
}

tfm::ModelAttr StepBuilder::modelFacts() {
  return tfm::ModelAttr::get(
      b.getContext(), cfg.architectureName, cfg.dtype, cfg.hidden, cfg.layers,
      cfg.heads, cfg.kvHeads, cfg.headDim, cfg.vocab, cfg.maxPositions,
      b.getDenseI64ArrayAttr(cfg.eosTokenIds), cfg.bosTokenId);
}

OwningOpRef<ModuleOp> StepBuilder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());

  auto cache = RankedTensorType::get(
      {ShapedType::kDynamic, opts.kvBlockSize, cfg.kvHeads, cfg.headDim}, f32);
  SmallVector<RankedTensorType> caches(2 * cfg.layers, cache);
  auto func = func::FuncOp::create(
      b, loc, "step",
      tfm::StepSignature::getType(b.getContext(), cfg.vocab, caches));
  tfm::StepSignature::mark(func);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  tfm::StepSignature sig(func);
  tokenIds = sig.getInput(tfm::StepInput::TokenIds);
  positions = sig.getInput(tfm::StepInput::Positions);
  seqIds = sig.getInput(tfm::StepInput::SeqIds);
  slots = sig.getInput(tfm::StepInput::SlotMapping);
  blockTables = sig.getInput(tfm::StepInput::BlockTables);
  logitsIndices = sig.getInput(tfm::StepInput::LogitsIndices);
  for (int64_t l = 0; l < cfg.layers; ++l) {
    keyCaches.push_back(sig.getCache(2 * l));
    valueCaches.push_back(sig.getCache(2 * l + 1));
  }

  int64_t H = cfg.hidden, V = cfg.vocab;
  Value h, headWeight;
  if (cfg.arch == Architecture::GPT2) {
    Value wte = gpt2Weight("wte.weight", {V, H});
    Value wpe = gpt2Weight("wpe.weight", {cfg.maxPositions, H});
    Value tok = tfm::EmbeddingOp::create(b, loc, rows({H}), wte, tokenIds,
                                         IntegerAttr());
    Value pos = tfm::EmbeddingOp::create(b, loc, rows({H}), wpe, positions,
                                         IntegerAttr());
    h = tfm::AddOp::create(b, loc, tok, pos);
    for (int64_t l = 0; l < cfg.layers; ++l)
      h = inLayer(l, [&] { return gpt2Layer(l, h); });
    h = tfm::GatherLastTokensOp::create(b, loc, rows({H}), h, logitsIndices);
    Value lnW = gpt2Weight("ln_f.weight", {H});
    Value lnB = gpt2Weight("ln_f.bias", {H});
    h = tfm::LayerNormOp::create(b, loc, h, lnW, lnB,
                                 b.getF64FloatAttr(cfg.normEps));
    headWeight = cfg.tiedEmbeddings ? wte : weight("lm_head.weight", {V, H});
  } else {
    Value embed = weight("model.embed_tokens.weight", {V, H});
    h = tfm::EmbeddingOp::create(b, loc, rows({H}), embed, tokenIds,
                                 IntegerAttr());
    for (int64_t l = 0; l < cfg.layers; ++l)
      h = inLayer(l, [&] { return llamaLayer(l, h); });
    // Logits only for the rows that sample: norm and LM head after the
    // gather.
    h = tfm::GatherLastTokensOp::create(b, loc, rows({H}), h, logitsIndices);
    h = tfm::RMSNormOp::create(b, loc, h, weight("model.norm.weight", {H}),
                               b.getF64FloatAttr(cfg.normEps));
    headWeight = cfg.tiedEmbeddings ? embed : weight("lm_head.weight", {V, H});
  }
  SmallVector<Value> outs{linear(h, headWeight)};
  outs.append(newCaches.begin(), newCaches.end());
  func::ReturnOp::create(b, loc, outs);

  tfm::dialect(b.getContext())
      .getModelAttrHelper()
      .setAttr(*module, modelFacts());
  return module;
}

} // namespace

OwningOpRef<ModuleOp> importModel(MLIRContext &ctx, const ModelConfig &config,
                                  const ImportOptions &options) {
  ctx.loadDialect<tfm::TransformerDialect, func::FuncDialect>();
  return StepBuilder(ctx, config, options).build();
}

} // namespace llmc
