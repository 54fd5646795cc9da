//===- TransformerAttrs.cpp - tfm typed attributes: verifiers, formats ----===//
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

#include <cmath>

using namespace mlir;

namespace llmc::tfm {

//===----------------------------------------------------------------------===//
// RopeAttr
//===----------------------------------------------------------------------===//

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat thetaF, int64_t rotaryDim,
                               RopeScaling scaling,
                               std::optional<APFloat> factorF,
                               std::optional<APFloat> lowFreqFactorF,
                               std::optional<APFloat> highFreqFactorF,
                               std::optional<int64_t> originalMaxPositions) {
  auto asDouble = [](std::optional<APFloat> f) -> std::optional<double> {
    if (!f)
      return std::nullopt;
    return f->convertToDouble();
  };
  double theta = thetaF.convertToDouble();
  std::optional<double> factor = asDouble(factorF),
                        lowFreqFactor = asDouble(lowFreqFactorF),
                        highFreqFactor = asDouble(highFreqFactorF);
  if (!(theta > 0.0))
    return emitError() << "rope theta must be positive, got " << theta;
  if (rotaryDim <= 0 || rotaryDim % 2 != 0)
    return emitError() << "rope rotary_dim must be positive and even, got "
                       << rotaryDim;
  StringRef kind = stringifyRopeScaling(scaling);
  // Exactly the parameters the scaling uses, with sane values.
  bool wantFactor = scaling != RopeScaling::Default;
  bool wantBands = scaling == RopeScaling::Llama3;
  bool wantOrig =
      scaling == RopeScaling::Llama3 || scaling == RopeScaling::Dynamic;
  auto check = [&](bool present, bool wanted, StringRef name) -> LogicalResult {
    if (present == wanted)
      return success();
    if (wanted)
      return emitError() << "rope scaling '" << kind << "' requires '" << name
                         << "'";
    return emitError() << "rope scaling '" << kind << "' does not use '" << name
                       << "'";
  };
  if (failed(check(factor.has_value(), wantFactor, "factor")) ||
      failed(check(lowFreqFactor.has_value(), wantBands, "low_freq_factor")) ||
      failed(
          check(highFreqFactor.has_value(), wantBands, "high_freq_factor")) ||
      failed(check(originalMaxPositions.has_value(), wantOrig,
                   "original_max_positions")))
    return failure();
  if (factor && !(*factor > 0.0))
    return emitError() << "rope factor must be positive, got " << *factor;
  if (originalMaxPositions && *originalMaxPositions <= 0)
    return emitError() << "rope original_max_positions must be positive, got "
                       << *originalMaxPositions;
  if (wantBands && !(*lowFreqFactor > 0.0 && *highFreqFactor > *lowFreqFactor))
    return emitError() << "rope high_freq_factor must exceed low_freq_factor "
                          "(both positive)";
  if (scaling == RopeScaling::Dynamic && rotaryDim <= 2)
    return emitError() << "rope scaling 'dynamic' needs rotary_dim > 2";
  return success();
}

SmallVector<float> RopeAttr::getInverseFrequencies() const {
  int64_t rot = getRotaryDim();
  SmallVector<float> inv(rot / 2);
  for (int64_t i = 0; i < rot / 2; ++i) {
    double f =
        1.0 / std::pow(getThetaValue(), static_cast<double>(2 * i) / rot);
    switch (getScaling()) {
    case RopeScaling::Linear:
      f /= getFactorValue();
      break;
    case RopeScaling::Llama3: {
      double old = static_cast<double>(*getOriginalMaxPositions());
      double lo = getLowFreqFactor()->convertToDouble();
      double hi = getHighFreqFactor()->convertToDouble();
      double wavelen = 2 * M_PI / f;
      if (wavelen > old / lo) {
        f /= getFactorValue();
      } else if (wavelen >= old / hi) {
        double smooth = (old / wavelen - lo) / (hi - lo);
        f = (1 - smooth) * f / getFactorValue() + smooth * f;
      }
      break;
    }
    case RopeScaling::Default:
    case RopeScaling::Dynamic:
      break;
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

//===----------------------------------------------------------------------===//
// ShardAttr, WeightRecipeAttr
//===----------------------------------------------------------------------===//

LogicalResult ShardAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t axis, int64_t index, int64_t count) {
  if (axis < 0)
    return emitError() << "shard axis must be non-negative, got " << axis;
  if (count < 1 || index < 0 || index >= count)
    return emitError() << "shard index " << index << " must be in [0, " << count
                       << ")";
  return success();
}

LogicalResult WeightRecipeAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, StringRef name,
    RankedTensorType type, WeightTransform transform,
    ArrayRef<StringAttr> sources, ArrayRef<Attribute> parts, ShardAttr shard) {
  if (name.empty())
    return emitError() << "weight recipe name must not be empty";
  auto where = [&]() {
    return emitError() << "weight recipe '" << name << "': ";
  };
  if (!type || !type.hasStaticShape() ||
      !(type.getElementType().isF32() || type.getElementType().isBF16() ||
        type.getElementType().isF16() || type.getElementType().isInteger(8)))
    return where() << "type must be a static f32, bf16, f16 or i8 tensor, got "
                   << type;
  // int8 rows: [N, K + 4], K values then the row's f32 scale, quantized at
  // load from the f32 matrix [N, K] the rest of the recipe describes.
  bool int8 = type.getElementType().isInteger(8);
  if (int8 && (type.getRank() != 2 || type.getDimSize(1) <= 4))
    return where() << "an i8 (int8 rows) recipe is [rows, k + 4] with k >= 1, "
                      "got "
                   << type;
  for (int64_t d : type.getShape())
    if (d <= 0)
      return where() << "shape must be positive";
  for (StringAttr s : sources)
    if (!s || s.getValue().empty())
      return where() << "sources must be non-empty names";
  if (transform == WeightTransform::Concat) {
    if (parts.empty())
      return where() << "transform 'concat' needs parts";
    if (!sources.empty())
      return where() << "a concat takes its parts, not sources";
    int64_t rows = 0;
    for (Attribute a : parts) {
      auto part = dyn_cast<WeightRecipeAttr>(a);
      if (!part)
        return where() << "parts must be #tfm.recipe attributes";
      if (part.getTransform() == WeightTransform::Concat)
        return where() << "part '" << part.getName()
                       << "' must be a checkpoint tensor, not a concat";
      RankedTensorType pt = part.getType();
      // int8 rows are quantized from the stacked f32 parts.
      SmallVector<int64_t> rowShape(type.getShape().drop_front());
      if (int8)
        rowShape.back() -= 4;
      if (type.getRank() == 0 || pt.getRank() != type.getRank() ||
          (int8 ? !pt.getElementType().isF32()
                : pt.getElementType() != type.getElementType()) ||
          pt.getShape().drop_front() != ArrayRef<int64_t>(rowShape))
        return where() << "part '" << part.getName() << "' of type " << pt
                       << " does not stack along dimension 0 into " << type;
      rows += pt.getDimSize(0);
    }
    if (rows != type.getDimSize(0))
      return where() << "parts stack to " << rows << " rows, not "
                     << type.getDimSize(0);
    if (shard)
      return where() << "a concat is not sharded; its parts are";
  } else if (!parts.empty()) {
    return where() << "only transform 'concat' takes parts";
  }
  if (transform == WeightTransform::Transpose && type.getRank() != 2)
    return where() << "transform 'transpose' needs a 2-D tensor";
  if (shard && shard.getAxis() >= type.getRank())
    return where() << "shard axis " << shard.getAxis()
                   << " is out of range for " << type;
  return success();
}

SmallVector<StringRef> WeightRecipeAttr::getSourceNames() const {
  SmallVector<StringRef> out;
  for (StringAttr s : getSources())
    out.push_back(s.getValue());
  if (out.empty() && getTransform() != WeightTransform::Concat)
    out.push_back(getName());
  return out;
}

bool WeightRecipeAttr::isTrivial() const {
  return getTransform() == WeightTransform::None && getSources().empty() &&
         getParts().empty() && !getShard();
}

void WeightRecipeAttr::printFields(AsmPrinter &p) const {
  if (getTransform() != WeightTransform::None)
    p << ", transform = " << stringifyWeightTransform(getTransform());
  auto printList = [&](StringRef key, auto range) {
    p << ", " << key << " = [";
    llvm::interleaveComma(range, p, [&](auto a) { p.printAttribute(a); });
    p << "]";
  };
  if (!getSources().empty())
    printList("sources", getSources());
  if (!getParts().empty())
    printList("parts", getParts());
  if (getShard()) {
    p << ", shard = ";
    getShard().print(p);
  }
}

ParseResult WeightRecipeAttr::parseFields(AsmParser &parser,
                                          WeightTransform &transform,
                                          SmallVectorImpl<StringAttr> &sources,
                                          SmallVectorImpl<Attribute> &parts,
                                          ShardAttr &shard) {
  transform = WeightTransform::None;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    if (key == "transform") {
      StringRef value;
      SMLoc loc = parser.getCurrentLocation();
      if (parser.parseKeyword(&value))
        return failure();
      std::optional<WeightTransform> t = symbolizeWeightTransform(value);
      if (!t)
        return parser.emitError(loc) << "unknown weight transform '" << value
                                     << "' (none, transpose, concat)";
      transform = *t;
    } else if (key == "sources" || key == "parts") {
      // `[a, b, ...]`: string names, or recipes.
      if (parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square, [&]() -> ParseResult {
                Attribute a;
                if (parser.parseAttribute(a))
                  return failure();
                if (key == "parts") {
                  parts.push_back(a);
                  return success();
                }
                auto name = dyn_cast<StringAttr>(a);
                if (!name)
                  return parser.emitError(parser.getCurrentLocation())
                         << "sources are tensor names (strings)";
                sources.push_back(name);
                return success();
              }))
        return failure();
    } else if (key == "shard") {
      // The short form `<...>`: a full `#tfm.shard<...>` would take the
      // `: type` after it (tfm.weight's) as its own.
      if (parser.parseCustomAttributeWithFallback(shard))
        return failure();
    } else {
      return parser.emitError(parser.getCurrentLocation())
             << "unknown weight recipe field '" << key
             << "' (transform, sources, parts, shard)";
    }
  }
  return success();
}

void WeightRecipeAttr::print(AsmPrinter &p) const {
  p << "<";
  p.printString(getName());
  p << " : " << getType();
  printFields(p);
  p << ">";
}

Attribute WeightRecipeAttr::parse(AsmParser &parser, Type) {
  std::string name;
  RankedTensorType type;
  WeightTransform transform;
  SmallVector<StringAttr> sources;
  SmallVector<Attribute> parts;
  ShardAttr shard;
  if (parser.parseLess() || parser.parseString(&name) || parser.parseColon() ||
      parser.parseType(type) ||
      parseFields(parser, transform, sources, parts, shard) ||
      parser.parseGreater())
    return {};
  return WeightRecipeAttr::getChecked(
      [&] { return parser.emitError(parser.getNameLoc()); },
      parser.getContext(), StringRef(name), type, transform,
      ArrayRef<StringAttr>(sources), ArrayRef<Attribute>(parts), shard);
}

//===----------------------------------------------------------------------===//
// CPUKernelConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult
CPUKernelConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            ParallelDim, int64_t vectorWidth, int64_t rowBlock,
                            int64_t channelBlock, int64_t tileRows) {
  if (vectorWidth < 1)
    return emitError() << "cpu_kernel vector_width must be positive";
  if (rowBlock < 1 || channelBlock < 1)
    return emitError() << "cpu_kernel row_block and channel_block must be "
                          "positive";
  if (tileRows < 0 || tileRows % rowBlock != 0)
    return emitError() << "cpu_kernel tile_rows (" << tileRows
                       << ") must be a non-negative multiple of row_block ("
                       << rowBlock << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// CUDAKernelConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult
CUDAKernelConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             ParallelDim, CUDAStrategy, int64_t threads,
                             int64_t vectorWidth, int64_t rowBlock,
                             int64_t channelBlock, int64_t tileRows) {
  if (threads < 32 || threads > 1024 || threads % 32 != 0)
    return emitError() << "cuda_kernel threads (" << threads
                       << ") must be a multiple of 32 in [32, 1024]";
  if (vectorWidth < 1 || rowBlock < 1 || channelBlock < 1)
    return emitError() << "cuda_kernel vector_width, row_block and "
                          "channel_block must be positive";
  if (tileRows < 0 || tileRows % rowBlock != 0)
    return emitError() << "cuda_kernel tile_rows (" << tileRows
                       << ") must be a non-negative multiple of row_block ("
                       << rowBlock << ")";
  return success();
}

} // namespace llmc::tfm
